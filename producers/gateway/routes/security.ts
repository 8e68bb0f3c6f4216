import type { FastifyInstance } from 'fastify'
import type { GuardConfig } from '../../../core/bridge/config.ts'
import type { Common } from '../../../core/context.ts'
import type { Pool } from '../../../core/db/pool.ts'
import type { ChainReader } from '../../chains/evm/bridge/chain-reader.ts'
import { type AttestationInput, checkAttestation } from '../attestation-check.ts'
import type { AuditWriter } from '../audit-facts.ts'
import { ANONYMOUS } from '../auth.ts'
import { findingsInBlocks, findingsInTransaction } from '../bridge-reads/findings.ts'
import { bridgeSeen } from '../bridge-reads/messages.ts'
import { latestReserveChecks, livenessSummary, securityDashboard } from '../bridge-reads/overview.ts'
import { HttpError } from '../errors.ts'
import type { RefusalTally } from '../refusal-tally.ts'
import { runsSecurityChecks } from '../roles.ts'
import {
  BRIDGE_ID_PATTERN,
  FINDINGS_SCHEMA,
  GUARDIAN_SCHEMA,
  normaliseTxHash,
  OBJECT,
  RESERVE_CHECK_SCHEMA,
  SECURITY_ERRORS,
} from './security-schemas.ts'
import { SECURITY } from './shared.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The security operation a POST route runs; each request to it leaves an audit fact. */
    securityOperation?: string
  }
}

/** What the security endpoints need beyond the read models. */
export interface SecurityParts {
  /** The bridges the guard watches (bridges.json); undefined when none is configured. */
  readonly bridges: GuardConfig | undefined
  /** One reader per configured chain (producers/chains/evm/bridge/chain-reader.ts). */
  readonly readers: ReadonlyMap<string, ChainReader>
  /** The bridge topic's name in this namespace, as the ledger records it in chain_events. */
  readonly bridgeTopic: string
  /** The alert topic's name in this namespace: the outbox rows the dashboard lists are its. */
  readonly alertTopic: string
}

/** Messages pending longer than this are past SLA for a bridge the configuration does not name. */
const DEFAULT_SLA_MS = 15 * 60_000
/** A block range asked of attacks/detect spans at most this many blocks. */
const MAX_BLOCK_SPAN = 1_000_000
const BLOCK = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const
const ADDRESS = { type: 'string', format: 'evm-address' } as const

const ATTESTATION_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['bridgeId', 'destinationChain', 'gateway', 'release', 'signatures'],
  properties: {
    bridgeId: { type: 'string', pattern: BRIDGE_ID_PATTERN, description: 'a bridge of bridges.json' },
    destinationChain: { type: 'string', format: 'caip2', description: 'the chain the release happens on' },
    gateway: { ...ADDRESS, description: "the bridge's gateway on the destination chain" },
    release: {
      type: 'object',
      additionalProperties: false,
      required: ['mode', 'token', 'recipient', 'amount', 'sourceChain', 'nonce'],
      properties: {
        mode: { type: 'string', enum: ['MINT', 'UNLOCK'] },
        token: ADDRESS,
        recipient: ADDRESS,
        amount: { type: 'string', format: 'uint256' },
        sourceChain: { type: 'string', format: 'caip2' },
        nonce: { type: 'string', format: 'uint256', description: "the source gateway's lock nonce" },
        messageId: {
          type: 'string',
          format: 'hex-hash',
          description: 'optional: checked against the id the source fields give',
        },
      },
    },
    signatures: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: { type: 'string', pattern: '^0x([0-9a-fA-F]{2}){1,256}$' },
      description: 'guardian ECDSA signatures (65 bytes each) over the release digest, EIP-191',
    },
  },
} as const

const VERDICT_SCHEMA = {
  ...OBJECT,
  required: ['verdict', 'reasons', 'messageId', 'signedDigest', 'guardianSet', 'validSigners'],
  properties: {
    verdict: { type: 'string', enum: ['valid', 'invalid'] },
    reasons: { type: 'array', items: { type: 'string' } },
    bridgeId: { type: 'string' },
    destinationChain: { type: 'string' },
    gateway: { type: 'string' },
    messageId: { type: 'string' },
    signedDigest: { type: 'string' },
    guardianSet: {
      ...OBJECT,
      properties: {
        guardians: { type: 'array', items: { type: 'string' } },
        threshold: { type: 'integer' },
        blockNumber: { type: 'integer' },
      },
    },
    validSigners: { type: 'array', items: { type: 'string' } },
    signatures: { type: 'integer' },
    message: {
      ...OBJECT,
      properties: { sourceLockSeen: { type: 'boolean' }, releasesSeen: { type: 'integer' } },
    },
    checkedAt: { type: 'string' },
  },
} as const

