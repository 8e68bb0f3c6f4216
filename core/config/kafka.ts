import { z } from 'zod'
import { flag, hostPort, integer, isProduction, type RawEnvironment, rawFlag } from './fields.ts'

export const kafkaLocalDefaults = { VERIDIS_KAFKA_BROKERS: '127.0.0.1:19092' } as const
export const kafkaSecrets = ['VERIDIS_KAFKA_SASL_PASSWORD'] as const

export const kafkaVariables = {
  VERIDIS_KAFKA_BROKERS: z
    .string()
    .transform((value) => value.split(',').map((entry) => entry.trim()))
    .pipe(z.array(hostPort).min(1)),
  VERIDIS_KAFKA_CONTROLLER_PORT: integer(1, 65535).default(19093),
  VERIDIS_KAFKA_CLIENT_ID: z.string().min(1).optional(),
  VERIDIS_KAFKA_SSL: flag.default(false),
  VERIDIS_KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  VERIDIS_KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  VERIDIS_KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  // The client the bus producer writes with (core/bus/producer.ts): kafkajs, or librdkafka
  // built into the native cache by infra/stack/native/kafka-javascript.sh (docs/operations.md).
  VERIDIS_KAFKA_TRANSPORT: z.enum(['kafkajs', 'librdkafka']).default('kafkajs'),
}

type KafkaEnvironment = z.infer<z.ZodObject<typeof kafkaVariables>>

export interface KafkaConfig {
  readonly brokers: readonly string[]
  readonly controllerPort: number
  readonly clientId: string | undefined
  readonly ssl: boolean
  /** The bus producer's client; consumers and admin calls use kafkajs either way. */
  readonly transport: 'kafkajs' | 'librdkafka'
  readonly sasl:
    | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
    | undefined
}

export function kafkaProblems(raw: RawEnvironment): string[] {
  const problems: string[] = []
  if (raw.VERIDIS_KAFKA_SASL_USERNAME && !raw.VERIDIS_KAFKA_SASL_PASSWORD)
    problems.push('VERIDIS_KAFKA_SASL_PASSWORD: missing secret (VERIDIS_KAFKA_SASL_USERNAME is set)')
  if (raw.VERIDIS_KAFKA_SASL_PASSWORD && !raw.VERIDIS_KAFKA_SASL_USERNAME)
    problems.push('VERIDIS_KAFKA_SASL_USERNAME: missing (VERIDIS_KAFKA_SASL_PASSWORD is set)')
  if (raw.VERIDIS_KAFKA_SASL_USERNAME && !raw.VERIDIS_KAFKA_SASL_MECHANISM) {
    problems.push('VERIDIS_KAFKA_SASL_MECHANISM: missing (SASL credentials are set)')
  }
  if (raw.VERIDIS_KAFKA_SASL_MECHANISM && !raw.VERIDIS_KAFKA_SASL_USERNAME) {
    problems.push('VERIDIS_KAFKA_SASL_USERNAME: missing (VERIDIS_KAFKA_SASL_MECHANISM is set)')
  }
  if (!isProduction(raw)) return problems
  // The command topic carries sealed personal data and the audit topic the compliance trail:
  // outside the local profile, whoever connects must say who they are, over TLS.
  if (!raw.VERIDIS_KAFKA_SASL_MECHANISM && !raw.VERIDIS_KAFKA_SASL_USERNAME) {
    problems.push(
      'VERIDIS_KAFKA_SASL_MECHANISM: required in production (with _USERNAME and _PASSWORD): an unauthenticated broker connection is refused',
    )
  }
  if (!rawFlag(raw.VERIDIS_KAFKA_SSL)) {
    problems.push(
      raw.VERIDIS_KAFKA_SASL_MECHANISM === 'plain'
        ? 'VERIDIS_KAFKA_SSL: SASL PLAIN sends the password in clear; production requires SSL with it'
        : 'VERIDIS_KAFKA_SSL: required in production (true): broker traffic is not sent in clear',
    )
  }
  return problems
}

export function kafkaConfig(env: KafkaEnvironment): KafkaConfig {
  return {
    brokers: env.VERIDIS_KAFKA_BROKERS,
    controllerPort: env.VERIDIS_KAFKA_CONTROLLER_PORT,
    clientId: env.VERIDIS_KAFKA_CLIENT_ID,
    ssl: env.VERIDIS_KAFKA_SSL,
    transport: env.VERIDIS_KAFKA_TRANSPORT,
    sasl:
      env.VERIDIS_KAFKA_SASL_MECHANISM && env.VERIDIS_KAFKA_SASL_USERNAME && env.VERIDIS_KAFKA_SASL_PASSWORD
        ? {
            mechanism: env.VERIDIS_KAFKA_SASL_MECHANISM,
            username: env.VERIDIS_KAFKA_SASL_USERNAME,
            password: env.VERIDIS_KAFKA_SASL_PASSWORD,
          }
        : undefined,
  }
}
