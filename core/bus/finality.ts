import type { Finality } from './types.ts'

/**
 * Which state of a chain fact wins when two arrive, for every read model that follows facts
 * to their last word. RETRACTED beats PENDING and SAFE (the block left the chain). FINALIZED
 * beats everything, RETRACTED included: a block that left the chain and came back (reorg
 * A→B→A) is republished under the same event id, and once finalized that is the chain's
 * last word.
 */
export const FINALITY_RANK: Readonly<Record<Finality, number>> = {
  PENDING: 0,
  SAFE: 1,
  RETRACTED: 2,
  FINALIZED: 3,
}

const RANK_ORDER = `ARRAY[${Object.entries(FINALITY_RANK)
  .sort(([, a], [, b]) => a - b)
  .map(([finality]) => `'${finality}'`)
  .join(',')}]`

/** The same rank in SQL, of a text expression: 1 for PENDING up to 4 for FINALIZED, NULL for NULL. */
export const finalityRankSql = (finality: string) => `array_position(${RANK_ORDER}, ${finality})`
