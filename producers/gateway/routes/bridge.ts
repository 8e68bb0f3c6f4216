import type { FastifyInstance } from 'fastify'
import type { Pool } from '../../../core/db/pool.ts'
import { findingsInTransaction } from '../bridge-reads/findings.ts'
import {
  analyzeMessage,
  bridgeMetrics,
  bridgeSeen,
  messageIdsOfTransaction,
  transactionAnalysis,
} from '../bridge-reads/messages.ts'
import { HttpError } from '../errors.ts'
import type { SecurityParts } from './security.ts'
import {
  BRIDGE_ID_PATTERN,
  FINDING_SCHEMA,
  normaliseTxHash,
  OBJECT,
  SECURITY_ERRORS,
} from './security-schemas.ts'
import { SECURITY } from './shared.ts'

const nullable = (type: string) => ({ type: [type, 'null'] })

const EVENT_FIELDS = {
  eventId: { type: 'string' },
  bridgeId: { type: 'string' },
  chain: { type: 'string' },
  gateway: { type: 'string' },
  blockNumber: { type: 'integer' },
  txHash: { type: 'string' },
  finality: { type: 'string' },
  mode: { type: 'string' },
  token: { type: 'string' },
  amount: { type: 'string' },
  recipient: { type: 'string' },
  observedAt: { type: 'string' },
} as const
const LOCK_SCHEMA = {
  ...OBJECT,
  properties: { ...EVENT_FIELDS, destinationChain: { type: 'string' } },
} as const
const RELEASE_SCHEMA = {
  ...OBJECT,
  properties: {
    ...EVENT_FIELDS,
    sourceChain: { type: 'string' },
    signers: { type: 'array', items: { type: 'string' } },
    threshold: { type: 'integer' },
    backed: { type: 'boolean', description: 'source lock confirmed by enough independent endpoints' },
  },
} as const

const MESSAGE_SCHEMA = {
  ...OBJECT,
  properties: {
    messageId: { type: 'string' },
    bridgeId: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'released', 'unbacked', 'replayed'] },
    lock: { anyOf: [{ type: 'null' }, LOCK_SCHEMA] },
    otherLocks: { type: 'array', items: LOCK_SCHEMA },
    releases: { type: 'array', items: RELEASE_SCHEMA },
    backing: {
      ...OBJECT,
      properties: {
        locked: nullable('string'),
        released: { type: 'string' },
        unbacked: { type: 'string' },
        sourceConfirmed: { type: 'boolean' },
      },
    },
    findings: { type: 'array', items: FINDING_SCHEMA },
    findingsTruncated: { type: 'boolean' },
  },
} as const

const VALUE_SCHEMA = {
  type: 'array',
  items: {
    ...OBJECT,
    properties: {
      chain: { type: 'string' },
      token: { type: 'string' },
      amount: { type: 'string' },
      messages: { type: 'integer' },
    },
  },
} as const

const METRICS_SCHEMA = {
  ...OBJECT,
  required: ['bridgeId', 'messages', 'value', 'findingsByDetection', 'incidents'],
  properties: {
    bridgeId: { type: 'string' },
    configured: { type: 'boolean' },
    messages: {
      ...OBJECT,
      properties: {
        locked: { type: 'integer' },
        released: { type: 'integer' },
        pending: { type: 'integer' },
        releasedWithoutLock: { type: 'integer' },
      },
    },
    value: {
      ...OBJECT,
      properties: { locked: VALUE_SCHEMA, released: VALUE_SCHEMA, pending: VALUE_SCHEMA },
    },
    findingsByDetection: {
      type: 'array',
      items: {
        ...OBJECT,
        properties: {
          detection: { type: 'string' },
          findings: { type: 'integer' },
          active: { type: 'integer' },
        },
      },
    },
    incidents: { ...OBJECT, properties: { open: { type: 'integer' }, total: { type: 'integer' } } },
    generatedAt: { type: 'string' },
  },
} as const

const TRANSACTION_SCHEMA = {
  ...OBJECT,
  required: ['txHash', 'events', 'findings'],
  properties: {
    txHash: { type: 'string' },
    chain: nullable('string'),
    messageIds: { type: 'array', items: { type: 'string' } },
    events: {
      type: 'array',
      items: {
        ...OBJECT,
        properties: {
          eventId: { type: 'string' },
          kind: { type: 'string' },
          chain: { type: 'string' },
          blockNumber: { type: 'integer' },
          blockHash: nullable('string'),
          logIndex: nullable('integer'),
          emitter: { type: 'string' },
          finality: { type: 'string' },
          observedAt: { type: 'string' },
          lock: { anyOf: [{ type: 'null' }, LOCK_SCHEMA] },
          release: { anyOf: [{ type: 'null' }, RELEASE_SCHEMA] },
        },
      },
    },
    findings: { type: 'array', items: FINDING_SCHEMA },
    truncated: { type: 'boolean' },
  },
} as const

