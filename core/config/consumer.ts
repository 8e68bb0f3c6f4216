import type { z } from 'zod'
import { integer, type RawEnvironment } from './fields.ts'
import { rawNumber } from './topics.ts'

export const consumerVariables = {
  VERIDIS_CONSUMER_MAX_ATTEMPTS: integer(1, 100).default(5),
  VERIDIS_CONSUMER_BACKOFF_MS: integer(1, 60_000).default(200),
  VERIDIS_CONSUMER_BACKOFF_MAX_MS: integer(1, 600_000).default(10_000),
  VERIDIS_CONSUMER_CHUNK_SIZE: integer(1, 100_000).default(1_000),
  VERIDIS_CONSUMER_PARTITION_CONCURRENCY: integer(1, 64).default(3),
  VERIDIS_CONSUMER_SESSION_TIMEOUT_MS: integer(6_000, 300_000).default(30_000),
  VERIDIS_CONSUMER_COMMIT_INTERVAL_MS: integer(0, 3_600_000).default(1_000),
  VERIDIS_DEDUPE_RETENTION_DAYS: integer(1, 3650).default(30),
}

type ConsumerEnvironment = z.infer<z.ZodObject<typeof consumerVariables>>

export interface ConsumerConfig {
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

export function consumerProblems(raw: RawEnvironment): string[] {
  const problems: string[] = []
  // Each partition handled at once holds a connection; one more is left for everything else.
  if (
    rawNumber(raw, 'VERIDIS_DATABASE_POOL_SIZE', 10) <
    rawNumber(raw, 'VERIDIS_CONSUMER_PARTITION_CONCURRENCY', 3) + 1
  ) {
    problems.push('VERIDIS_DATABASE_POOL_SIZE: must exceed VERIDIS_CONSUMER_PARTITION_CONCURRENCY')
  }
  if (
    rawNumber(raw, 'VERIDIS_CONSUMER_BACKOFF_MAX_MS', 10_000) <
    rawNumber(raw, 'VERIDIS_CONSUMER_BACKOFF_MS', 200)
  ) {
    problems.push('VERIDIS_CONSUMER_BACKOFF_MAX_MS: cannot be below VERIDIS_CONSUMER_BACKOFF_MS')
  }
  return problems
}

export function consumerConfig(env: ConsumerEnvironment): ConsumerConfig {
  return {
    maxAttempts: env.VERIDIS_CONSUMER_MAX_ATTEMPTS,
    backoffMs: env.VERIDIS_CONSUMER_BACKOFF_MS,
    backoffMaxMs: env.VERIDIS_CONSUMER_BACKOFF_MAX_MS,
    chunkSize: env.VERIDIS_CONSUMER_CHUNK_SIZE,
    commitIntervalMs: env.VERIDIS_CONSUMER_COMMIT_INTERVAL_MS,
    partitionConcurrency: env.VERIDIS_CONSUMER_PARTITION_CONCURRENCY,
    dedupeRetentionDays: env.VERIDIS_DEDUPE_RETENTION_DAYS,
    sessionTimeoutMs: env.VERIDIS_CONSUMER_SESSION_TIMEOUT_MS,
  }
}
