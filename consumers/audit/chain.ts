import type { AuditEvent } from '../../core/bus/types.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import type { PoolClient } from '../../core/db/pool.ts'
import { type AuditFactDraft, chainIdOf, chainRecord, GENESIS_HASH, recordKeyOf } from './record.ts'

export interface ChainPlacement {
  /** The audit topic's name: the scope of every chain. */
  readonly scope: string
  /** The partition of the audit topic a key goes to (the producer's murmur2). */
  readonly partitionOf: (key: string) => number
}

export interface ChainedRecord {
  readonly partition: number
  readonly key: string
  readonly record: AuditEvent
}

const CHAINED_ROWS = jsonRows({
  sequence: 'bigint',
  record_key: 'text',
  record: 'jsonb',
})

/**
 * Places drafts at the heads of their chains and queues them for publishing, inside the
 * caller's transaction (the one that also records which input messages were handled).
 *
 * Why this cannot fork: a head row is locked (FOR UPDATE) until the transaction ends, so
 * two writers extending one chain are serialised and the second sees the first's new head;
 * if a transaction rolls back, its sequence numbers were never visible and are assigned
 * again. Sequences of a chain therefore commit as a gap-free prefix, each with exactly one
 * predecessor. Chains are locked in sorted order, and as the last thing a transaction does,
 * so two transactions cannot wait on each other.
 */
export async function appendToChains(
  client: PoolClient,
  placement: ChainPlacement,
  drafts: readonly AuditFactDraft[],
): Promise<ChainedRecord[]> {
  if (drafts.length === 0) return []
  const byPartition = new Map<number, { key: string; draft: AuditFactDraft }[]>()
  for (const draft of drafts) {
    const key = recordKeyOf(draft)
    const partition = placement.partitionOf(key)
    const list = byPartition.get(partition) ?? []
    list.push({ key, draft })
    byPartition.set(partition, list)
  }
  const chained: ChainedRecord[] = []
  for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
    const chainId = chainIdOf(partition)
    await client.query(
      `INSERT INTO audit_chain_heads (scope, chain_id, next_sequence, head_hash) VALUES ($1, $2, 0, $3)
       ON CONFLICT DO NOTHING`,
      [placement.scope, chainId, GENESIS_HASH],
    )
    const { rows } = await client.query<{ next_sequence: string; head_hash: string }>(
      'SELECT next_sequence, head_hash FROM audit_chain_heads WHERE scope = $1 AND chain_id = $2 FOR UPDATE',
      [placement.scope, chainId],
    )
    const head = rows[0]
    if (!head) throw new Error(`chain head ${chainId} vanished while locked`)
    let sequence = Number(head.next_sequence)
    let prevHash = head.head_hash
    const placed: ChainedRecord[] = []
    for (const { key, draft } of byPartition.get(partition) ?? []) {
      const record = chainRecord(draft, { chainId, sequence, prevHash })
      placed.push({ partition, key, record })
      sequence++
      prevHash = record.recordHash
    }
    await client.query(
      `INSERT INTO audit_outbox (scope, chain_id, sequence, kafka_partition, record_key, record)
       SELECT $1, $2, r.sequence, $3, r.record_key, r.record
       FROM ${CHAINED_ROWS.from('$4')} AS r`,
      [
        placement.scope,
        chainId,
        partition,
        CHAINED_ROWS.param(
          placed.map((p) => ({ sequence: p.record.sequence, record_key: p.key, record: p.record })),
        ),
      ],
    )
    await client.query(
      'UPDATE audit_chain_heads SET next_sequence = $3, head_hash = $4 WHERE scope = $1 AND chain_id = $2',
      [placement.scope, chainId, sequence, prevHash],
    )
    chained.push(...placed)
  }
  return chained
}
