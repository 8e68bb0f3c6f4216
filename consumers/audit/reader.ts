import { randomUUID } from 'node:crypto'
import type { Kafka, KafkaMessage } from 'kafkajs'
import { withDeadline } from './deadline.ts'

export interface TopicPosition {
  /** Per partition, the first offset to read; partitions not named are read from their start. */
  readonly offsets?: ReadonlyMap<number, string>
  /** The first offset to read in every partition not named in `offsets`. */
  readonly fromOffset?: string
  /** Read from the first record at or after this time (ms), in every partition. */
  readonly fromTime?: number
}

/** A partition's first offset (`low`) and its end (`high`, the last stable offset), as Kafka gave them. */
export interface PartitionEnds {
  readonly partition: number
  readonly low: string
  readonly high: string
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

/** With no partition getting closer to its end for this long, the read fails instead of returning short. */
const STALL_MS = 30_000
/** Joining the throwaway group takes a few seconds; not within this long, the read fails. */
const JOIN_MS = 60_000
/** Leaving after a failure: a consumer stuck in a handler must not keep the failure from being told. */
const LEAVE_MS = 5_000

/**
 * Reads a topic from a position to its end as it was when the read began, read_committed
 * (records of aborted transactions are never seen), calling `onMessage` in offset order per
 * partition, once per offset. Uses a throwaway consumer group, deleted afterwards: kafkajs
 * has no manual assignment. `ends` gives the ends to read to, taken by the caller (a replay
 * takes them at a consistent cut); by default they are the last stable offsets at the start.
 *
 * The end is the last stable offset, so every offset before it is decided; the last of them
 * is often a transaction marker, which kafkajs never hands to `eachBatch`. Its batch events
 * still carry the offsets it passed, and they are what says a partition is done — so a read
 * ends exactly at the end, and one that stops short throws, naming how far each partition got,
 * rather than returning a silently partial topic (a replay would "verify" less than it says).
 *
 * Every wait is bounded. Progress is a partition still being read getting closer to its end:
 * records arriving in partitions already done (a busy topic) are not progress, and a handler
 * that does not return within the stall time is a stall too, named with its offset.
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  position: TopicPosition,
  onMessage: (partition: number, message: KafkaMessage) => Promise<void> | void,
  options: { stallMs?: number; ends?: readonly PartitionEnds[] } = {},
): Promise<PartitionCoverage[]> {
  const stallMs = options.stallMs ?? STALL_MS
  const joinMs = Math.max(stallMs, JOIN_MS)
  const kafkaCall = <T>(promise: Promise<T>, what: string) =>
    withDeadline(promise, joinMs, `reading ${topic}: ${what}`)
  const admin = kafka.admin()
  await kafkaCall(admin.connect(), 'could not reach Kafka')
  const group = `veridis.audit-reader.${randomUUID()}`
  try {
    const ends =
      options.ends ??
      (await kafkaCall(admin.fetchTopicOffsets(topic), "Kafka did not give the partitions' ends"))
    const starts =
      position.fromTime === undefined
        ? ends.map(({ partition, low }) => ({
            partition,
            offset: position.offsets?.get(partition) ?? position.fromOffset ?? low,
          }))
        : await kafkaCall(
            admin.fetchTopicOffsetsByTimestamp(topic, position.fromTime),
            'Kafka did not give the offsets for the time',
          )
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
    const startedAt = Date.now()
    let joined = false
    /** When a partition still being read last got closer to its end (joining counts as a start). */
    let lastProgress = startedAt
    /** The handler call in progress, if any: one that does not return is a stall like any other. */
    let handling: { partition: number; offset: string; since: number } | undefined
    let failure: unknown
    const pass = (partition: number, offset: bigint) => {
      const last = pending.get(partition)
      if (last === undefined) return
      if (offset > (passed.get(partition) ?? -1n)) {
        passed.set(partition, offset)
        lastProgress = Date.now()
      }
      if (offset >= last) pending.delete(partition)
    }
    const behind = () =>
      [...pending]
        .map(([partition, last]) => {
          const reached = passed.get(partition)
          return `partition ${partition} at ${reached === undefined ? `its start ${coverage.get(partition)!.start}` : `offset ${reached}`} of end ${last + 1n}`
        })
        .join('; ')
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (!joined) lastProgress = Date.now()
      joined = true
    })
    // Emitted for every batch the consumer moves past, including batches of markers and
    // aborted records only, which never reach eachBatch.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic && !failure) pass(payload.partition, BigInt(payload.lastOffset))
    })
    const done = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Date.now()
        if (!failure && handling && now - handling.since > stallMs) {
          failure = new Error(
            `reading ${topic} stalled: the record at partition ${handling.partition} offset ${handling.offset} was not handled within ${Math.round(stallMs / 1000)} s (${behind()})`,
          )
        } else if (!failure && !handling && joined && pending.size > 0 && now - lastProgress > stallMs) {
          failure = new Error(
            `reading ${topic} stalled: nothing arrived for ${Math.round(stallMs / 1000)} s before the end (${behind()})`,
          )
        } else if (!failure && !joined && now - startedAt > joinMs) {
          failure = new Error(`reading ${topic}: could not join a consumer group within ${joinMs / 1000} s`)
        }
        if (pending.size === 0 || failure) {
          clearInterval(timer)
          resolve()
        }
      }, 100)
    })
    try {
      // Each step is raced against the watchdog, so a step that hangs still ends in a failure.
      const untilFailure = async <T>(step: Promise<T>) => {
        const outcome = await Promise.race([step, done.then(() => undefined)])
        if (failure) throw failure
        return outcome
      }
      await untilFailure(consumer.connect())
      await untilFailure(consumer.subscribe({ topic, fromBeginning: true }))
      await untilFailure(
        consumer.run({
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch, heartbeat }) => {
            if (failure) return
            const last = pending.get(batch.partition)
            const state = coverage.get(batch.partition)!
            for (const message of batch.messages) {
              const offset = BigInt(message.offset)
              // Before the start, or handed over already (a rejoined group resumes at its last commit).
              if (offset < state.start || offset <= (passed.get(batch.partition) ?? -1n)) continue
              if (last === undefined || offset > last || failure) break
              // A record arriving is progress; its handling has a stall time of its own.
              handling = { partition: batch.partition, offset: message.offset, since: Date.now() }
              lastProgress = handling.since
              try {
                await onMessage(batch.partition, message)
              } catch (error) {
                failure ??= error
                break
              } finally {
                handling = undefined
              }
              state.records++
              pass(batch.partition, offset)
              // A long batch must not cost the group its member (kafkajs sends it only when due).
              await heartbeat()
            }
          },
        }),
      )
      // Partitions with nothing to read are parked at their end, not fetched from the beginning.
      for (const [partition, { start, end }] of coverage) {
        consumer.seek({ topic, partition, offset: (pending.has(partition) ? start : end).toString() })
      }
      await done
    } finally {
      // kafkajs waits for the batch in hand before leaving; after a failure, not forever.
      await withDeadline(consumer.disconnect(), failure ? LEAVE_MS : joinMs, 'leaving the group').catch(
        () => undefined,
      )
    }
    if (failure) throw failure
    return report()
  } finally {
    await withDeadline(admin.deleteGroups([group]), LEAVE_MS, 'deleting the group').catch(() => undefined)
    await withDeadline(admin.disconnect(), LEAVE_MS, 'disconnecting').catch(() => undefined)
  }
}
