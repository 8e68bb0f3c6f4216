import { type BridgeConfig, kindOf } from '../../../core/bridge/config.ts'
import type { BridgeFact } from '../facts.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './finding.ts'

/**
 * Invariants:
 * - replay: a message is released once, on one chain, ever. A second release of a message id
 *   that already has a canonical release is a replay, whichever gateway accepted it.
 * - unproven-message: a root-proven (optimistic) gateway releases a message only against a
 *   committed, non-zero root. A release proven against the zero root — the value an
 *   uninitialised mapping returns — or against no root at all is unproven (Nomad 2022: an
 *   upgrade made the zero root acceptable, and hundreds copied one another's process() calls).
 */
type ReleaseFact = Extract<BridgeFact, { type: 'release' }>

export interface PriorRelease {
  readonly eventId: string
  readonly chain: string
  readonly txHash: string
  readonly blockNumber: number
}

export function checkReplay(options: {
  readonly bridge: BridgeConfig
  readonly fact: ReleaseFact
  readonly prior: readonly PriorRelease[]
}): Finding[] {
  const { bridge, fact, prior } = options
  const earlier = prior.filter((release) => release.eventId !== fact.envelope.eventId)
  if (earlier.length === 0) return []
  const first = earlier[0]!
  return [
    {
      detection: 'replay',
      kind: 'REPLAYED_MESSAGE',
      severity: 'CRITICAL',
      scope: `${bridge.id}:${fact.envelope.chain}:${lower(fact.gateway)}`,
      key: 'replay',
      subject: subjectOf(fact.envelope),
      summary: `message ${fact.messageId} released again on ${fact.envelope.chain} (tx ${fact.envelope.txHash}); first released on ${first.chain} in tx ${first.txHash}`,
      evidence: [{ ...first, role: 'first release' }, evidenceOf(fact.envelope, 'repeated release')],
      details: {
        messageId: fact.messageId,
        releases: String(earlier.length + 1),
        amount: fact.amount.toString(),
      },
      chains: [...new Set([first.chain, fact.envelope.chain])],
    },
  ]
}

const ZERO_ROOT = /^0x0*$/

export function checkProof(options: {
  readonly bridge: BridgeConfig
  readonly fact: ReleaseFact
}): Finding[] {
  const { bridge, fact } = options
  if (kindOf(bridge, fact.envelope.chain) !== 'optimistic-root') return []
  const root = fact.release.proofRoot
  if (root !== null && !ZERO_ROOT.test(root)) return []
  return [
    {
      detection: 'unproven-message',
      kind: 'UNPROVEN_MESSAGE',
      severity: 'CRITICAL',
      scope: `${bridge.id}:${fact.envelope.chain}:${lower(fact.gateway)}`,
      key: root === null ? 'no-root' : 'zero-root',
      subject: subjectOf(fact.envelope),
      summary:
        root === null
          ? `message ${fact.messageId} released on ${fact.envelope.chain} with no proof root announced`
          : `message ${fact.messageId} released on ${fact.envelope.chain} against the zero root: nothing was proven`,
      evidence: [evidenceOf(fact.envelope, 'release')],
      details: {
        messageId: fact.messageId,
        root: root ?? '',
        amount: fact.amount.toString(),
        recipient: fact.release.recipient,
      },
      chains: [fact.envelope.chain],
    },
  ]
}
