import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { describeError, isTransient, VeridisError } from '../../core/errors.ts'
import type { Logger } from '../../core/logging/logger.ts'
import { FORMATS } from './fields.ts'

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

/** `/inputs/a/0` → `inputs.a[0]` */
function fieldPath(context: string, instancePath: string, child?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
  let path = context
  for (const part of [...parts, ...(child === undefined ? [] : [child])]) {
    path += /^\d+$/.test(part) ? `[${part}]` : `.${part.slice(0, 64)}`
  }
  return path
}

interface AjvIssue {
  keyword: string
  instancePath: string
  params: Record<string, unknown>
  message?: string
}

/** One validation problem as a sentence that names the field and the rule, never the value. */
function describeValidation(context: string, issue: AjvIssue): { field: string; message: string } {
  switch (issue.keyword) {
    case 'required': {
      const field = fieldPath(context, issue.instancePath, String(issue.params.missingProperty))
      return { field, message: `${field}: is required` }
    }
    case 'additionalProperties': {
      const field = fieldPath(context, issue.instancePath, String(issue.params.additionalProperty))
      return { field, message: `${field}: unknown field` }
    }
    case 'format': {
      const field = fieldPath(context, issue.instancePath)
      const known = FORMATS[String(issue.params.format) as keyof typeof FORMATS]
      return { field, message: `${field}: ${known?.explain ?? `must be a ${String(issue.params.format)}`}` }
    }
    case 'propertyNames': {
      const field = fieldPath(context, issue.instancePath)
      return { field, message: `${field}: keys must be signal names (letters, digits, _; at most 64)` }
    }
    default: {
      const field = fieldPath(context, issue.instancePath)
      return { field, message: `${field}: ${issue.message ?? 'is invalid'}` }
    }
  }
}

/**
 * Every error a route or hook raises, as one JSON shape: `{ error, message, field?, requestId }`.
 * Unexpected errors are logged and answered without detail.
 */
export function createErrorHandler(options: { logger: Logger; bodyLimitBytes: number }) {
  const { logger, bodyLimitBytes } = options
  return (
    error: FastifyError & { validationContext?: string },
    request: FastifyRequest,
    reply: FastifyReply,
  ) => {
    let status = 500
    let code = 'internal_error'
    let message = `internal error (request ${request.id})`
    let field: string | undefined
    if (error.validation) {
      const described = describeValidation(
        error.validationContext ?? 'body',
        error.validation[0] as unknown as AjvIssue,
      )
      status = 400
      code = 'invalid_request'
      message = described.message
      field = described.field
    } else if (error instanceof HttpError) {
      status = error.statusCode
      code = error.code
      message = error.message
      field = error.field
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds))
      if (status === 401) reply.header('www-authenticate', 'Bearer, ApiKey header="X-API-Key"')
      if (status === 503) logger.warn({ err: describeError(error), requestId: request.id }, code)
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413
      code = 'body_too_large'
      message = `body: exceeds the limit of ${bodyLimitBytes} bytes`
      field = 'body'
    } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415
      code = 'unsupported_media_type'
      message = 'body: Content-Type must be application/json'
      field = 'headers.content-type'
    } else if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      status = 400
      code = 'invalid_request'
      message = 'body: is empty'
      field = 'body'
    } else if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      // The parser's own message quotes the input; it is not repeated.
      status = 400
      code = 'invalid_json'
      message = 'body: is not valid JSON'
      field = 'body'
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode
      code = 'bad_request'
      message = error.message.slice(0, 200)
    } else if (isTransient(error)) {
      status = 503
      code = 'dependency_unavailable'
      message = 'a dependency (database or Kafka) is unavailable; retry later'
      reply.header('retry-after', '1')
      logger.warn({ err: describeError(error), requestId: request.id }, 'dependency unavailable')
    } else {
      logger.error(
        { err: describeError(error), requestId: request.id, route: request.routeOptions.url },
        'request failed',
      )
    }
    if (request.auditNote) request.auditNote.reason = message
    else request.auditNote = { reason: message }
    return reply
      .code(status)
      .send({ error: code, message, ...(field ? { field } : {}), requestId: request.id })
  }
}

/** The URL is not repeated: it may carry what the client did not mean to have echoed. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({
    error: 'not_found',
    message: `no route for this ${request.method} request`,
    requestId: request.id,
  })
}
