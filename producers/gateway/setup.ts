import { randomUUID } from 'node:crypto'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Common } from '../../core/context.ts'
import type { Pool } from '../../core/db/pool.ts'
import { instrumentHttp } from '../../core/ops/server.ts'
import type { CommandAcceptor } from './accept.ts'
import type { AuditWriter } from './audit-facts.ts'
import type { Authenticator, Caller } from './auth.ts'
import type { CommandRoute } from './contract.ts'
import { createErrorHandler, HttpError, notFoundHandler } from './errors.ts'
import { AJV_FORMATS } from './fields.ts'
import type { DependencyHealth } from './kafka-health.ts'
import { registerCommandRoutes } from './routes/commands.ts'
import { registerNetworkRoutes } from './routes/network.ts'
import { registerOpsRoutes } from './routes/ops.ts'
import { registerStatusRoutes } from './routes/status.ts'

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null
    auditNote: { commandId?: string; idempotencyKey?: string; reason?: string; replayed?: boolean } | null
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
}

/** The HTTP facade, without listening: tests use inject(), the process listens. */
export async function buildGatewayApp(parts: GatewayParts): Promise<FastifyInstance> {
  const { common, authenticator } = parts
  const config = common.config.gateway
  const logger = common.logger.child({ component: 'http' })
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => randomUUID(),
    // Request ids are ours: a client-chosen one could forge log and audit correlation.
    requestIdHeader: false,
    return503OnClosing: true,
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
  // Clients quote it when reporting a problem; logs and audit facts carry the same id.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.decorateRequest('caller', null)
  app.decorateRequest('auditNote', null)
  instrumentHttp(app, common.metrics.registry)

  await app.register(helmet, { global: true })
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'idempotency-key', 'traceparent'],
    exposedHeaders: ['location', 'retry-after', 'idempotent-replayed'],
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

  registerOpsRoutes(app, parts)

  await app.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      const result = await authenticator.authenticate(request.headers)
      if (!result.ok) throw new HttpError(401, 'unauthenticated', result.reason)
      request.caller = result.caller
    })
    await api.register(rateLimit, {
      global: true,
      // After authentication, so the limit is per caller rather than per address.
      hook: 'preParsing',
      max: config.rateLimit,
      timeWindow: config.rateWindowMs,
      keyGenerator: (request: FastifyRequest) => request.caller?.key ?? request.ip,
      errorResponseBuilder: (_request, context) =>
        new HttpError(
          429,
          'rate_limited',
          `rate limit of ${context.max} requests per ${Math.round(config.rateWindowMs / 1000)} s exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
          { retryAfterSeconds: Math.ceil(context.ttl / 1000) },
        ),
    })
    registerCommandRoutes(api, parts)
    registerStatusRoutes(api, parts)
    registerNetworkRoutes(api, parts)
  })

  return app
}
