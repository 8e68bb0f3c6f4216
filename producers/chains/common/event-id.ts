import { createHash } from 'node:crypto'

/**
 * Deterministic id of a chain fact: sha256 over chain, block hash, tx hash and log index.
 * A listener that restarts and publishes the same fact again produces the same id, so
 * duplicates are recognisable downstream. The block hash is part of it on purpose: a
 * transaction re-included in another block after a reorg is a new fact (the old one is
 * RETRACTED), not the same fact moved.
 */
export function chainEventId(fact: {
  chain: string
  blockHash: string
  txHash: string
  logIndex: number
}): string {
  return createHash('sha256')
    .update(
      `${fact.chain}\u0000${fact.blockHash.toLowerCase()}\u0000${fact.txHash.toLowerCase()}\u0000${fact.logIndex}`,
    )
    .digest('hex')
}
