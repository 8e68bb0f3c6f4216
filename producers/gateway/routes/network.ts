import type { FastifyInstance } from 'fastify'
import type { Common } from '../../../core/context.ts'
import type { Pool } from '../../../core/db/pool.ts'
import { HttpError } from '../errors.ts'
import { chainStatus, networkStatus } from '../network.ts'
import { ERROR_SCHEMA, SECURITY } from './shared.ts'

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

/** Chain listeners' state for any authenticated caller. */
export function registerNetworkRoutes(api: FastifyInstance, parts: { common: Common; pool: Pool }): void {
  const { common, pool } = parts
  const staleMs = common.config.gateway.listenerStaleMs
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
    async () => networkStatus(pool, { staleMs, configuredChains: common.config.chains }),
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
      const found = await chainStatus(pool, chain, staleMs)
      if (!found)
        throw new HttpError(404, 'chain_not_found', `params.chain: no listener reports for chain ${chain}`, {
          field: 'params.chain',
        })
      return found
    },
  )
}
