import type { FastifyInstance } from 'fastify'
import type { Common } from '../../../core/context.ts'
import type { Pool } from '../../../core/db/pool.ts'
import type { AuditWriter } from '../audit-facts.ts'
import { commandLife, loadCommandFacts } from '../command-status.ts'
import { HttpError } from '../errors.ts'
import { readsAllCommands } from '../roles.ts'
import { ERROR_SCHEMA, SECURITY, UUID_PATTERN } from './shared.ts'

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

/** A command's status, for its owner or a caller who reads every command. */
export function registerStatusRoutes(
  api: FastifyInstance,
  parts: { common: Common; pool: Pool; audit: AuditWriter },
): void {
  const { common, pool, audit } = parts
  const logger = common.logger.child({ component: 'http' })
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
          properties: { id: { type: 'string', pattern: UUID_PATTERN } },
        },
        response: { 200: COMMAND_VIEW_SCHEMA, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string }
      const caller = request.caller!
      const readsAll = readsAllCommands(caller.roles)
      const facts = await loadCommandFacts(pool, id.toLowerCase(), readsAll ? undefined : caller.actor)
      // Someone else's command is reported as unknown: its existence is not the caller's business.
      if (!facts) {
        throw new HttpError(
          404,
          'command_not_found',
          `params.id: no command ${id} visible to this caller (a command just accepted appears within a second)`,
          { field: 'params.id' },
        )
      }
      const { command } = facts
      if (command.actor_kind !== caller.actor.kind || command.actor_id !== caller.actor.id) {
        // Reading another caller's command is a right of admins and auditors, and every use is on record.
        const owner = `${command.actor_kind}/${command.actor_id}`
        logger.info(
          { requestId: request.id, actor: caller.actor, commandId: command.command_id, owner },
          "read of another caller's command",
        )
        audit.write({
          action: 'command.read',
          actor: caller.actor,
          status: 200,
          commandType: command.command_type,
          commandId: command.command_id,
          idempotencyKey: null,
          reason: `read of another caller's command (owner ${owner}) with roles [${caller.roles.join(', ')}]`,
          requestId: request.id,
        })
      }
      return commandLife(facts, common.config.chains)
    },
  )
}
