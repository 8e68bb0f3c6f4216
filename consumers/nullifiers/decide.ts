import { createHash } from 'node:crypto'

/**
 * What the uses of one (scope, nullifier) mean, as a pure function of the uses seen so far,
 * so every replay of the topic reaches the same projection, alerts and propagations.
 */
export type Finality = 'PENDING' | 'SAFE' | 'FINALIZED' | 'RETRACTED'

export interface Use {
  readonly eventId: string
  readonly chain: string
  readonly source: 'PROOF' | 'RELAYER'
  readonly finality: Finality
  readonly txHash: string
  readonly blockNumber: number
  /** Kafka offset of first sight; every use of one key is on one partition, so this orders them. */
  readonly arrival: number
}

export type NullifierState = 'USED' | 'DOUBLE_USE' | 'RETRACTED' | 'RELAYED'

export interface Decision {
  /** The use that counts: the first PROOF use still on its chain. */
  readonly first: Use | undefined
  readonly status: NullifierState
  /** Pairs (first, other) that are a proven double use: on different chains, both final. */
  readonly doubleUses: readonly (readonly [Use, Use])[]
  /** PROOF uses that left their chain: their not-yet-sent propagations are called off. */
  readonly retracted: readonly Use[]
}

/**
 * First use wins, by arrival. A use counts while it is on its chain: RETRACTED (a reorg took
 * its block) undoes it unless it was FINALIZED (the listener's last word outranks).
 *
 * A second PROOF use on another chain is a double use; it is reported once both are
 * FINALIZED, because until then a reorg can still take either away and the alert would be
 * false. A second PROOF use on the same chain is not a double use: the registry refuses a
 * second use per chain, so it is the same use re-included in another block after a reorg
 * (its first inclusion is, or will be, retracted). RELAYER uses are our own copies.
 */
export function decide(uses: readonly Use[]): Decision {
  const ordered = [...uses].sort((a, b) => a.arrival - b.arrival)
  const proofs = ordered.filter((use) => use.source === 'PROOF')
  const live = proofs.filter((use) => use.finality !== 'RETRACTED')
  const first = live[0]
  const retracted = proofs.filter((use) => use.finality === 'RETRACTED')
  if (!first) {
    return { first, status: proofs.length > 0 ? 'RETRACTED' : 'RELAYED', doubleUses: [], retracted }
  }
  const elsewhere = live.filter((use) => use.chain !== first.chain)
  const doubleUses = elsewhere
    .filter((use) => first.finality === 'FINALIZED' && use.finality === 'FINALIZED')
    .map((use) => [first, use] as const)
  return { first, status: elsewhere.length > 0 ? 'DOUBLE_USE' : 'USED', doubleUses, retracted }
}

/** Deterministic over the kind and both occurrences, so a re-detection is recognised. */
export function doubleUseAlertId(scope: string, nullifier: string, first: Use, second: Use): string {
  return createHash('sha256')
    .update(['DOUBLE_NULLIFIER_USE', scope, nullifier, first.eventId, second.eventId].join('\u0000'))
    .digest('hex')
}
