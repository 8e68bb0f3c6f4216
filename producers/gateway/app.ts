import { randomUUID } from 'node:crypto'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify'
import { parseTraceparent } from '../../core/bus/trace.ts'
import type { Common } from '../../core/context.ts'
import type { Pool } from '../../core/db/pool.ts'
import { describeError, isTransient } from '../../core/errors.ts'
import { gatewayMetrics } from '../../core/metrics/protocol.ts'
import { instrumentHttp } from '../../core/ops/server.ts'
import type { CommandAcceptor } from './accept.ts'
import type { AuditWriter } from './audit-facts.ts'
import { ANONYMOUS, type Authenticator, type Caller } from './auth.ts'
import { commandLife, loadCommandFacts } from './command-status.ts'
import { bodySchemaFor, COMMAND_ROUTES, type CommandRoute } from './contract.ts'
import { HttpError } from './errors.ts'
import { AJV_FORMATS, FORMATS } from './fields.ts'
import type { DependencyHealth } from './kafka-health.ts'
import { chainStatus, networkStatus } from './network.ts'
import { maySend, readsAllCommands } from './roles.ts'

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

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
const SECURITY: { [scheme: string]: string[] }[] = [{ bearer: [] }, { apiKey: [] }]

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'message', 'requestId'],
  properties: {
    error: { type: 'string', description: 'stable code' },
    message: { type: 'string' },
    field: { type: 'string', description: 'the offending field, e.g. body.inputs.secret[0]' },
    requestId: { type: 'string' },
  },
} as const

const ACCEPTED_SCHEMA = {
  type: 'object',
  required: ['commandId', 'status', 'statusUrl', 'replayed'],
  properties: {
    commandId: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['accepted'] },
    statusUrl: { type: 'string' },
    replayed: { type: 'boolean', description: 'true when the Idempotency-Key named an earlier request' },
  },
} as const

const nullable = (type: string) => ({ type: [type, 'null'] })
const CHAIN_HEALTH_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  required: ['chain', 'status', 'updatedAt'],
  properties: {
    chain: { type: 'string' },
    family: { type: 'string' },
    status: { type: 'string', enum: ['ok', 'error', 'stale'] },
    headBlock: nullable('integer'),
    cursorBlock: nullable('integer'),
    finalizedBlock: nullable('integer'),
    lagBlocks: nullable('integer'),
    lastError: nullable('string'),
    lastErrorAt: nullable('string'),
    updatedAt: { type: 'string' },
    secondsSinceUpdate: { type: 'integer' },
    note: { type: 'string' },
  },
} as const

const NETWORK_STATUS_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  required: ['status', 'chains', 'unreported', 'checkedAt'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    chains: { type: 'array', items: CHAIN_HEALTH_SCHEMA },
    unreported: { type: 'array', items: { type: 'string' } },
    checkedAt: { type: 'string' },
  },
} as const

const COMMAND_VIEW_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  required: ['commandId', 'type', 'status', 'actor', 'issuedAt', 'history'],
  properties: {
    commandId: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string', enum: ['accepted', 'processing', 'done', 'failed'] },
    actor: {
      type: 'object',
      additionalProperties: true,
      properties: { kind: { type: 'string' }, id: { type: 'string' } },
    },
    issuedAt: { type: 'string' },
    summary: { type: 'object', additionalProperties: true },
    history: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: { status: { type: 'string' }, at: { type: 'string' } },
      },
    },
    result: { anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: true }] },
    alerts: { type: 'array', items: { type: 'object', additionalProperties: true } },
    audit: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const

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

