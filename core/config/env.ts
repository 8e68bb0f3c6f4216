import path from 'node:path'
import { z } from 'zod'
import { findChain, isCaip2, KNOWN_CHAINS } from '../chains.ts'
import { NonRetryableError } from '../errors.ts'
import { PROJECT_ROOT } from '../paths.ts'

/**
 * Configuration comes from VERIDIS_* environment variables only, validated once at
 * start-up. Every problem is reported on its own line naming the variable; values of
 * secret variables are never echoed.
 */

const LOCAL_DEFAULTS = {
  VERIDIS_KAFKA_BROKERS: '127.0.0.1:19092',
  VERIDIS_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7',
  VERIDIS_DATABASE_URL: 'postgres://veridis:veridis@127.0.0.1:15432/veridis',
} as const

const SECRET_VARIABLES = new Set([
  'VERIDIS_DATABASE_URL',
  'VERIDIS_KAFKA_SASL_PASSWORD',
  'VERIDIS_SCHEMA_REGISTRY_PASSWORD',
  'VERIDIS_GATEWAY_JWT_HS256_SECRET',
  'VERIDIS_RELAYER_EVM_PRIVATE_KEY',
  'VERIDIS_AUDIT_HMAC_KEY',
  'VERIDIS_AUDIT_MASTER_KEY',
])

const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port')
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })
const integer = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min).max(max)
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')

