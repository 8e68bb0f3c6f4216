import { randomUUID } from 'node:crypto'
import type { Kafka, KafkaMessage } from 'kafkajs'

export interface TopicPosition {
  /** Per partition, the first offset to read; partitions not named are read from their start. */
  readonly offsets?: ReadonlyMap<number, string>
  /** The first offset to read in every partition not named in `offsets`. */
  readonly fromOffset?: string
  /** Read from the first record at or after this time (ms), in every partition. */
  readonly fromTime?: number
}

/** How far a read went in one partition: it reached `end` unless it threw. */
export interface PartitionCoverage {
  readonly partition: number
  /** The first offset read from. */
  readonly start: string
  /** The partition's end when the read began (its last stable offset: the next offset to be written). */
  readonly end: string
  /** Records handed to `onMessage` (transaction markers and aborted records are not). */
  readonly records: number
}

/** With nothing arriving for this long before the end, the read fails instead of returning short. */
const STALL_MS = 30_000
/** Joining the throwaway group takes a few seconds; not within this long, the read fails. */
const JOIN_MS = 60_000

/**
 * Reads a topic from a position to its end as it was when the read began, read_committed
 * (records of aborted transactions are never seen), calling `onMessage` in offset order per
 * partition. Uses a throwaway consumer group, deleted afterwards: kafkajs has no manual
 * assignment.
 *
 * The end is the last stable offset, so every offset before it is decided; the last of them
 * is often a transaction marker, which kafkajs never hands to `eachBatch`. Its batch events
 * still carry the offsets it passed, and they are what says a partition is done — so a read
 * ends exactly at the end, and one that stops short throws, naming how far each partition got,
 * rather than returning a silently partial topic (a replay would "verify" less than it says).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  position: TopicPosition,
  onMessage: (partition: number, message: KafkaMessage) => Promise<void> | void,
  options: { stallMs?: number } = {},
): Promise<PartitionCoverage[]> {
  const stallMs = options.stallMs ?? STALL_MS
  const joinMs = Math.max(stallMs, JOIN_MS)
  const admin = kafka.admin()
  await admin.connect()
  const group = `veridis.audit-reader.${randomUUID()}`
  try {
    const ends = await admin.fetchTopicOffsets(topic)
    const starts =
      position.fromTime === undefined
        ? ends.map(({ partition, low }) => ({
            partition,
            offset: position.offsets?.get(partition) ?? position.fromOffset ?? low,
          }))
        : await admin.fetchTopicOffsetsByTimestamp(topic, position.fromTime)
    const coverage = new Map<number, { start: bigint; end: bigint; records: number }>()
    /** Per partition still being read, the last offset before its end. */
    const pending = new Map<number, bigint>()
    /** Per partition, the last offset the consumer has passed (a record, a marker or an aborted record). */
    const passed = new Map<number, bigint>()
    for (const { partition, high } of ends) {
      const requested = BigInt(starts.find((s) => s.partition === partition)?.offset ?? '0')
      // -1 from a time lookup: nothing at or after that time; past the end: nothing either.
      const start = requested < 0n || requested > BigInt(high) ? BigInt(high) : requested
      coverage.set(partition, { start, end: BigInt(high), records: 0 })
      if (BigInt(high) > start) pending.set(partition, BigInt(high) - 1n)
    }
    const report = () =>
      [...coverage].map(([partition, { start, end, records }]) => ({
        partition,
        start: start.toString(),
        end: end.toString(),
        records,
      }))
    if (pending.size === 0) return report()

    const consumer = kafka.consumer({
      groupId: group,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
    })
    // Joining the group takes a few seconds; stalling only counts once joined.
    const startedAt = Date.now()
    let joined = false
    let lastActivity = startedAt
    // A slow onMessage (a replay writing its projection) is work, not a stall.
    let handling = false
    let failure: unknown
    const pass = (partition: number, offset: bigint) => {
      lastActivity = Date.now()
      if (offset > (passed.get(partition) ?? -1n)) passed.set(partition, offset)
      const last = pending.get(partition)
      if (last !== undefined && offset >= last) pending.delete(partition)
    }
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true
      lastActivity = Date.now()
    })
    // Emitted for every batch the consumer moves past, including batches of markers and
    // aborted records only, which never reach eachBatch.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic && !failure) pass(payload.partition, BigInt(payload.lastOffset))
    })
    await consumer.connect()
    try {
      await consumer.subscribe({ topic, fromBeginning: true })
      const done = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (pending.size > 0 && !failure && joined && !handling && Date.now() - lastActivity > stallMs) {
            const behind = [...pending].map(([partition, last]) => {
              const reached = passed.get(partition)
              return `partition ${partition} at ${reached === undefined ? `its start ${coverage.get(partition)!.start}` : `offset ${reached}`} of end ${last + 1n}`
            })
            failure = new Error(
              `reading ${topic} stalled: nothing arrived for ${Math.round(stallMs / 1000)} s before the end (${behind.join('; ')})`,
            )
          }
          if (!joined && !failure && Date.now() - startedAt > joinMs) {
            failure = new Error(`reading ${topic}: could not join a consumer group within ${joinMs / 1000} s`)
          }
          if (pending.size === 0 || failure) {
            clearInterval(timer)
            resolve()
          }
        }, 100)
      })
      await consumer.run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch, heartbeat }) => {
          if (failure) return
          handling = true
          const last = pending.get(batch.partition)
          const start = coverage.get(batch.partition)!.start
          try {
            for (const message of batch.messages) {
              if (BigInt(message.offset) < start) continue
              if (last === undefined || BigInt(message.offset) > last) break
              await onMessage(batch.partition, message)
              coverage.get(batch.partition)!.records++
              pass(batch.partition, BigInt(message.offset))
            }
          } catch (error) {
            failure = error
          } finally {
            handling = false
            lastActivity = Date.now()
          }
          await heartbeat()
        },
      })
      // Partitions with nothing to read are parked at their end, not fetched from the beginning.
      for (const [partition, { start, end }] of coverage) {
        consumer.seek({ topic, partition, offset: (pending.has(partition) ? start : end).toString() })
      }
      await done
    } finally {
      await consumer.disconnect()
    }
    if (failure) throw failure
    return report()
  } finally {
    await admin.deleteGroups([group]).catch(() => undefined)
    await admin.disconnect()
  }
}