const DASHBOARD_SCHEMA = {
  ...OBJECT,
  required: ['openIncidents', 'recentAlerts', 'reserves', 'guardians', 'pendingMessages', 'generatedAt'],
  properties: {
    openIncidents: {
      ...OBJECT,
      properties: {
        total: { type: 'integer' },
        byDetection: {
          type: 'array',
          items: {
            ...OBJECT,
            properties: {
              detection: { type: 'string' },
              severity: { type: 'string' },
              open: { type: 'integer' },
              occurrences: { type: 'integer' },
            },
          },
        },
      },
    },
    recentAlerts: {
      type: 'array',
      items: {
        ...OBJECT,
        properties: {
          alertId: { type: 'string' },
          revision: { type: 'integer' },
          status: { type: ['string', 'null'] },
          detection: { type: ['string', 'null'] },
          kind: { type: ['string', 'null'] },
          severity: { type: ['string', 'null'] },
          summary: { type: ['string', 'null'] },
          chains: { type: 'array', items: { type: 'string' } },
          occurrences: { type: ['integer', 'null'] },
          createdAt: { type: 'string' },
          publishedAt: { type: ['string', 'null'] },
        },
      },
    },
    reserves: { type: 'array', items: RESERVE_CHECK_SCHEMA },
    guardians: { type: 'array', items: GUARDIAN_SCHEMA },
    pendingMessages: { type: 'integer' },
    generatedAt: { type: 'string' },
  },
} as const

const LIVENESS_SCHEMA = {
  ...OBJECT,
  required: ['corridors', 'guardians', 'generatedAt'],
  properties: {
    corridors: {
      type: 'array',
      items: {
        ...OBJECT,
        properties: {
          bridgeId: { type: 'string' },
          sourceChain: { type: 'string' },
          destinationChain: { type: 'string' },
          slaMs: { type: 'integer' },
          pending: { type: 'integer' },
          pastSla: { type: 'integer' },
          withinSla: { type: 'integer' },
          oldestPendingAt: { type: ['string', 'null'] },
          oldestPendingAgeMs: { type: ['integer', 'null'] },
        },
      },
    },
    guardians: { type: 'array', items: GUARDIAN_SCHEMA },
    generatedAt: { type: 'string' },
  },
} as const

/**
 * The bridge-security service over HTTP (issue 13 item 4), answered from the bridge guard's
 * read models; only the attestation check reads a chain (the guardian set at the latest
 * block), so only it needs the `securityChecks` right (admin, analyst). The other routes are
 * reads, open to any authenticated caller like the network endpoints. Every request to a POST
 * route leaves an audit fact, as a command request does.
 */
