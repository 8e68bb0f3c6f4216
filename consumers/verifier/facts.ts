import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { Pool } from '../../core/db/pool.ts'
import type { Logger } from '../../core/logging/logger.ts'
import type { AttestationEvent } from '../../schemas/generated/veridis.chain.attestation.v1.ts'
import type { NullifierEvent } from '../../schemas/generated/veridis.chain.nullifier.v1.ts'

/** A field element as the chains write it (decimal or 0x hex) in one canonical decimal form. */
export function canonicalElement(value: string): string | undefined {
  if (!/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(value)) return undefined
  return BigInt(value).toString()
}

interface RootRow {
  eventId: string
  chain: string
  root: string
  kind: 'attestation' | 'group'
  finality: string
}
interface NullifierRow {
  eventId: string
  chain: string
  scope: string
  nullifier: string
  finality: string
}

// FINALIZED outranks RETRACTED: a fact re-included after a reorg and finalized stays.
const FINALITY_UPDATE = `finality = CASE WHEN {t}.finality = 'FINALIZED' THEN 'FINALIZED' ELSE EXCLUDED.finality END`

/**
 * Records the roots and nullifiers that chain events publish. Idempotent per event id, so
 * redelivery after a crash changes nothing. `rejectedProofs`: events whose carried proof the
 * verifier refused; the chain still recorded their nullifier as used, but a root vouched for
 * only by a bad proof is not recorded as known.
 */
export async function recordChainFacts(
  pool: Pool,
  logger: Logger,
  messages: readonly ConsumedMessage<AttestationEvent | NullifierEvent>[],
  rejectedProofs: ReadonlySet<string> = new Set(),
): Promise<void> {
  const roots: RootRow[] = []
  const nullifiers: NullifierRow[] = []
  for (const { value } of messages) {
    const { eventId, chain, finality } = value.envelope
    if ('nullifier' in value) {
      const nullifier = canonicalElement(value.nullifier)
      const scope = canonicalElement(value.scope)
      if (nullifier && scope) nullifiers.push({ eventId, chain, scope, nullifier, finality })
      else
        logger.warn({ eventId, chain }, 'nullifier event with a value that is not a field element; ignored')
      const root =
        value.merkleTreeRoot === null || rejectedProofs.has(eventId)
          ? undefined
          : canonicalElement(value.merkleTreeRoot)
      if (root) roots.push({ eventId, chain, root, kind: 'group', finality })
      continue
    }
    const change = Object.values(value.change)[0] as { root?: string } | undefined
    if (change?.root === undefined) continue
    const root = canonicalElement(change.root)
    if (root) roots.push({ eventId, chain, root, kind: 'attestation', finality })
    else logger.warn({ eventId, chain }, 'attestation root that is not a field element; ignored')
  }
  if (roots.length > 0) {
    await pool.query(
      `INSERT INTO zk_known_roots (event_id, chain, root, kind, finality)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (event_id) DO UPDATE SET ${FINALITY_UPDATE.replace('{t}', 'zk_known_roots')}`,
      [
        roots.map((row) => row.eventId),
        roots.map((row) => row.chain),
        roots.map((row) => row.root),
        roots.map((row) => row.kind),
        roots.map((row) => row.finality),
      ],
    )
  }
  if (nullifiers.length > 0) {
    await pool.query(
      `INSERT INTO zk_used_nullifiers (event_id, chain, scope, nullifier, finality)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (event_id) DO UPDATE SET ${FINALITY_UPDATE.replace('{t}', 'zk_used_nullifiers')}`,
      [
        nullifiers.map((row) => row.eventId),
        nullifiers.map((row) => row.chain),
        nullifiers.map((row) => row.scope),
        nullifiers.map((row) => row.nullifier),
        nullifiers.map((row) => row.finality),
      ],
    )
  }
}

/** Which of the (chain, root) pairs a chain has published and not retracted. */
export async function knownRoots(pool: Pool, pairs: readonly { chain: string; root: string }[]) {
  if (pairs.length === 0) return new Set<string>()
  const { rows } = await pool.query<{ chain: string; root: string }>(
    `SELECT DISTINCT chain, root FROM zk_known_roots
     WHERE (chain, root) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND finality <> 'RETRACTED'`,
    [pairs.map((pair) => pair.chain), pairs.map((pair) => pair.root)],
  )
  return new Set(rows.map((row) => `${row.chain}|${row.root}`))
}

/** Which of the (chain, nullifier) pairs a chain has already recorded as used. */
export async function usedNullifiers(pool: Pool, pairs: readonly { chain: string; nullifier: string }[]) {
  if (pairs.length === 0) return new Set<string>()
  const { rows } = await pool.query<{ chain: string; nullifier: string }>(
    `SELECT DISTINCT chain, nullifier FROM zk_used_nullifiers
     WHERE (chain, nullifier) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND finality <> 'RETRACTED'`,
    [pairs.map((pair) => pair.chain), pairs.map((pair) => pair.nullifier)],
  )
  return new Set(rows.map((row) => `${row.chain}|${row.nullifier}`))
}
