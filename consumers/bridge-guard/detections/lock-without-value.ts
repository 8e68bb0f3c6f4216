import type { BridgeConfig } from '../../../core/bridge/config.ts'
import type { BridgeFact } from '../facts.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './finding.ts'

/**
 * Invariant: a lock (or burn) is a source message only if the token it names is one the
 * bridge carries and at least its amount of that token entered the gateway in the same
 * transaction — the Transfer logs of the lock's own receipt, which the listener puts on the
 * event (Wormhole's Transfer Verifier rule). Qubit 2022: a deposit of the zero token address
 * emitted a deposit event with no token transfer, and the other side minted against it.
 */
type LockFact = Extract<BridgeFact, { type: 'lock' }>

export function checkLockValue(options: {
  readonly bridge: BridgeConfig
  readonly fact: LockFact
}): Finding[] {
  const { bridge, fact } = options
  const { lock } = fact
  const chain = fact.envelope.chain
  const gateway = lower(fact.gateway)
  const known = bridge.tokens.some((token) => lower(token.addresses[chain] ?? '') === lower(lock.token))
  const received = lock.transfers
    .filter((transfer) => lower(transfer.token) === lower(lock.token) && lower(transfer.to) === gateway)
    .reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n)
  const problem = !known
    ? `names token ${lock.token}, which bridge ${bridge.id} does not carry on ${chain}`
    : received < fact.amount
      ? `announces ${fact.amount} but only ${received} of ${lock.token} entered the gateway in its transaction`
      : undefined
  if (!problem) return []
  return [
    {
      detection: 'lock-without-value',
      kind: 'LOCK_WITHOUT_VALUE',
      severity: 'CRITICAL',
      scope: `${bridge.id}:${chain}:${gateway}`,
      key: known ? 'short' : 'unknown-token',
      subject: subjectOf(fact.envelope),
      summary: `lock of message ${fact.messageId} on ${chain} ${problem}`,
      evidence: [evidenceOf(fact.envelope, 'source lock')],
      details: {
        messageId: fact.messageId,
        token: lock.token,
        announced: fact.amount.toString(),
        received: received.toString(),
        transfers: String(lock.transfers.length),
        destinationChain: lock.destinationChain,
      },
      chains: [chain, lock.destinationChain],
    },
  ]
}