export function registerSecurityRoutes(
  api: FastifyInstance,
  parts: {
    common: Common
    pool: Pool
    audit: AuditWriter
    refusals: RefusalTally
    security: SecurityParts
  },
): void {
  const { pool, audit, refusals, security } = parts
  const slaMs = new Map((security.bridges?.bridges ?? []).map((bridge) => [bridge.id, bridge.pendingSlaMs]))
  const configured = new Set((security.bridges?.bridges ?? []).map((bridge) => bridge.id))

  api.addHook('onResponse', async (request, reply) => {
    const operation = request.routeOptions.config.securityOperation
    if (!operation) return
    const note = request.auditNote ?? {}
    const actor = request.caller?.actor ?? ANONYMOUS
    if (refusals.counts(reply.statusCode)) {
      refusals.add({
        status: reply.statusCode,
        actor,
        commandType: operation,
        requestId: request.id,
        reason: note.reason ?? `answered ${reply.statusCode}`,
      })
      return
    }
    const answered = reply.statusCode < 400
    audit.write({
      action: answered ? 'security.answered' : 'security.refused',
      actor,
      status: reply.statusCode,
      commandType: operation,
      commandId: null,
      idempotencyKey: null,
      reason: note.reason ?? (answered ? null : `answered ${reply.statusCode}`),
      requestId: request.id,
    })
  })

  api.get(
    '/api/v1/security/dashboard',
    {
      schema: {
        summary:
          'Open incidents by detection and severity, recent alert records, reserves ratio per token, guardian participation, pending messages',
        tags: ['security'],
        security: SECURITY,
        response: { 200: DASHBOARD_SCHEMA, ...SECURITY_ERRORS },
      },
    },
    async () => securityDashboard(pool, security.alertTopic),
  )

  api.post(
    '/api/v1/security/attestations/process',
    {
      config: { securityOperation: 'CheckAttestation' },
      schema: {
        summary:
          "Check a guardian attestation: recompute the digest the gateway signs, recover the signers, compare with the gateway's guardian set at the latest block",
        tags: ['security'],
        security: SECURITY,
        body: ATTESTATION_BODY,
        response: { 200: VERDICT_SCHEMA, ...SECURITY_ERRORS },
      },
      // Before the body is validated: a caller without the right learns nothing more.
      preValidation: async (request) => {
        const caller = request.caller!
        if (!runsSecurityChecks(caller.roles)) {
          throw new HttpError(
            403,
            'forbidden',
            `roles [${caller.roles.join(', ')}] may not run security checks (admin or analyst)`,
          )
        }
      },
    },
    async (request) => {
      const verdict = await checkAttestation({
        input: request.body as AttestationInput,
        bridges: security.bridges,
        readers: security.readers,
        pool,
      })
      request.auditNote = {
        reason: `verdict ${verdict.verdict} for message ${verdict.messageId} on ${verdict.destinationChain} (${verdict.reasons.length} reason(s))`,
      }
      return verdict
    },
  )

  api.post(
    '/api/v1/security/attacks/detect',
    {
      config: { securityOperation: 'DetectAttacks' },
      schema: {
        summary:
          "Findings whose evidence is in a transaction, or in a block range, of a chain (the guard's read models)",
        tags: ['security'],
        security: SECURITY,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['chain'],
          properties: {
            chain: { type: 'string', format: 'caip2' },
            txHash: { type: 'string', format: 'tx-hash', maxLength: 100 },
            fromBlock: BLOCK,
            toBlock: BLOCK,
          },
          description: 'either txHash, or fromBlock and toBlock (inclusive, at most 1,000,000 blocks)',
        },
        response: { 200: FINDINGS_SCHEMA, ...SECURITY_ERRORS },
      },
    },
    async (request) => {
      const body = request.body as { chain: string; txHash?: string; fromBlock?: number; toBlock?: number }
      const range = body.fromBlock !== undefined || body.toBlock !== undefined
      if (body.txHash !== undefined && range) {
        throw new HttpError(
          400,
          'invalid_request',
          'body.txHash: give a transaction or a block range, not both',
          {
            field: 'body.txHash',
          },
        )
      }
      if (body.txHash !== undefined) {
        const txHash = normaliseTxHash(body.txHash)
        const found = await findingsInTransaction(pool, {
          txHash,
          chain: body.chain,
          bridgeTopic: security.bridgeTopic,
        })
        return { chain: body.chain, txHash, fromBlock: null, toBlock: null, ...found }
      }
      if (body.fromBlock === undefined) {
        throw new HttpError(400, 'invalid_request', 'body.fromBlock: is required without txHash', {
          field: 'body.fromBlock',
        })
      }
      if (body.toBlock === undefined) {
        throw new HttpError(400, 'invalid_request', 'body.toBlock: is required without txHash', {
          field: 'body.toBlock',
        })
      }
      if (body.toBlock < body.fromBlock) {
        throw new HttpError(400, 'invalid_request', 'body.toBlock: must not be below fromBlock', {
          field: 'body.toBlock',
        })
      }
      if (body.toBlock - body.fromBlock >= MAX_BLOCK_SPAN) {
        throw new HttpError(
          400,
          'invalid_request',
          `body.toBlock: a range spans at most ${MAX_BLOCK_SPAN} blocks`,
          { field: 'body.toBlock' },
        )
      }
      const found = await findingsInBlocks(pool, {
        chain: body.chain,
        fromBlock: body.fromBlock,
        toBlock: body.toBlock,
        bridgeTopic: security.bridgeTopic,
      })
      return { chain: body.chain, txHash: null, fromBlock: body.fromBlock, toBlock: body.toBlock, ...found }
    },
  )

  api.get(
    '/api/v1/security/liveness/summary',
    {
      schema: {
        summary:
          'Messages pending per corridor, past and within the SLA; guardian participation and signing latency',
        tags: ['security'],
        security: SECURITY,
        response: { 200: LIVENESS_SCHEMA, ...SECURITY_ERRORS },
      },
    },
    async () => livenessSummary(pool, { slaMs, defaultSlaMs: DEFAULT_SLA_MS }),
  )

  api.post(
    '/api/v1/security/reserves/verify',
    {
      config: { securityOperation: 'VerifyReserves' },
      schema: {
        summary:
          'The latest proof-of-reserves check per bridge and token (custody vs wrapped supply + in flight); an empty list before the first check',
        tags: ['security'],
        security: SECURITY,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            bridgeId: { type: 'string', pattern: BRIDGE_ID_PATTERN },
            tokens: {
              type: 'array',
              maxItems: 64,
              items: { type: 'string', minLength: 1, maxLength: 128 },
              description: 'token addresses or symbols as the checks record them; all when absent',
            },
          },
        },
        response: {
          200: {
            ...OBJECT,
            required: ['checks', 'checkedAt'],
            properties: {
              checks: { type: 'array', items: RESERVE_CHECK_SCHEMA },
              checkedAt: { type: 'string' },
            },
          },
          ...SECURITY_ERRORS,
        },
      },
    },
    async (request) => {
      const body = request.body as { bridgeId?: string; tokens?: string[] }
      if (body.bridgeId && !configured.has(body.bridgeId) && !(await bridgeSeen(pool, body.bridgeId))) {
        throw new HttpError(404, 'bridge_not_found', `body.bridgeId: no bridge ${body.bridgeId} is known`, {
          field: 'body.bridgeId',
        })
      }
      const checks = await latestReserveChecks(pool, { bridgeId: body.bridgeId, tokens: body.tokens })
      return { checks, checkedAt: new Date().toISOString() }
    },
  )
}
