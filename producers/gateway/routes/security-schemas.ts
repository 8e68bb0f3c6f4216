import { ERROR_SCHEMA } from './shared.ts'

/** Pieces the security and bridge routes' schemas share. */

/** Bridge ids as bridges.json allows them (core/bridge/config.ts). */
export const BRIDGE_ID_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$'

/** Answers are open objects: fields may be added, never removed. */
export const OBJECT = { type: 'object', additionalProperties: true } as const

export const SECURITY_ERRORS = { '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA } as const

/** EVM and StarkNet hashes are stored lower-case; a base58 signature is case-sensitive. */
export const normaliseTxHash = (hash: string) => (hash.startsWith('0x') ? hash.toLowerCase() : hash)

export const FINDING_SCHEMA = {
  ...OBJECT,
  properties: {
    findingId: { type: 'string' },
    alertId: { type: 'string' },
    detection: { type: 'string' },
    summary: { type: 'string' },
    subjectEventId: { type: 'string' },
    subjectChain: { type: 'string' },
    active: { type: 'boolean' },
    confirmed: { type: 'boolean' },
    createdAt: { type: 'string' },
    incident: {
      ...OBJECT,
      properties: {
        kind: { type: 'string' },
        severity: { type: 'string' },
        status: { type: 'string' },
        occurrences: { type: 'integer' },
        withdrawn: { type: 'boolean' },
      },
    },
  },
} as const

export const FINDINGS_SCHEMA = {
  ...OBJECT,
  required: ['findings', 'truncated'],
  properties: {
    chain: { type: 'string' },
    txHash: { type: ['string', 'null'] },
    fromBlock: { type: ['integer', 'null'] },
    toBlock: { type: ['integer', 'null'] },
    findings: { type: 'array', items: FINDING_SCHEMA },
    truncated: { type: 'boolean', description: 'true when more than 500 findings matched' },
  },
} as const

export const GUARDIAN_SCHEMA = {
  ...OBJECT,
  properties: {
    chain: { type: 'string' },
    gateway: { type: 'string' },
    guardian: { type: 'string' },
    operator: { type: 'string' },
    signed: { type: 'integer' },
    eligible: { type: 'integer' },
    participation: { type: ['number', 'null'], description: 'signed / eligible releases' },
    meanLatencyMs: {
      type: ['integer', 'null'],
      description: 'mean delay from the source lock to its release',
    },
    lastSignedAt: { type: ['string', 'null'] },
  },
} as const

export const RESERVE_CHECK_SCHEMA = {
  ...OBJECT,
  properties: {
    checkId: { type: 'integer' },
    bridgeId: { type: 'string' },
    token: { type: 'string' },
    custody: { type: 'string' },
    custodyChain: { type: 'string' },
    custodyBlock: { type: 'integer' },
    wrappedSupply: { type: 'string' },
    inFlight: { type: 'string' },
    shortfall: { type: 'string' },
    ratio: { type: ['number', 'null'], description: 'custody / (wrapped supply + in flight)' },
    backed: { type: 'boolean' },
    heights: { type: 'object', additionalProperties: true },
    checkedAt: { type: 'string' },
  },
} as const
