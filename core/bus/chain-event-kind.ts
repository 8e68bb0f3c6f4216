import type { AttestationEvent, BridgeEvent, NullifierEvent } from './types.ts'
import { unionBranch } from './union.ts'

/**
 * The name of a chain fact, as the contract's log names it: the record of the union branch
 * (`AttestationIssued`, `BridgeLocked`, ...), or for a nullifier use, which has no union,
 * `NullifierRelayed` (copied by the propagation relayer), `NullifierUsedWithProof` or
 * `NullifierUsed`. Used for metrics labels and the ledger's `kind`.
 */
export function chainEventKind(event: {
  readonly value: AttestationEvent | NullifierEvent | BridgeEvent
}): string {
  const { value } = event
  if ('change' in value) return unionBranch(value.change)?.type ?? 'AttestationEvent'
  if ('action' in value) return unionBranch(value.action)?.type ?? 'BridgeEvent'
  if (value.source === 'RELAYER') return 'NullifierRelayed'
  return value.proof ? 'NullifierUsedWithProof' : 'NullifierUsed'
}