/**
 * A bridge message, a bridge and a transaction as the bridge guard has seen them (its read
 * models and the ledger's chain_events). Reads, open to any authenticated caller; the POST
 * leaves an audit fact like every security POST (routes/security.ts).
 */
export function registerBridgeRoutes(
  api: FastifyInstance,
  parts: { pool: Pool; security: SecurityParts },
): void {
  const { pool, security } = parts
  const configured = new Set((security.bridges?.bridges ?? []).map((bridge) => bridge.id))

  api.post(
    '/api/v1/bridge/analyze',
    {
      config: { securityOperation: 'AnalyzeBridgeMessage' },
      schema: {
        summary:
          'A bridge message (by id, or every message of a transaction): its lock, release(s), backing and findings',
        tags: ['bridge'],
        security: SECURITY,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            messageId: { type: 'string', format: 'hex-hash' },
            txHash: { type: 'string', format: 'tx-hash', maxLength: 100 },
            chain: { type: 'string', format: 'caip2', description: 'narrows txHash to one chain' },
          },
          description: 'either messageId or txHash',
        },
        response: {
          200: {
            ...OBJECT,
            required: ['messages'],
            properties: { messages: { type: 'array', items: MESSAGE_SCHEMA } },
          },
          ...SECURITY_ERRORS,
        },
      },
    },
    async (request) => {
      const body = request.body as { messageId?: string; txHash?: string; chain?: string }
      if ((body.messageId === undefined) === (body.txHash === undefined)) {
        throw new HttpError(400, 'invalid_request', 'body.messageId: give either messageId or txHash', {
          field: 'body.messageId',
        })
      }
      const ids = body.messageId
        ? [body.messageId.toLowerCase()]
        : await messageIdsOfTransaction(pool, normaliseTxHash(body.txHash!), body.chain ?? null)
      const messages = (await Promise.all(ids.map((id) => analyzeMessage(pool, id)))).filter(
        (message) => message !== undefined,
      )
      if (messages.length === 0) {
        const field = body.messageId ? 'body.messageId' : 'body.txHash'
        throw new HttpError(
          404,
          'message_not_found',
          `${field}: no bridge message the guard has seen matches`,
          {
            field,
          },
        )
      }
      return { messages }
    },
  )

  api.get(
    '/api/v1/bridge/metrics/:bridgeId',
    {
      schema: {
        summary:
          'One bridge: messages locked, released and pending, value per chain and token, findings by detection, open incidents',
        tags: ['bridge'],
        security: SECURITY,
        params: {
          type: 'object',
          required: ['bridgeId'],
          properties: { bridgeId: { type: 'string', pattern: BRIDGE_ID_PATTERN } },
        },
        response: { 200: METRICS_SCHEMA, ...SECURITY_ERRORS },
      },
    },
    async (request) => {
      const { bridgeId } = request.params as { bridgeId: string }
      const known = configured.has(bridgeId)
      if (!known && !(await bridgeSeen(pool, bridgeId))) {
        throw new HttpError(404, 'bridge_not_found', `params.bridgeId: no bridge ${bridgeId} is known`, {
          field: 'params.bridgeId',
        })
      }
      return { ...(await bridgeMetrics(pool, bridgeId)), configured: known }
    },
  )

  api.get(
    '/api/v1/transaction/analyze/:txHash',
    {
      schema: {
        summary: 'Every bridge event of a transaction, with the findings about them',
        tags: ['bridge'],
        security: SECURITY,
        params: {
          type: 'object',
          required: ['txHash'],
          properties: { txHash: { type: 'string', format: 'tx-hash', maxLength: 100 } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { chain: { type: 'string', format: 'caip2' } },
        },
        response: { 200: TRANSACTION_SCHEMA, ...SECURITY_ERRORS },
      },
    },
    async (request) => {
      const txHash = normaliseTxHash((request.params as { txHash: string }).txHash)
      const chain = (request.query as { chain?: string }).chain ?? null
      const [analysis, found] = await Promise.all([
        transactionAnalysis(pool, { txHash, chain, bridgeTopic: security.bridgeTopic }),
        findingsInTransaction(pool, { txHash, chain, bridgeTopic: security.bridgeTopic }),
      ])
      if (analysis.events.length === 0 && found.findings.length === 0) {
        throw new HttpError(
          404,
          'transaction_not_found',
          'params.txHash: no bridge event or finding the pipeline has seen is in this transaction',
          { field: 'params.txHash' },
        )
      }
      return { txHash, chain, ...analysis, ...found }
    },
  )
}
