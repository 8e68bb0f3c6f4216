/**
 * Error roots shared by every part of the pipeline.
 *
 * A message, a cause chain and structured details, the way viem does it, plus the one
 * decision every caller needs: may this be retried? Transient failures (a broker or a
 * database that is briefly away) are retried without limit; everything else counts
 * against a message's attempts and ends in the dead-letter topic.
 */
export type ErrorDetails = Record<string, string | number | boolean | null | undefined>

export class VeridisError extends Error {
  override name = 'VeridisError'
  readonly details: ErrorDetails
  readonly retryable: boolean

  constructor(
    message: string,
    options: { cause?: unknown; details?: ErrorDetails; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.details = options.details ?? {}
    this.retryable = options.retryable ?? false
  }
}

/** Input that will never succeed however often it is retried: a bad message, a bad request. */
export class NonRetryableError extends VeridisError {
  override name = 'NonRetryableError'
  constructor(message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, { ...options, retryable: false })
  }
}

/** Something outside the message failed and may well work on the next try. */
export class RetryableError extends VeridisError {
  override name = 'RetryableError'
  constructor(message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, { ...options, retryable: true })
  }
}

// SQLSTATEs that mean "the database, not the message": connection exceptions, serialization
// failures and deadlocks, insufficient resources, operator intervention and statement
// timeouts, authentication (a password being rotated), a missing database or table (a
// consumer deployed before its migration), a read-only standby after failover, lock waits.
// Retrying these later can succeed; dead-lettering every message meanwhile would not help.
const TRANSIENT_SQLSTATE_PREFIXES = ['08', '40', '53', '57', '28', '3D000', '42P01', '25006', '55P03']
const TRANSIENT_MESSAGES =
  /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
])

/**
 * True when the failure is about the infrastructure rather than the message, so retrying
 * the same message later can succeed. Looks through the cause chain.
 */
export function isTransient(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 8; depth++) {
    if (current instanceof VeridisError) return current.retryable
    if (typeof current !== 'object') return false
    const candidate = current as {
      code?: unknown
      retriable?: unknown
      cause?: unknown
      originalError?: unknown
      message?: unknown
      name?: unknown
    }
    if (candidate.retriable === true) return true
    if (typeof candidate.code === 'string') {
      const code = candidate.code
      if (TRANSIENT_NODE_CODES.has(code)) return true
      if (code.length === 5 && TRANSIENT_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix)))
        return true
    }
    if (typeof candidate.message === 'string' && TRANSIENT_MESSAGES.test(candidate.message)) return true
    // kafkajs gives up on a broker it cannot reach with a non-retriable wrapper; the broker
    // being away is still a transient condition for the process.
    if (candidate.name === 'KafkaJSConnectionError' || candidate.name === 'KafkaJSNumberOfRetriesExceeded')
      return true
    // kafkajs chains with `originalError`, everything else with `cause`.
    current = candidate.cause ?? candidate.originalError
  }
  return false
}

/** A one-line description of an error and its causes, for logs and dead letters. */
export function describeError(error: unknown): { name: string; message: string } {
  if (!(error instanceof Error)) return { name: 'NonError', message: String(error) }
  const parts = [error.message]
  for (
    let cause = error.cause, depth = 0;
    cause instanceof Error && depth < 5;
    cause = cause.cause, depth++
  ) {
    parts.push(cause.message)
  }
  return { name: error.name, message: parts.join(': ') }
}
