import type { FastifyInstance } from 'fastify'
import type { Common } from '../../../core/context.ts'
import { gatewayMetrics } from '../../../core/metrics/protocol.ts'
import type { CommandAcceptor } from '../accept.ts'
import type { AuditWriter } from '../audit-facts.ts'
import { ANONYMOUS } from '../auth.ts'
import { bodySchemaFor, COMMAND_ROUTES } from '../contract.ts'
import { HttpError } from '../errors.ts'
import type { RefusalTally } from '../refusal-tally.ts'
import { maySend } from '../roles.ts'
import { requestTraceparent } from '../tracing.ts'
import { ERROR_SCHEMA, SECURITY } from './shared.ts'

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

/** One POST route per command type (proving: one per circuit), each leaving an audit fact. */
export function registerCommandRoutes(
  api: FastifyInstance,
  parts: { common: Common; acceptor: CommandAcceptor; audit: AuditWriter; refusals: RefusalTally },
): void {
  const { common, acceptor, audit, refusals } = parts
  const commandsTotal = gatewayMetrics(common.metrics.registry).commandRequests

  // One audit fact per command request, whatever the outcome — except refusals anyone can
  // cause at will (401, 429), which are counted per window (refusal-tally.ts).
  api.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.config.commandRoute
    if (!route) return
    const note = request.auditNote ?? {}
    const accepted = reply.statusCode === 202
    commandsTotal.inc({ type: route.record, status_code: String(reply.statusCode) })
    if (refusals.counts(reply.statusCode)) {
      refusals.add({
        status: reply.statusCode,
        actor: request.caller?.actor ?? ANONYMOUS,
        commandType: route.record,
        requestId: request.id,
        reason: note.reason ?? `answered ${reply.statusCode}`,
      })
      return
    }
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
          traceparent: requestTraceparent(request),
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
}
