import { randomUUID } from 'node:crypto'
import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Common } from '../../core/context.ts'
import type { Pool } from '../../core/db/pool.ts'
import { instrumentHttp } from '../../core/ops/server.ts'
import type { CommandAcceptor } from './accept.ts'
import type { AuditWriter } from './audit-facts.ts'
import type { Authenticator, Caller } from './auth.ts'
import type { CommandRoute } from './contract.ts'
import {
  captureSecurityHeaders,
  clientErrorHandler,
  frameworkErrorHandler,
  limitConnections,
  uriTooLong,
} from './early-answers.ts'
import { createErrorHandler, HttpError, notFoundHandler } from './errors.ts'
import { AJV_FORMATS } from './fields.ts'
import { registerJsonBodyParser } from './json-body.ts'
import type { DependencyHealth } from './kafka-health.ts'
import type { RateLimiters } from './rate-limiters.ts'
import { type LimitDecision, rateLimitField } from './rate-limits.ts'
import type { RefusalTally } from './refusal-tally.ts'
import { registerBridgeRoutes } from './routes/bridge.ts'
import { registerCommandRoutes } from './routes/commands.ts'
import { registerNetworkRoutes } from './routes/network.ts'
import { registerPublicHealth } from './routes/ops.ts'
import { registerSecurityRoutes, type SecurityParts } from './routes/security.ts'
import { registerStatusRoutes } from './routes/status.ts'
import { traceRequests } from './tracing.ts'

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null
    auditNote: { commandId?: string; idempotencyKey?: string; reason?: string; replayed?: boolean } | null
    /** The rate limits this request was counted against, for the RateLimit fields. */
    rateLimits: LimitDecision[] | null
  }
  interface FastifyContextConfig {
    commandRoute?: CommandRoute
  }
}

export interface GatewayParts {
  readonly common: Common
  readonly pool: Pool
  readonly health: DependencyHealth
  readonly authenticator: Authenticator
  readonly acceptor: CommandAcceptor
  readonly audit: AuditWriter
  readonly refusals: RefusalTally
  /** The per-source and per-caller limits, in Postgres or in memory (rate-limiters.ts). */
  readonly rateLimits: Pick<RateLimiters, 'source' | 'caller'>
  /** The bridge-security endpoints' configuration and chain readers. */
  readonly security: SecurityParts
}

/** Headers must be complete within this (or the request timeout, if shorter). */
const HEADERS_TIMEOUT_MS = 5_000
/** An idle keep-alive connection is closed after this. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000

/** The HTTP facade, without listening: tests use inject(), the process listens. */
export async function buildGatewayApp(parts: GatewayParts): Promise<FastifyInstance> {
  const { common, authenticator } = parts
  const config = common.config.gateway
  const logger = common.logger.child({ component: 'http' })
  const securityHeaders = await captureSecurityHeaders()
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => randomUUID(),
    // Request ids are ours: a client-chosen one could forge log and audit correlation.
    requestIdHeader: false,
    return503OnClosing: true,
    // Slow clients: headers and body must arrive in time, idle connections are closed.
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, config.requestTimeoutMs),
      // Node checks the timeouts at this interval (30 s by default).
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(config.requestTimeoutMs / 2)),
    },
    frameworkErrors: frameworkErrorHandler(securityHeaders),
    clientErrorHandler: clientErrorHandler(securityHeaders, config.requestTimeoutMs),
    ajv: {
      customOptions: {
        // Strict: unknown fields are refused (not silently dropped), types are not coerced.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: true,
        allErrors: false,
        formats: AJV_FORMATS,
      },
    },
  })
  const connections = limitConnections(app.server, {
    maxConnections: config.maxConnections,
    maxPerSource: config.maxConnectionsPerSource,
    securityHeaders,
  })
  app.decorateRequest('caller', null)
  app.decorateRequest('auditNote', null)
  app.decorateRequest('rateLimits', null)
  traceRequests(app)
  instrumentHttp(app, common.metrics.registry)
  registerJsonBodyParser(app)

  const { source: sourceLimiter, caller: callerLimiter } = parts.rateLimits

  // RateLimit-Policy members by policy name.
  const policyFields = new Map([
    ['source', sourceLimiter.policyField],
    ['caller', callerLimiter.policyField],
  ])

  // First of all hooks: what is refused here costs no authentication and no parsing.
  app.addHook('onRequest', async (request, reply) => {
    if (connections.isRefused(request.raw.socket)) {
      reply.hijack()
      request.raw.socket.destroy()
      return
    }
    const tooLong = uriTooLong(request.url)
    if (tooLong) throw new HttpError(tooLong.status, tooLong.code, tooLong.message)
    const decision = await sourceLimiter.hit(request.ip)
    request.rateLimits = [decision]
    if (!decision.allowed) {
      throw new HttpError(
        429,
        'rate_limited',
        `rate limit of ${decision.limit} requests per ${Math.round(config.rateWindowMs / 1000)} s from one source exceeded; retry in ${decision.resetSeconds} s`,
        { retryAfterSeconds: decision.resetSeconds },
      )
    }
  })
  // Every answer: the security headers (helmet's, captured once), the request id clients
  // quote and logs and audit facts carry, no caching, and the rate limits it counted against.
  app.addHook('onSend', async (request, reply) => {
    reply.headers(securityHeaders)
    reply.header('x-request-id', request.id)
    reply.header('cache-control', 'no-store')
    const limits = request.rateLimits
    if (limits && limits.length > 0) {
      reply.header('ratelimit-policy', limits.map((decision) => policyFields.get(decision.policy)).join(', '))
      reply.header('ratelimit', limits.map(rateLimitField).join(', '))
    }
  })

  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'idempotency-key', 'traceparent'],
    exposedHeaders: ['location', 'retry-after', 'idempotent-replayed', 'ratelimit', 'ratelimit-policy'],
    maxAge: 600,
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Veridis gateway',
        version: '1.0.0',
        description:
          'Commands onto the Veridis pipeline (veridis.command.v1) and status from its read models. See docs/gateway.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
  })

  app.setErrorHandler(createErrorHandler({ logger, bodyLimitBytes: config.bodyLimitBytes }))
  app.setNotFoundHandler(notFoundHandler)

  registerPublicHealth(app)

  await app.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      const result = await authenticator.authenticate(request.headers)
      if (!result.ok) throw new HttpError(401, 'unauthenticated', result.reason)
      request.caller = result.caller
      // Per caller, after authentication; the source limit above came first.
      const decision = await callerLimiter.hit(result.caller.key)
      request.rateLimits = [...(request.rateLimits ?? []), decision]
      if (!decision.allowed) {
        throw new HttpError(
          429,
          'rate_limited',
          `rate limit of ${decision.limit} requests per ${Math.round(config.rateWindowMs / 1000)} s exceeded; retry in ${decision.resetSeconds} s`,
          { retryAfterSeconds: decision.resetSeconds },
        )
      }
    })
    registerCommandRoutes(api, parts)
    registerStatusRoutes(api, parts)
    registerNetworkRoutes(api, parts)
    registerSecurityRoutes(api, parts)
    registerBridgeRoutes(api, parts)
  })

  return app
}