const chainList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  )
  .superRefine((ids, ctx) => {
    for (const id of ids) {
      if (!isCaip2(id))
        ctx.addIssue({ code: 'custom', message: `'${id}' is not a CAIP-2 chain id (e.g. eip155:1)` })
      else if (!findChain(id)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown chain '${id}'; known: ${KNOWN_CHAINS.map((chain) => chain.id).join(', ')}`,
        })
      }
    }
  })

const environmentSchema = z.object({
  VERIDIS_ENV: z.enum(['development', 'test', 'production']).default('development'),
  VERIDIS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VERIDIS_HOME: z.string().min(1).default(path.join(PROJECT_ROOT, '.veridis')),
  VERIDIS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits and dashes (at most 40)')
    .optional(),
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
  VERIDIS_SCHEMA_REGISTRY_URL: httpUrl,
  VERIDIS_SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
  VERIDIS_SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
  VERIDIS_DATABASE_URL: postgresUrl,
  VERIDIS_DATABASE_POOL_SIZE: integer(2, 200).default(10),
  VERIDIS_CHAINS: chainList.default(['eip155:31337', 'eip155:31338']),
  VERIDIS_TOPIC_PARTITIONS: integer(1, 10_000).default(3),
  VERIDIS_TOPIC_REPLICATION: integer(1, 16).default(1),
  VERIDIS_TOPIC_MIN_INSYNC_REPLICAS: integer(1, 16).default(1),
  VERIDIS_CONSUMER_MAX_ATTEMPTS: integer(1, 100).default(5),
  VERIDIS_CONSUMER_BACKOFF_MS: integer(1, 60_000).default(200),
  VERIDIS_CONSUMER_BACKOFF_MAX_MS: integer(1, 600_000).default(10_000),
  VERIDIS_CONSUMER_CHUNK_SIZE: integer(1, 100_000).default(1_000),
  VERIDIS_CONSUMER_PARTITION_CONCURRENCY: integer(1, 64).default(3),
  VERIDIS_CONSUMER_SESSION_TIMEOUT_MS: integer(6_000, 300_000).default(30_000),
  VERIDIS_CONSUMER_COMMIT_INTERVAL_MS: integer(0, 3_600_000).default(1_000),
  VERIDIS_LAG_POLL_MS: integer(200, 600_000).default(5_000),
  VERIDIS_LAG_WINDOW: integer(2, 1_000).default(10),
  VERIDIS_LAG_GROUP_FILTER: z
    .string()
    .refine(
      (value) => {
        try {
          new RegExp(value)
          return true
        } catch {
          return false
        }
      },
      { message: 'must be a regular expression' },
    )
    .optional(),
  VERIDIS_DEDUPE_RETENTION_DAYS: integer(1, 3650).default(30),
  VERIDIS_SHUTDOWN_GRACE_MS: integer(1_000, 600_000).default(15_000),
  // Zero knowledge (consumers/prover, consumers/verifier, docs/zk.md).
  VERIDIS_PROVER_CONCURRENCY: integer(1, 64).default(2),
  VERIDIS_PROVER_CACHE_SIZE: integer(0, 1_000_000).default(1_000),
  VERIDIS_SEMAPHORE_DEPTH: integer(1, 32).default(20),
  VERIDIS_VERIFIER_BATCH_SIZE: integer(1, 4_096).default(64),
  // The HTTP gateway (producers/gateway, docs/gateway.md).
  VERIDIS_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  VERIDIS_GATEWAY_PORT: integer(0, 65535).default(18088),
  VERIDIS_GATEWAY_JWT_ISSUER: z.string().min(1).optional(),
  VERIDIS_GATEWAY_JWT_AUDIENCE: z.string().min(1).default('veridis-gateway'),
  VERIDIS_GATEWAY_JWT_HS256_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  VERIDIS_GATEWAY_JWT_RS256_PUBLIC_KEY: z
    .string()
    .regex(/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/, 'must be a PEM SPKI public key')
    .optional(),
  VERIDIS_GATEWAY_RATE_LIMIT: integer(1, 10_000_000).default(600),
  VERIDIS_GATEWAY_RATE_WINDOW_MS: integer(100, 3_600_000).default(60_000),
  VERIDIS_GATEWAY_BODY_LIMIT_BYTES: integer(1_024, 16 * 1024 * 1024).default(64 * 1024),
  VERIDIS_GATEWAY_CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(httpUrl))
    .optional(),
  VERIDIS_GATEWAY_PUBLISH_TIMEOUT_MS: integer(100, 120_000).default(5_000),
  VERIDIS_GATEWAY_LISTENER_STALE_MS: integer(1_000, 86_400_000).default(60_000),
  // Nullifier propagation (consumers/nullifiers, docs/nullifiers.md).
  VERIDIS_RELAYER_EVM_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key')
    .optional(),
  VERIDIS_RELAYER_CHAINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().refine(isCaip2, 'must be CAIP-2 chain ids (e.g. eip155:1)')))
    .optional(),
  VERIDIS_RELAYER_MAX_ATTEMPTS: integer(1, 100).default(5),
  VERIDIS_RELAYER_RECEIPT_TIMEOUT_MS: integer(1_000, 3_600_000).default(60_000),
  VERIDIS_RELAYER_FAULT: z.enum(['kill-after-sign', 'kill-after-broadcast']).optional(),
  // The compliance-audit service (consumers/audit, docs/audit.md).
  VERIDIS_AUDIT_HMAC_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  VERIDIS_AUDIT_MASTER_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  VERIDIS_AUDIT_DATA_RETENTION_DAYS: integer(1, 36_500).default(365),
  VERIDIS_AUDIT_RETENTION_INTERVAL_MS: integer(1_000, 86_400_000).default(3_600_000),
})

export type Environment = z.infer<typeof environmentSchema>

/**
 * Checks between variables, on the raw values, so they are reported even when other
 * variables are invalid too (zod skips object refinements once a field fails).
 */
function crossFieldProblems(raw: Record<string, string | undefined>): string[] {
  const problems: string[] = []
  const pairs = [
    ['VERIDIS_KAFKA_SASL_USERNAME', 'VERIDIS_KAFKA_SASL_PASSWORD'],
    ['VERIDIS_SCHEMA_REGISTRY_USERNAME', 'VERIDIS_SCHEMA_REGISTRY_PASSWORD'],
  ] as const
  for (const [user, secret] of pairs) {
    if (raw[user] && !raw[secret]) problems.push(`${secret}: missing secret (${user} is set)`)
    if (raw[secret] && !raw[user]) problems.push(`${user}: missing (${secret} is set)`)
  }
  if (raw.VERIDIS_KAFKA_SASL_USERNAME && !raw.VERIDIS_KAFKA_SASL_MECHANISM) {
    problems.push('VERIDIS_KAFKA_SASL_MECHANISM: missing (SASL credentials are set)')
  }
  if (raw.VERIDIS_KAFKA_SASL_MECHANISM && !raw.VERIDIS_KAFKA_SASL_USERNAME) {
    problems.push('VERIDIS_KAFKA_SASL_USERNAME: missing (VERIDIS_KAFKA_SASL_MECHANISM is set)')
  }
  if (
    raw.VERIDIS_ENV === 'production' &&
    raw.VERIDIS_KAFKA_SASL_MECHANISM === 'plain' &&
    !['true', '1'].includes(raw.VERIDIS_KAFKA_SSL ?? '')
  ) {
    problems.push(
      'VERIDIS_KAFKA_SSL: SASL PLAIN sends the password in clear; production requires SSL with it',
    )
  }
  const number = (name: string, fallback: number) => (raw[name] === undefined ? fallback : Number(raw[name]))
  if (number('VERIDIS_TOPIC_MIN_INSYNC_REPLICAS', 1) > number('VERIDIS_TOPIC_REPLICATION', 1)) {
    problems.push('VERIDIS_TOPIC_MIN_INSYNC_REPLICAS: cannot exceed VERIDIS_TOPIC_REPLICATION')
  }
  // Each partition handled at once holds a connection; one more is left for everything else.
  if (number('VERIDIS_DATABASE_POOL_SIZE', 10) < number('VERIDIS_CONSUMER_PARTITION_CONCURRENCY', 3) + 1) {
    problems.push('VERIDIS_DATABASE_POOL_SIZE: must exceed VERIDIS_CONSUMER_PARTITION_CONCURRENCY')
  }
  if (number('VERIDIS_CONSUMER_BACKOFF_MAX_MS', 10_000) < number('VERIDIS_CONSUMER_BACKOFF_MS', 200)) {
    problems.push('VERIDIS_CONSUMER_BACKOFF_MAX_MS: cannot be below VERIDIS_CONSUMER_BACKOFF_MS')
  }
  if (raw.VERIDIS_ENV === 'production' && raw.VERIDIS_RELAYER_FAULT) {
    problems.push('VERIDIS_RELAYER_FAULT: a test-only fault hook, refused in production')
  }
  // A token anyone could mint is no authentication: production names who issues them.
  if (
    raw.VERIDIS_ENV === 'production' &&
    (raw.VERIDIS_GATEWAY_JWT_HS256_SECRET || raw.VERIDIS_GATEWAY_JWT_RS256_PUBLIC_KEY) &&
    !raw.VERIDIS_GATEWAY_JWT_ISSUER
  ) {
    problems.push('VERIDIS_GATEWAY_JWT_ISSUER: required in production when JWT keys are set')
  }
  for (const name of ['VERIDIS_AUDIT_HMAC_KEY', 'VERIDIS_AUDIT_MASTER_KEY']) {
    if (raw.VERIDIS_ENV === 'production' && !raw[name]) {
      problems.push(`${name}: required in production (the local default is a file in VERIDIS_HOME)`)
    }
  }
  return problems
}

export interface Config {
  readonly env: Environment['VERIDIS_ENV']
  readonly logLevel: Environment['VERIDIS_LOG_LEVEL']
  readonly home: string
  /** Prefix for topic names and consumer groups, so several pipelines (or test runs) share one cluster. */
  readonly namespace: string | undefined
  readonly kafka: {
    readonly brokers: readonly string[]
    readonly controllerPort: number
    readonly clientId: string | undefined
    readonly ssl: boolean
    readonly sasl:
      | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
      | undefined
  }
  readonly schemaRegistry: {
    readonly url: string
    readonly auth: { username: string; password: string } | undefined
  }
  readonly database: { readonly url: string; readonly poolSize: number }
  readonly chains: readonly string[]
  readonly topics: {
    readonly partitions: number
    readonly replication: number
    readonly minInsyncReplicas: number
  }
  readonly consumer: {
    readonly maxAttempts: number
    readonly backoffMs: number
    readonly backoffMaxMs: number
    readonly chunkSize: number
    /** Partitions handled at the same time by one process (each in order). */
    readonly partitionConcurrency: number
    /** How often processed offsets are committed; redelivery after a crash is bounded by it. */
    readonly commitIntervalMs: number
    /** How long a silent member keeps its partitions before the group rebalances. */
    readonly sessionTimeoutMs: number
    /** How long exactly-once bookkeeping remembers a message id. */
    readonly dedupeRetentionDays: number
  }
  readonly lagMonitor: {
    /** How often the cluster is polled. */
    readonly pollMs: number
    /** Observations per partition the status is judged over (Burrow's window). */
    readonly window: number
    /** Only groups whose id matches are watched. */
    readonly groupFilter: RegExp | undefined
  }
  readonly gateway: {
    readonly host: string
    readonly port: number
    readonly jwt: {
      readonly issuer: string | undefined
      readonly audience: string
      /** HS256 shared secret; never logged. */
      readonly hs256Secret: string | undefined
      /** RS256 public key (PEM, SPKI). */
      readonly rs256PublicKey: string | undefined
    }
    /** Requests per caller per window. */
    readonly rateLimit: number
    readonly rateWindowMs: number
    readonly bodyLimitBytes: number
    /** Origins allowed to call from a browser; none when empty. */
    readonly corsOrigins: readonly string[]
    /** How long a request waits for Kafka to acknowledge its command before answering 503. */
    readonly publishTimeoutMs: number
    /** A listener whose state row is older than this is reported stale. */
    readonly listenerStaleMs: number
  }
  readonly shutdownGraceMs: number
  readonly relayer: {
    /** Signs propagation writes on EVM chains; a secret, never logged. Unset: anvil dev account 8 (development only). */
    readonly evmPrivateKey: string | undefined
    /** Chains nullifier uses are propagated between; unset: every configured chain with a NullifierRegistry. */
    readonly chains: readonly string[] | undefined
    /** Failed tries of one propagation (before anything was sent) before it is reported FAILED. */
    readonly maxAttempts: number
    /** A sent propagation transaction not mined after this is reported in the log (it is still followed). */
    readonly receiptTimeoutMs: number
    /** Test-only crash point: the process kills itself there (tests of crash recovery). */
    readonly fault: 'kill-after-sign' | 'kill-after-broadcast' | undefined
  }
  readonly audit: {
    /** Keys subject hashes (HMAC-SHA256); never logged. Unset: a local secret under VERIDIS_HOME. */
    readonly hmacKey: string | undefined
    /** Wraps the per-subject data keys; never logged. Unset: a local secret under VERIDIS_HOME. */
    readonly masterKey: string | undefined
    /** How long personal data is kept before the retention job purges it. */
    readonly dataRetentionDays: number
    /** How often the retention job runs. */
    readonly retentionIntervalMs: number
  }
  readonly zk: {
    /** Proofs computed at once by one prover process (the witness of one overlaps the MSMs of another). */
    readonly proverConcurrency: number
    /** Proof results remembered per prover process; 0 disables the cache. */
    readonly proofCacheSize: number
    /** Tree depth of the Semaphore artifacts used for IDENTITY_MEMBERSHIP. */
    readonly semaphoreDepth: number
    /** Most proofs verified in one random-linear-combination batch. */
    readonly verifyBatchSize: number
  }
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
        `${name}: required in production (the local default ${name === 'VERIDIS_DATABASE_URL' ? '' : `'${fallback}' `}only suits a developer machine)`,
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
  problems.push(...crossFieldProblems(raw))
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)

  const env = parsed.data
  return {
    env: env.VERIDIS_ENV,
    logLevel: env.VERIDIS_LOG_LEVEL,
    home: path.resolve(env.VERIDIS_HOME),
    namespace: env.VERIDIS_NAMESPACE,
    kafka: {
      brokers: env.VERIDIS_KAFKA_BROKERS,
      controllerPort: env.VERIDIS_KAFKA_CONTROLLER_PORT,
      clientId: env.VERIDIS_KAFKA_CLIENT_ID,
      ssl: env.VERIDIS_KAFKA_SSL,
      sasl:
        env.VERIDIS_KAFKA_SASL_MECHANISM && env.VERIDIS_KAFKA_SASL_USERNAME && env.VERIDIS_KAFKA_SASL_PASSWORD
          ? {
              mechanism: env.VERIDIS_KAFKA_SASL_MECHANISM,
              username: env.VERIDIS_KAFKA_SASL_USERNAME,
              password: env.VERIDIS_KAFKA_SASL_PASSWORD,
            }
          : undefined,
    },
    schemaRegistry: {
      url: env.VERIDIS_SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
      auth:
        env.VERIDIS_SCHEMA_REGISTRY_USERNAME && env.VERIDIS_SCHEMA_REGISTRY_PASSWORD
          ? { username: env.VERIDIS_SCHEMA_REGISTRY_USERNAME, password: env.VERIDIS_SCHEMA_REGISTRY_PASSWORD }
          : undefined,
    },
    database: { url: env.VERIDIS_DATABASE_URL, poolSize: env.VERIDIS_DATABASE_POOL_SIZE },
    chains: env.VERIDIS_CHAINS,
    topics: {
      partitions: env.VERIDIS_TOPIC_PARTITIONS,
      replication: env.VERIDIS_TOPIC_REPLICATION,
      minInsyncReplicas: env.VERIDIS_TOPIC_MIN_INSYNC_REPLICAS,
    },
    consumer: {
      maxAttempts: env.VERIDIS_CONSUMER_MAX_ATTEMPTS,
      backoffMs: env.VERIDIS_CONSUMER_BACKOFF_MS,
      backoffMaxMs: env.VERIDIS_CONSUMER_BACKOFF_MAX_MS,
      chunkSize: env.VERIDIS_CONSUMER_CHUNK_SIZE,
      commitIntervalMs: env.VERIDIS_CONSUMER_COMMIT_INTERVAL_MS,
      partitionConcurrency: env.VERIDIS_CONSUMER_PARTITION_CONCURRENCY,
      dedupeRetentionDays: env.VERIDIS_DEDUPE_RETENTION_DAYS,
      sessionTimeoutMs: env.VERIDIS_CONSUMER_SESSION_TIMEOUT_MS,
    },
    lagMonitor: {
      pollMs: env.VERIDIS_LAG_POLL_MS,
      window: env.VERIDIS_LAG_WINDOW,
      groupFilter:
        env.VERIDIS_LAG_GROUP_FILTER === undefined ? undefined : new RegExp(env.VERIDIS_LAG_GROUP_FILTER),
    },
    gateway: {
      host: env.VERIDIS_GATEWAY_HOST,
      port: env.VERIDIS_GATEWAY_PORT,
      jwt: {
        issuer: env.VERIDIS_GATEWAY_JWT_ISSUER,
        audience: env.VERIDIS_GATEWAY_JWT_AUDIENCE,
        hs256Secret: env.VERIDIS_GATEWAY_JWT_HS256_SECRET,
        rs256PublicKey: env.VERIDIS_GATEWAY_JWT_RS256_PUBLIC_KEY,
      },
      rateLimit: env.VERIDIS_GATEWAY_RATE_LIMIT,
      rateWindowMs: env.VERIDIS_GATEWAY_RATE_WINDOW_MS,
      bodyLimitBytes: env.VERIDIS_GATEWAY_BODY_LIMIT_BYTES,
      corsOrigins: env.VERIDIS_GATEWAY_CORS_ORIGINS ?? [],
      publishTimeoutMs: env.VERIDIS_GATEWAY_PUBLISH_TIMEOUT_MS,
      listenerStaleMs: env.VERIDIS_GATEWAY_LISTENER_STALE_MS,
    },
    shutdownGraceMs: env.VERIDIS_SHUTDOWN_GRACE_MS,
    relayer: {
      evmPrivateKey: env.VERIDIS_RELAYER_EVM_PRIVATE_KEY,
      chains: env.VERIDIS_RELAYER_CHAINS,
      maxAttempts: env.VERIDIS_RELAYER_MAX_ATTEMPTS,
      receiptTimeoutMs: env.VERIDIS_RELAYER_RECEIPT_TIMEOUT_MS,
      fault: env.VERIDIS_RELAYER_FAULT,
    },
    audit: {
      hmacKey: env.VERIDIS_AUDIT_HMAC_KEY,
      masterKey: env.VERIDIS_AUDIT_MASTER_KEY,
      dataRetentionDays: env.VERIDIS_AUDIT_DATA_RETENTION_DAYS,
      retentionIntervalMs: env.VERIDIS_AUDIT_RETENTION_INTERVAL_MS,
    },
    zk: {
      proverConcurrency: env.VERIDIS_PROVER_CONCURRENCY,
      proofCacheSize: env.VERIDIS_PROVER_CACHE_SIZE,
      semaphoreDepth: env.VERIDIS_SEMAPHORE_DEPTH,
      verifyBatchSize: env.VERIDIS_VERIFIER_BATCH_SIZE,
    },
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
