import type { Bus } from '../../core/bus/connect.ts'
import type { AuditEvent } from '../../core/bus/types.ts'
import type { Pool } from '../../core/db/pool.ts'
import { projectRecords } from './projection.ts'
import { readTopicToEnd } from './reader.ts'
import { chainIdOf } from './record.ts'
import { type ChainProblem, createChainVerifier } from './verify.ts'

export interface ReplayOptions {
  /** Topic to read; the configured audit topic by default (another name: a copy to check). */
  readonly topic?: string
  /** Start every partition at this offset instead of the beginning. */
  readonly fromOffset?: string
  /** Start every partition at the first record at or after this time (ms). */
  readonly fromTime?: number
  /** Rebuild the Postgres projection from what is read (default true). */
  readonly rebuild?: boolean
}

export interface ReplayReport {
  readonly topic: string
  readonly fromStart: boolean
  readonly records: number
  readonly chains: {
    partition: number
    /** The offsets read: from `fromOffset` up to (not including) `endOffset`, the partition's end when the replay began. */
    fromOffset: string
    endOffset: string
    records: number
    verified: number
    nextSequence: number
  }[]
  readonly problems: ChainProblem[]
  readonly ok: boolean
}

const SLICE = 2_000

/**
 * Re-reads the audit topic, verifies every chain (hash of each record, sequence, link to the
 * record before it) and rebuilds the projection from it. A full replay also checks that each
 * chain reaches the head the chain state recorded, so records removed from the end show too.
 */
export async function replayAudit(bus: Bus, pool: Pool, options: ReplayOptions = {}): Promise<ReplayReport> {
  const topic = options.topic ?? bus.topics.audit.name
  const decodeAs = bus.topics.audit.name
  await bus.codec.resolveIds([decodeAs])
  const fromStart = options.fromOffset === undefined && options.fromTime === undefined
  const verifier = createChainVerifier({ fromStart })
  const rebuild = options.rebuild ?? true
  const counts = new Map<number, number>()
  let pending: { partition: number; offset: string; record: AuditEvent }[] = []
  let records = 0

  const flush = async () => {
    if (!rebuild || pending.length === 0) return
    const client = await pool.connect()
    try {
      await projectRecords(client, topic, pending)
    } finally {
      client.release()
    }
    pending = []
  }

  if (rebuild) {
    if (fromStart) await pool.query('DELETE FROM audit_records WHERE scope = $1', [topic])
  }
  let firstOffsets: Map<number, string> | undefined
  const position = { fromTime: options.fromTime, fromOffset: options.fromOffset }
  const read = await readTopicToEnd(bus.kafka, topic, position, async (partition, message) => {
    if (!firstOffsets) firstOffsets = new Map()
    if (!firstOffsets.has(partition)) {
      firstOffsets.set(partition, message.offset)
      // A partial replay replaces the projection from where it starts.
      if (rebuild && !fromStart) {
        await pool.query(
          'DELETE FROM audit_records WHERE scope = $1 AND kafka_partition = $2 AND kafka_offset >= $3',
          [topic, partition, message.offset],
        )
      }
    }
    records++
    counts.set(partition, (counts.get(partition) ?? 0) + 1)
    let record: AuditEvent
    try {
      record = (await bus.codec.decodeValue(decodeAs, message.value)) as AuditEvent
    } catch (error) {
      verifier.undecodable(partition, message.offset, error instanceof Error ? error.message : error)
      return
    }
    verifier.accept(partition, message.offset, record)
    pending.push({ partition, offset: message.offset, record })
    if (pending.length >= SLICE) await flush()
  })
  await flush()
  const covered = new Map(read.map((coverage) => [coverage.partition, coverage]))

  const problems = [...verifier.problems]
  if (fromStart && topic === bus.topics.audit.name) {
    // Records missing from the end of a chain leave no gap to see: compare with the chain state.
    const { rows } = await pool.query<{ chain_id: string; published: string }>(
      `SELECT h.chain_id, (h.next_sequence - (SELECT count(*) FROM audit_outbox o
         WHERE o.scope = h.scope AND o.chain_id = h.chain_id))::text AS published
       FROM audit_chain_heads h WHERE h.scope = $1`,
      [topic],
    )
    for (const row of rows) {
      const partition = Number(row.chain_id.slice(1))
      const seen = verifier.chains.get(partition)?.nextSequence ?? 0
      if (chainIdOf(partition) === row.chain_id && seen > Number(row.published)) {
        problems.push({
          kind: 'forged',
          partition,
          offset: 'end',
          message: `partition ${partition} offset end: the chain reaches sequence ${seen - 1} but only ${row.published} records were published by the audit service`,
        })
      }
      if (chainIdOf(partition) === row.chain_id && seen < Number(row.published)) {
        problems.push({
          kind: 'removed',
          partition,
          offset: 'end',
          message: `partition ${partition} offset end: the chain ends at sequence ${seen - 1} but ${row.published} records were published`,
        })
      }
    }
  }
  return {
    topic,
    fromStart,
    records,
    chains: [...verifier.chains].map(([partition, state]) => ({
      partition,
      fromOffset: covered.get(partition)?.start ?? '0',
      endOffset: covered.get(partition)?.end ?? '0',
      records: counts.get(partition) ?? 0,
      verified: state.verified,
      nextSequence: state.nextSequence,
    })),
    problems,
    ok: problems.length === 0,
  }
}
