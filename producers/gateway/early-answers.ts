import { randomUUID } from 'node:crypto'
import { type Server, STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import helmet from '@fastify/helmet'
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify'

/**
 * Answers given before any route or hook runs — a malformed URL, headers too large, a
 * request that did not arrive in time, a connection over the caps — in the same shape as
 * every other error (`{ error, message, requestId }`), with the same security headers and
 * request id, never echoing the URL or a header.
 */

/** Longer request targets are refused with 414 (before routing they are never echoed). */
const MAX_URL_LENGTH = 2_048

const HELMET_OPTIONS = { global: true } as const

/** Headers on every answer besides the security headers. */
const STANDARD_HEADERS = { 'cache-control': 'no-store' } as const

/**
 * The headers @fastify/helmet sets with our options, captured once from a probe instance:
 * answers written to the raw socket cannot run its hooks but must carry the same.
 */
export async function captureSecurityHeaders(): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false })
  await probe.register(helmet, HELMET_OPTIONS)
  probe.get('/', async () => ({}))
  const response = await probe.inject({ url: '/' })
  await probe.close()
  const ignored = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive'])
  return Object.fromEntries(
    Object.entries(response.headers)
      .filter(([name, value]) => !ignored.has(name) && typeof value === 'string')
      .map(([name, value]) => [name, value as string]),
  )
}

export interface EarlyAnswer {
  readonly status: number
  readonly code: string
  readonly message: string
  readonly retryAfterSeconds?: number
}

/** Every header an early answer carries. */
function answerHeaders(securityHeaders: Record<string, string>, requestId: string, answer: EarlyAnswer) {
  return {
    ...securityHeaders,
    ...STANDARD_HEADERS,
    'x-request-id': requestId,
    ...(answer.retryAfterSeconds === undefined ? {} : { 'retry-after': String(answer.retryAfterSeconds) }),
  }
}

/** Writes a whole HTTP/1.1 answer on a socket no request object owns, then closes it. */
function writeRawAnswer(socket: Socket, securityHeaders: Record<string, string>, answer: EarlyAnswer) {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const requestId = randomUUID()
  const body = JSON.stringify({ error: answer.code, message: answer.message, requestId })
  const headers = {
    ...answerHeaders(securityHeaders, requestId, answer),
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  }
  const head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n${Object.entries(
    headers,
  )
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n')}\r\n\r\n`
  socket.end(head + body)
  // Nothing more is read from it: the answer is final.
  socket.once('finish', () => socket.destroy())
}

/** The answer for a request whose target is too long; undefined when it is not. */
export function uriTooLong(url: string): EarlyAnswer | undefined {
  return url.length > MAX_URL_LENGTH
    ? {
        status: 414,
        code: 'uri_too_long',
        message: `the request target exceeds ${MAX_URL_LENGTH} characters`,
      }
    : undefined
}

/** Fastify's `frameworkErrors`: routing failed before any hook ran. */
export function frameworkErrorHandler(securityHeaders: Record<string, string>) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const answer: EarlyAnswer =
      uriTooLong(request.url) ??
      (error.code === 'FST_ERR_BAD_URL'
        ? { status: 400, code: 'bad_url', message: 'the URL is malformed (invalid percent-encoding)' }
        : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? { status: 404, code: 'not_found', message: `no route for this ${request.method} request` }
          : { status: 400, code: 'bad_request', message: 'the request cannot be routed' })
    return reply
      .code(answer.status)
      .headers(answerHeaders(securityHeaders, request.id, answer))
      .send({ error: answer.code, message: answer.message, requestId: request.id })
  }
}

/** Fastify's `clientErrorHandler`: Node's HTTP parser or its timers gave up on a connection. */
export function clientErrorHandler(securityHeaders: Record<string, string>, requestTimeoutMs: number) {
  return (error: Error & { code?: string }, socket: Socket) => {
    // An answer already under way cannot be replaced; a reset peer reads nothing.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (error.code === 'ECONNRESET' || socket.destroyed || inFlight?.headersSent) {
      socket.destroy()
      return
    }
    const answer: EarlyAnswer =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? {
            status: 408,
            code: 'request_timeout',
            message: `the request (headers and body) did not arrive within ${requestTimeoutMs} ms`,
          }
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? { status: 431, code: 'headers_too_large', message: 'the request line and headers are too large' }
          : { status: 400, code: 'bad_request', message: 'the request is not valid HTTP/1.1' }
    writeRawAnswer(socket, securityHeaders, answer)
  }
}

/**
 * Caps open connections, in all and per source address: one over either cap is answered
 * (503 for the total, 429 for a source) and closed at once instead of holding a socket.
 * Returns a check for requests that still arrive on a refused connection.
 */
export function limitConnections(
  server: Server,
  options: { maxConnections: number; maxPerSource: number; securityHeaders: Record<string, string> },
) {
  const refused = new WeakSet<Socket>()
  const bySource = new Map<string, number>()
  let open = 0
  // Before Node's own listener: the refusal is decided before any byte is parsed.
  server.prependListener('connection', (socket: Socket) => {
    const source = socket.remoteAddress ?? 'unknown'
    const fromSource = bySource.get(source) ?? 0
    if (open >= options.maxConnections || fromSource >= options.maxPerSource) {
      refused.add(socket)
      socket.on('error', () => undefined)
      writeRawAnswer(
        socket,
        options.securityHeaders,
        open >= options.maxConnections
          ? {
              status: 503,
              code: 'too_many_connections',
              message: 'the gateway holds as many connections as it takes; retry shortly',
              retryAfterSeconds: 1,
            }
          : {
              status: 429,
              code: 'too_many_connections',
              message: `at most ${options.maxPerSource} open connections per source address`,
              retryAfterSeconds: 1,
            },
      )
      return
    }
    open += 1
    bySource.set(source, fromSource + 1)
    socket.once('close', () => {
      open -= 1
      const left = (bySource.get(source) ?? 1) - 1
      if (left > 0) bySource.set(source, left)
      else bySource.delete(source)
    })
  })
  return {
    isRefused: (socket: Socket) => refused.has(socket),
    get open() {
      return open
    },
  }
}
