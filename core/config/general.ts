import path from 'node:path'
import { z } from 'zod'
import { PROJECT_ROOT } from '../paths.ts'
import { httpUrl, integer } from './fields.ts'

/** What every process needs whatever it does: the profile, logging, where state lives, shutdown. */
export const generalVariables = {
  VERIDIS_ENV: z.enum(['development', 'test', 'production']).default('development'),
  VERIDIS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VERIDIS_HOME: z.string().min(1).default(path.join(PROJECT_ROOT, '.veridis')),
  VERIDIS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits and dashes (at most 40)')
    .optional(),
  VERIDIS_SHUTDOWN_GRACE_MS: integer(1_000, 600_000).default(15_000),
  /** Where /health, /ready and /metrics listen: loopback here, 0.0.0.0 in a pod (kubelet probes). */
  VERIDIS_OPS_HOST: z.string().min(1).default('127.0.0.1'),
  /** OTLP/HTTP collector base URL (spans go to `<url>/v1/traces`); unset, tracing is off. */
  VERIDIS_OTLP_ENDPOINT: httpUrl.optional(),
  /** Share of new traces recorded (a continued trace follows its parent's decision). */
  VERIDIS_TRACE_SAMPLE_RATIO: z.coerce
    .number({ error: 'must be a number from 0 to 1' })
    .min(0, 'must be a number from 0 to 1')
    .max(1, 'must be a number from 0 to 1')
    .default(1),
}

type GeneralEnvironment = z.infer<z.ZodObject<typeof generalVariables>>

export interface GeneralConfig {
  readonly env: GeneralEnvironment['VERIDIS_ENV']
  readonly logLevel: GeneralEnvironment['VERIDIS_LOG_LEVEL']
  readonly home: string
  /** Prefix for topic names and consumer groups, so several pipelines (or test runs) share one cluster. */
  readonly namespace: string | undefined
  readonly shutdownGraceMs: number
  readonly opsHost: string
  /** Where spans are exported (core/tracing/tracing.ts); undefined keeps tracing off. */
  readonly otlpEndpoint: string | undefined
  /** Share of traces started here that are recorded; 1 records every one. */
  readonly traceSampleRatio: number
}

export function generalConfig(env: GeneralEnvironment): GeneralConfig {
  return {
    env: env.VERIDIS_ENV,
    logLevel: env.VERIDIS_LOG_LEVEL,
    home: path.resolve(env.VERIDIS_HOME),
    namespace: env.VERIDIS_NAMESPACE,
    shutdownGraceMs: env.VERIDIS_SHUTDOWN_GRACE_MS,
    opsHost: env.VERIDIS_OPS_HOST,
    otlpEndpoint: env.VERIDIS_OTLP_ENDPOINT,
    traceSampleRatio: env.VERIDIS_TRACE_SAMPLE_RATIO,
  }
}