/** The HTTP facade, without listening: tests use inject(), the process listens. */
export async function buildGatewayApp(parts: GatewayParts): Promise<FastifyInstance> {
  const { common, pool, health, authenticator, acceptor, audit } = parts
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
  const commandsTotal = gatewayMetrics(common.metrics.registry).commandRequests

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

  app.setErrorHandler((error: FastifyError & { validationContext?: string }, request, reply) => {
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
      message = `body: exceeds the limit of ${config.bodyLimitBytes} bytes`
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
  })

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'not_found',
      message: `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`,
      requestId: request.id,
    }),
  )

  // Operations: no credentials, as for every pipeline process.
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok', service: common.service }))
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    const checks = health.checks()
    const ready = checks.kafka && checks.registry && checks.database && checks.producer
    return reply.code(ready ? 200 : 503).send({ ready, checks })
  })
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await common.metrics.registry.metrics()
    return reply.header('content-type', common.metrics.registry.contentType).send(body)
  })
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger())

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

    // Exactly one audit fact per command request, whatever the outcome.
    api.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.config.commandRoute
      if (!route) return
      const note = request.auditNote ?? {}
      const accepted = reply.statusCode === 202
      commandsTotal.inc({ type: route.record, status_code: String(reply.statusCode) })
      audit.write({
        action: accepted ? (note.replayed ? 'command.replayed' : 'command.accepted') : 'command.refused',
        actor: request.caller?.actor ?? ANONYMOUS,
        status: reply.statusCode,
        commandType: route.record,
        commandId: note.commandId ?? null,
        idempotencyKey: note.idempotencyKey ?? null,
        reason: accepted ? null : (note.reason ?? `answered ${reply.statusCode}`),
        requestId: request.id,
      })
    })

    for (const route of COMMAND_ROUTES) {
      api.post(
        route.url,
        {
          config: { commandRoute: route },
          schema: {
            summary: route.summary,
            tags: ['commands'],
            security: SECURITY,
            headers: {
              type: 'object',
              properties: {
                'idempotency-key': {
                  type: 'string',
                  minLength: 1,
                  maxLength: 255,
                  pattern: '^[\\x21-\\x7E]+$',
                  description: 'Retries with the same key return the original command id.',
                },
              },
            },
            body: bodySchemaFor(route),
            response: { 202: ACCEPTED_SCHEMA, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
          },
          // Before the body is validated: a caller without the right learns nothing more.
          preValidation: async (request) => {
            const caller = request.caller!
            if (!maySend(caller.roles, route.record)) {
              throw new HttpError(
                403,
                'forbidden',
                `roles [${caller.roles.join(', ')}] may not send ${route.record}`,
              )
            }
          },
        },
        async (request, reply) => {
          const header = request.headers['idempotency-key']
          const acceptance = await acceptor.accept({
            caller: request.caller!,
            route,
            body: request.body as Record<string, unknown>,
            idempotencyKey: typeof header === 'string' ? header : undefined,
            traceparent: parseTraceparent(request.headers.traceparent as string | undefined)
              ? (request.headers.traceparent as string)
              : undefined,
          })
          request.auditNote = {
            commandId: acceptance.commandId,
            idempotencyKey: acceptance.idempotencyKey,
            replayed: acceptance.replayed,
          }
          const statusUrl = `/api/v1/commands/${acceptance.commandId}`
          if (acceptance.replayed) reply.header('idempotent-replayed', 'true')
          return reply.code(202).header('location', statusUrl).send({
            commandId: acceptance.commandId,
            status: 'accepted',
            statusUrl,
            replayed: acceptance.replayed,
          })
        },
      )
    }

    api.get(
      '/api/v1/commands/:id',
      {
        schema: {
          summary: "A command's life: accepted → processing → done/failed, with its outcome",
          tags: ['status'],
          security: SECURITY,
          params: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string', pattern: UUID } },
          },
          response: { 200: COMMAND_VIEW_SCHEMA, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string }
        const facts = await loadCommandFacts(pool, id.toLowerCase())
        const caller = request.caller!
        const visible =
          facts &&
          (readsAllCommands(caller.roles) ||
            (facts.command.actor_kind === caller.actor.kind && facts.command.actor_id === caller.actor.id))
        // Someone else's command is reported as unknown: its existence is not the caller's business.
        if (!facts || !visible) {
          throw new HttpError(
            404,
            'command_not_found',
            `params.id: no command ${id} visible to this caller (a command just accepted appears within a second)`,
            { field: 'params.id' },
          )
        }
        return commandLife(facts, common.config.chains)
      },
    )

    api.get(
      '/api/v1/network/status',
      {
        schema: {
          summary: 'Every chain listener: head, cursor, lag in blocks, finalized block, last error',
          tags: ['network'],
          security: SECURITY,
          response: { 200: NETWORK_STATUS_SCHEMA, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
        },
      },
      async () =>
        networkStatus(pool, { staleMs: config.listenerStaleMs, configuredChains: common.config.chains }),
    )

    api.get(
      '/api/v1/network/health/:chain',
      {
        schema: {
          summary: "One chain's listener state; 404 when no listener reports for it",
          tags: ['network'],
          security: SECURITY,
          params: {
            type: 'object',
            required: ['chain'],
            properties: { chain: { type: 'string', pattern: '^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$' } },
          },
          response: { 200: CHAIN_HEALTH_SCHEMA, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
        },
      },
      async (request) => {
        const { chain } = request.params as { chain: string }
        const found = await chainStatus(pool, chain, config.listenerStaleMs)
        if (!found)
          throw new HttpError(
            404,
            'chain_not_found',
            `params.chain: no listener reports for chain ${chain}`,
            {
              field: 'params.chain',
            },
          )
        return found
      },
    )
  })

  return app
}
