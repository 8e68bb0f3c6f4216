import type { Bus } from '../../core/bus/connect.ts'
import type { AuditEvent } from '../../core/bus/types.ts'
import type { Pool } from '../../core/db/pool.ts'
import { RetryableError } from '../../core/errors.ts'
import { captureChainCut } from './cut.ts'
import { withDeadline } from './deadline.ts'
import { projectRecords } from './projection.ts'
import { readTopicToEnd } from './reader.ts'
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
  /** With nothing read for this long before the end, the replay fails naming the offsets (default 30 s). */
  readonly stallMs?: number
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
/** The registry answers in milliseconds; one that does not answer must not hang the replay. */
const REGISTRY_MS = 30_000

/**
 * Re-reads the audit topic, verifies every chain (hash of each record, sequence, link to the
 * record before it) and rebuilds the projection from it.
 *
 * A full replay of the audit topic also checks each chain against the chain state in
 * Postgres, at one consistent cut taken before reading (`cut.ts`): everything published by
 * then must be there, ending with the very record the chain state names, and nothing beyond
 * what the audit service had chained. Records written while the replay reads are past its
 * ends and left for the next replay, so a replay under continuous writes verifies.
 */
export async function replayAudit(bus: Bus, pool: Pool, options: ReplayOptions = {}): Promise<ReplayReport> {
  const topic = options.topic ?? bus.topics.audit.name
  const decodeAs = bus.topics.audit.name
  await withDeadline(
    bus.codec.resolveIds([decodeAs]),
    options.stallMs ?? REGISTRY_MS,
    'the schema registry did not answer',
  )
  const fromStart = options.fromOffset === undefined && options.fromTime === undefined
  const rebuild = options.rebuild ?? true
  const checkAgainstChainState = fromStart && topic === bus.topics.audit.name

  const cut = checkAgainstChainState
    ? await captureChainCut(bus.kafka, pool, topic, { clearProjection: rebuild })
    : undefined
  if (!cut && rebuild && fromStart) await pool.query('DELETE FROM audit_records WHERE scope = $1', [topic])

  const verifier = createChainVerifier({ fromStart, anchors: cut?.anchors })
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

  const firstOffsets = new Map<number, string>()
  const position = { fromTime: options.fromTime, fromOffset: options.fromOffset }
  const read = await readTopicToEnd(
    bus.kafka,
    topic,
    position,
    async (partition, message) => {
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
        // A registry that cannot answer says nothing about the record: fail, do not blame it.
        if (error instanceof RetryableError) {
          throw new RetryableError(
            `replay stopped at partition ${partition} offset ${message.offset}: ${error.message}`,
            { cause: error },
          )
        }
        verifier.undecodable(partition, message.offset, error instanceof Error ? error.message : error)
        return
      }
      verifier.accept(partition, message.offset, record)
      pending.push({ partition, offset: message.offset, record })
      if (pending.length >= SLICE) await flush()
    },
    { ends: cut?.ends, stallMs: options.stallMs },
  )
  await flush()
  const covered = new Map(read.map((coverage) => [coverage.partition, coverage]))

  const problems = [...verifier.problems]
  for (const chain of cut?.chains ?? []) {
    const { partition, published, anchor, assigned } = chain
    const reach = verifier.reach(partition)
    const outcome = verifier.anchorOutcome(partition)
    if (anchor && !outcome.matched && outcome.mismatchOffset !== undefined) {
      problems.push({
        kind: 'forged',
        partition,
        offset: outcome.mismatchOffset,
        message: `partition ${partition} offset ${outcome.mismatchOffset}: sequence ${anchor.sequence} is not the record the audit service published there (recordHash ${anchor.recordHash}): the chain was rewritten up to here`,
      })
    } else if (reach < published) {
      problems.push({
        kind: 'removed',
        partition,
        offset: 'end',
        message: `partition ${partition} offset end: the chain ends at sequence ${reach - 1} but ${published} records had been published when the replay began`,
      })
    }
    if (reach > assigned) {
      problems.push({
        kind: 'forged',
        partition,
        offset: 'end',
        message: `partition ${partition} offset end: the chain reaches sequence ${reach - 1} but the audit service had chained only ${assigned} records`,
      })
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
