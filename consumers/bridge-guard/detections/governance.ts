import type { BridgeConfig } from '../../../core/bridge/config.ts'
import type { BridgeFact } from '../facts.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './finding.ts'

/**
 * Invariant: a change to who can release value — the guardian set, the threshold, the admin —
 * comes from the bridge's governance: a transaction sent by an allow-listed governance sender,
 * one in which a configured timelock contract executed the call (it logs in the same receipt),
 * or an allow-listed transaction. Anything else changed the rules without governance (Poly
 * Network 2021: a cross-chain message called the function that replaces the keeper set).
 * Pausing is a safety action and is not held to this.
 */
type ConfigFact = Extract<BridgeFact, { type: 'configChange' }>

export interface ChangeTransaction {
  readonly from: string | null
  readonly to: string | null
  /** Addresses that emitted logs in the transaction's receipt. */
  readonly logEmitters: readonly string[]
}

export function checkGovernance(options: {
  readonly bridge: BridgeConfig
  readonly fact: ConfigFact
  readonly transaction: ChangeTransaction | undefined
}): Finding[] {
  const { bridge, fact, transaction } = options
  if (fact.change === 'pause') return []
  const { governance } = bridge
  const txHash = lower(fact.envelope.txHash)
  if (governance.transactions.some((allowed) => lower(allowed) === txHash)) return []
  const senders = new Set(governance.senders.map(lower))
  const timelocks = new Set(governance.timelocks.map(lower))
  if (transaction?.from && senders.has(lower(transaction.from))) return []
  if (transaction?.logEmitters.some((emitter) => timelocks.has(lower(emitter)))) return []
  const who = transaction
    ? `sent by ${transaction.from ?? 'unknown'} to ${transaction.to ?? 'a contract creation'}, with no governance timelock in the receipt`
    : 'whose transaction could not be read'
  return [
    {
      detection: 'governance-bypass',
      kind: fact.change === 'admin' ? 'ADMIN_CHANGE' : 'GOVERNANCE_BYPASS',
      severity: 'CRITICAL',
      scope: `${bridge.id}:${fact.envelope.chain}:${lower(fact.gateway)}`,
      key: fact.change,
      subject: subjectOf(fact.envelope),
      summary: `${fact.change} change on gateway ${fact.gateway} (${fact.envelope.chain}) not made by governance: ${fact.summary}, ${who}`,
      evidence: [evidenceOf(fact.envelope, `${fact.change} change`)],
      details: {
        change: fact.summary,
        from: transaction?.from ?? '',
        to: transaction?.to ?? '',
        governanceSenders: governance.senders.join(','),
        governanceTimelocks: governance.timelocks.join(','),
      },
      chains: [fact.envelope.chain],
    },
  ]
}
