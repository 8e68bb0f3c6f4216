import { VeridisError } from '../../core/errors.ts'

/**
 * An answer the gateway gives on purpose: a status, a stable code clients can switch on,
 * and a message that names the field or condition — never a secret or an input value.
 */
export class HttpError extends VeridisError {
  override name = 'HttpError'
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options: { cause?: unknown; field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause, retryable: statusCode === 503 })
    this.field = options.field
    this.retryAfterSeconds = options.retryAfterSeconds
  }
  readonly field: string | undefined
  readonly retryAfterSeconds: number | undefined
}

export const kafkaUnavailable = (detail: string, cause?: unknown) =>
  new HttpError(
    503,
    'kafka_unavailable',
    `Kafka is unavailable (${detail}); the command was not accepted — retry later with the same Idempotency-Key`,
    { cause, retryAfterSeconds: 1 },
  )
