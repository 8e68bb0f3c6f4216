import type { Kafka } from 'kafkajs'
import { sleep } from '../../core/bus/retry.ts'
import type { Pool } from '../../core/db/pool.ts'
import { withDeadline } from './deadline.ts'
import type { PartitionEnds } from './reader.ts'
import { chainIdOf, GENESIS_HASH } from './record.ts'
import type { ChainAnchor } from './verify.ts'

/** One chain as the audit service's state had it at the cut. */
export interface ChainAtCut {
  readonly partition: number
  /** Records of the chain on the topic by the cut (sequences 0 … published - 1). */
  readonly published: number
  /** The last of them, which the topic must hold at its sequence; none while nothing is published. */
  readonly anchor: ChainAnchor | undefined
  /** Records chained by the cut's end, published or still queued: no genuine chain goes further. */
  readonly assigned: number
}

export interface ChainCut {
  /** Per partition, the end to read up to (its last stable offset when the cut was taken). */
  readonly ends: readonly PartitionEnds[]
  readonly anchors: ReadonlyMap<number, ChainAnchor>
  readonly chains: readonly ChainAtCut[]
}

/** Transaction markers are written just after a commit returns: wait this long for them to land. */
const MARKER_WAIT_MS = 10_000
const KAFKA_MS = 60_000

/**
 * A consistent cut of the audit topic and its chain state, so a replay under continuous
 * writes compares like with like:
 *
 * 1. One Postgres snapshot gives, per chain, how many records were published (the relay
 *    deletes an outbox row only after its Kafka transaction committed, so they are all on the
 *    topic) and the hash of the last of them (the first queued row's prevHash, or the head's);
 *    a full rebuild clears the projection in the same snapshot, so rows the relay projects
 *    afterwards are kept.
 * 2. Then the topic's ends (last stable offsets) are taken: they lie beyond everything counted
 *    in 1. Kafka writes a transaction's markers just after its commit returns, so if an end
 *    is not yet past the last published record's offset, the ends are taken again.
 * 3. Then the chain heads again: nothing genuine on the topic before the ends goes beyond them.
 *
 * Reading to the ends of 2 and comparing with 1 and 3 is then exact whatever is written
 * meanwhile: published ≤ what the chain must reach ≤ assigned.
 */
export async function captureChainCut(
  kafka: Kafka,
  pool: Pool,
  topic: string,
  options: { clearProjection: boolean },
): Promise<ChainCut> {
  const snapshot = await pool.connect()
  const published: { partition: number; published: number; anchor?: ChainAnchor; offset?: bigint }[] = []
  try {
    await snapshot.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
    const { rows } = await snapshot.query<{
      chain_id: string
      next_sequence: number
      head_hash: string
      queued: number
      first_queued_prev: string | null
    }>(
      `SELECT h.chain_id, h.next_sequence, h.head_hash,
         (SELECT count(*) FROM audit_outbox o WHERE o.scope = h.scope AND o.chain_id = h.chain_id)::int AS queued,
         (SELECT o.record->>'prevHash' FROM audit_outbox o WHERE o.scope = h.scope AND o.chain_id = h.chain_id
          ORDER BY o.sequence LIMIT 1) AS first_queued_prev
       FROM audit_chain_heads h WHERE h.scope = $1`,
      [topic],
    )
    for (const row of rows) {
      const partition = Number(row.chain_id.slice(1))
      if (chainIdOf(partition) !== row.chain_id) continue
      const count = Number(row.next_sequence) - row.queued
      const recordHash = row.queued > 0 ? (row.first_queued_prev ?? GENESIS_HASH) : row.head_hash
      const anchor = count > 0 ? { sequence: count - 1, recordHash } : undefined
      let offset: bigint | undefined
      if (anchor) {
        // Where the relay projected it; absent when a rebuild is under way elsewhere.
        const { rows: projected } = await snapshot.query<{ kafka_offset: number }>(
          `SELECT kafka_offset FROM audit_records
           WHERE scope = $1 AND chain_id = $2 AND sequence = $3 AND record_hash = $4 LIMIT 1`,
          [topic, row.chain_id, anchor.sequence, anchor.recordHash],
        )
        if (projected[0]) offset = BigInt(projected[0].kafka_offset)
      }
      published.push({ partition, published: count, anchor, offset })
    }
    if (options.clearProjection) await snapshot.query('DELETE FROM audit_records WHERE scope = $1', [topic])
    await snapshot.query('COMMIT')
  } catch (error) {
    await snapshot.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    snapshot.release()
  }

  let ends: PartitionEnds[] = []
  const admin = kafka.admin()
  await withDeadline(admin.connect(), KAFKA_MS, `reading ${topic}: could not reach Kafka`)
  try {
    const deadline = Date.now() + MARKER_WAIT_MS
    for (;;) {
      ends = await withDeadline(
        admin.fetchTopicOffsets(topic),
        KAFKA_MS,
        `reading ${topic}: Kafka did not give the partitions' ends`,
      )
      const behind = published.some(({ partition, offset }) => {
        const end = ends.find((e) => e.partition === partition)
        return offset !== undefined && end !== undefined && BigInt(end.high) <= offset
      })
      if (!behind || Date.now() > deadline) break
      await sleep(100)
    }
  } finally {
    await withDeadline(admin.disconnect(), 5_000, 'disconnecting').catch(() => undefined)
  }

  const { rows: heads } = await pool.query<{ chain_id: string; next_sequence: number }>(
    'SELECT chain_id, next_sequence FROM audit_chain_heads WHERE scope = $1',
    [topic],
  )
  const assigned = new Map(heads.map((row) => [row.chain_id, Number(row.next_sequence)]))
  const chains = published.map(({ partition, published: count, anchor }) => ({
    partition,
    published: count,
    anchor,
    assigned: assigned.get(chainIdOf(partition)) ?? count,
  }))
  return {
    ends,
    anchors: new Map(
      chains.flatMap((chain) => (chain.anchor ? [[chain.partition, chain.anchor] as const] : [])),
    ),
    chains,
  }
}
