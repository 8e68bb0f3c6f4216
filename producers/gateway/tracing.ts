import type { FastifyInstance, FastifyRequest } from 'fastify'
import { parseTraceparent } from '../../core/bus/trace.ts'
import {
  contextFromTraceparent,
  SPAN_KIND,
  type Span,
  SpanStatusCode,
  startSpan,
  traceparentOf,
  tracingEnabled,
} from '../../core/tracing/tracing.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The server span of this request, with tracing on (core/tracing/tracing.ts). */
    span: Span | null
  }
}

/**
 * A server span per request, continuing the caller's `traceparent` when it sent a valid one.
 * Registered before every other hook, so refused requests are traced too. Attributes carry the
 * route pattern and the status, never the URL (ids) or any header.
 */
export function traceRequests(app: FastifyInstance): void {
  app.decorateRequest('span', null)
  app.addHook('onRequest', async (request) => {
    if (!tracingEnabled()) return
    const route = request.routeOptions.url
    request.span = startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: SPAN_KIND.SERVER,
      parent: contextFromTraceparent(validTraceparent(request)),
      attributes: {
        'http.request.method': request.method,
        ...(route ? { 'http.route': route } : {}),
      },
    })
  })
  const end = (request: FastifyRequest, status?: number) => {
    const span = request.span
    if (!span) return
    request.span = null
    if (status !== undefined) span.setAttribute('http.response.status_code', status)
    // Server spans are failed by 5xx answers only: a 4xx is the client's (OpenTelemetry's rule).
    if (status === undefined || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    span.end()
  }
  app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode))
  app.addHook('onRequestAbort', async (request) => end(request))
}

function validTraceparent(request: FastifyRequest): string | undefined {
  const header = request.headers.traceparent
  return typeof header === 'string' && parseTraceparent(header) ? header : undefined
}

/**
 * The trace context a command carries onto the bus: the request's server span with tracing
 * on, else the caller's valid `traceparent` (the producer then mints a child of it).
 */
export function requestTraceparent(request: FastifyRequest): string | undefined {
  return request.span ? traceparentOf(request.span) : validTraceparent(request)
}
