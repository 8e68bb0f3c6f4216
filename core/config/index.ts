import { z } from 'zod'
import { NonRetryableError } from '../errors.ts'
import { type AuditConfig, auditConfig, auditProblems, auditSecrets, auditVariables } from './audit.ts'
import { chainsConfig, chainsVariables } from './chains.ts'
import { type ConsumerConfig, consumerConfig, consumerProblems, consumerVariables } from './consumer.ts'
import {
  type DatabaseConfig,
  databaseConfig,
  databaseLocalDefaults,
  databaseProblems,
  databaseSecrets,
  databaseVariables,
} from './database.ts'
import type { RawEnvironment } from './fields.ts'
import {
  type GatewayConfig,
  gatewayConfig,
  gatewayProblems,
  gatewaySecrets,
  gatewayVariables,
} from './gateway.ts'
import { type GeneralConfig, generalConfig, generalVariables } from './general.ts'
import {
  type KafkaConfig,
  kafkaConfig,
  kafkaLocalDefaults,
  kafkaProblems,
  kafkaSecrets,
  kafkaVariables,
} from './kafka.ts'
import { type LagMonitorConfig, lagConfig, lagVariables } from './lag.ts'
import {
  registryConfig,
  registryLocalDefaults,
  registryProblems,
  registrySecrets,
  registryVariables,
  type SchemaRegistryConfig,
} from './registry.ts'
import {
  type RelayerConfig,
  relayerConfig,
  relayerProblems,
  relayerSecrets,
  relayerVariables,
} from './relayer.ts'
import { type TopicsConfig, topicsConfig, topicsProblems, topicsVariables } from './topics.ts'
import { type ZkConfig, zkConfig, zkSecrets, zkVariables } from './zk.ts'

/**
 * Configuration comes from VERIDIS_* environment variables only, validated once at
 * start-up. Every problem is reported on its own line naming the variable; values of
 * secret variables are never echoed. Each section (one file per part of the pipeline)
 * declares its variables, defaults, secrets and the checks between its variables; this
 * file composes them.
 */

/** Defaults that only suit a developer machine: production must name its own. */
const LOCAL_DEFAULTS: Readonly<Record<string, string>> = {
  ...kafkaLocalDefaults,
  ...registryLocalDefaults,
  ...databaseLocalDefaults,
}

const SECRET_VARIABLES = new Set<string>([
  ...databaseSecrets,
  ...kafkaSecrets,
  ...registrySecrets,
  ...gatewaySecrets,
  ...relayerSecrets,
  ...auditSecrets,
  ...zkSecrets,
])

/** Every variable that holds a secret: deployments reference them from a Secret, never inline. */
export const SECRET_VARIABLE_NAMES: readonly string[] = [...SECRET_VARIABLES]

const environmentSchema = z.object({
  ...generalVariables,
  ...kafkaVariables,
  ...registryVariables,
  ...databaseVariables,
  ...chainsVariables,
  ...topicsVariables,
  ...consumerVariables,
  ...lagVariables,
  ...zkVariables,
  ...gatewayVariables,
  ...relayerVariables,
  ...auditVariables,
})

/**
 * Checks between variables, on the raw values, so they are reported even when other
 * variables are invalid too (zod skips object refinements once a field fails).
 */
const CROSS_FIELD_CHECKS: readonly ((raw: RawEnvironment) => string[])[] = [
  kafkaProblems,
  registryProblems,
  databaseProblems,
  topicsProblems,
  consumerProblems,
  relayerProblems,
  gatewayProblems,
  auditProblems,
]

export interface Config extends GeneralConfig {
  readonly kafka: KafkaConfig
  readonly schemaRegistry: SchemaRegistryConfig
  readonly database: DatabaseConfig
  readonly chains: readonly string[]
  readonly topics: TopicsConfig
  readonly consumer: ConsumerConfig
  readonly lagMonitor: LagMonitorConfig
  readonly gateway: GatewayConfig
  readonly relayer: RelayerConfig
  readonly audit: AuditConfig
  readonly zk: ZkConfig
}

export type {
  AuditConfig,
  ConsumerConfig,
  DatabaseConfig,
  GatewayConfig,
  KafkaConfig,
  LagMonitorConfig,
  RelayerConfig,
  SchemaRegistryConfig,
  TopicsConfig,
  ZkConfig,
}

export class ConfigError extends NonRetryableError {
  override name = 'ConfigError'
  constructor(readonly problems: readonly string[]) {
    super(`configuration is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
  }
}

/** Reads and validates the configuration; throws one ConfigError listing every problem. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(source)) {
    if (name.startsWith('VERIDIS_') && value !== undefined && value !== '') raw[name] = value
  }
  const production = raw.VERIDIS_ENV === 'production'
  const problems: string[] = []
  for (const [name, fallback] of Object.entries(LOCAL_DEFAULTS)) {
    if (raw[name] !== undefined) continue
    if (production)
      problems.push(
        `${name}: required in production (the local default ${SECRET_VARIABLES.has(name) ? '' : `'${fallback}' `}only suits a developer machine)`,
      )
    else raw[name] = fallback
  }

  const parsed = environmentSchema.safeParse(raw)
  if (!parsed.success) {
    const reported = new Set(problems.map((problem) => problem.split(':')[0]))
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? 'environment')
      if (reported.has(variable)) continue
      const value = raw[variable]
      const shown = value === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got '${value}')`
      problems.push(`${variable}: ${issue.message}${shown}`)
    }
  }
  for (const check of CROSS_FIELD_CHECKS) problems.push(...check(raw))
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)

  const env = parsed.data
  return {
    ...generalConfig(env),
    kafka: kafkaConfig(env),
    schemaRegistry: registryConfig(env),
    database: databaseConfig(env),
    chains: chainsConfig(env),
    topics: topicsConfig(env),
    consumer: consumerConfig(env),
    lagMonitor: lagConfig(env),
    gateway: gatewayConfig(env),
    relayer: relayerConfig(env),
    audit: auditConfig(env),
    zk: zkConfig(env),
  }
}

/** A connection URL with its password replaced, for logs and status output. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<unparseable url>'
  }
}
