import type { FastifyInstance } from 'fastify'
import type { Common } from '../../../core/context.ts'
import type { Pool } from '../../../core/db/pool.ts'
import { chainBridgeActivity } from '../bridge-reads/chain.ts'
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

/** One chain in depth: its listener's state, the durable cursors and its bridge activity. */
const CHAIN_DETAIL_SCHEMA = {
  ...CHAIN_HEALTH_SCHEMA,
  properties: {
    ...CHAIN_HEALTH_SCHEMA.properties,
    cursors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          listener: { type: 'string' },
          family: { type: 'string' },
          cursorBlock: { type: 'integer' },
          finalizedBlock: { type: 'integer' },
          updatedAt: { type: 'string' },
        },
      },
    },
    bridge: {
      type: 'object',
      additionalProperties: true,
      properties: {
        lastEvent: {
          anyOf: [
            { type: 'null' },
            {
              type: 'object',
              additionalProperties: true,
              properties: {
                eventId: { type: 'string' },
                kind: { type: 'string' },
                blockNumber: { type: 'integer' },
                txHash: { type: 'string' },
                observedAt: { type: 'string' },
              },
            },
          ],
        },
        openFindings: {
          type: 'integer',
          description: "the bridge guard's findings about this chain still standing",
        },
      },
    },
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
export function registerNetworkRoutes(
  api: FastifyInstance,
  parts: { common: Common; pool: Pool; security: { bridgeTopic: string } },
): void {
  const { common, pool, security } = parts
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
        summary:
          "One chain's listener state, durable cursors, last bridge event and open bridge findings; 404 when no listener reports for it",
        tags: ['network'],
        security: SECURITY,
        params: {
          type: 'object',
          required: ['chain'],
          properties: { chain: { type: 'string', pattern: '^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$' } },
        },
        response: { 200: CHAIN_DETAIL_SCHEMA, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
      },
    },
    async (request) => {
      const { chain } = request.params as { chain: string }
      const found = await chainStatus(pool, chain, staleMs)
      if (!found)
        throw new HttpError(404, 'chain_not_found', `params.chain: no listener reports for chain ${chain}`, {
          field: 'params.chain',
        })
      return { ...found, ...(await chainBridgeActivity(pool, chain, security.bridgeTopic)) }
    },
  )
}
