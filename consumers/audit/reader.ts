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

const IDLE_MS = 3_000

/**
 * Reads a topic from a position to its current end, read_committed (records of aborted
 * transactions are never seen), calling `onMessage` in offset order per partition. Uses a
 * throwaway consumer group, deleted afterwards: kafkajs has no manual assignment.
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  position: TopicPosition,
  onMessage: (partition: number, message: KafkaMessage) => Promise<void> | void,
): Promise<void> {
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
    const pending = new Map<number, bigint>()
    for (const { partition, high } of ends) {
      const start = BigInt(starts.find((s) => s.partition === partition)?.offset ?? '0')
      const startOffset = start < 0n ? BigInt(high) : start
      // The end is the last offset at start: a transaction marker may sit there, hence idle detection too.
      if (BigInt(high) > startOffset) pending.set(partition, BigInt(high) - 1n)
    }
    if (pending.size === 0) return

    const consumer = kafka.consumer({
      groupId: group,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
    })
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true
      lastActivity = Date.now()
    })
    await consumer.connect()
    // Joining the group takes a few seconds; idleness only counts once joined.
    let joined = false
    let lastActivity = Date.now()
    let failure: unknown
    try {
      await consumer.subscribe({ topic, fromBeginning: true })
      const done = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (pending.size === 0 || failure || (joined && Date.now() - lastActivity > IDLE_MS)) {
            clearInterval(timer)
            resolve()
          }
        }, 100)
      })
      await consumer.run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch, heartbeat }) => {
          if (failure) return
          lastActivity = Date.now()
          const last = pending.get(batch.partition)
          try {
            for (const message of batch.messages) {
              if (last === undefined || BigInt(message.offset) > last) break
              await onMessage(batch.partition, message)
              if (BigInt(message.offset) >= last) pending.delete(batch.partition)
            }
            if (last !== undefined && BigInt(batch.highWatermark) - 1n <= last && batch.isEmpty()) {
              pending.delete(batch.partition)
            }
          } catch (error) {
            failure = error
          }
          lastActivity = Date.now()
          await heartbeat()
        },
      })
      for (const { partition } of ends) {
        const start = starts.find((s) => s.partition === partition)?.offset
        const offset =
          start === undefined || BigInt(start) < 0n
            ? ends.find((e) => e.partition === partition)!.high
            : start
        consumer.seek({ topic, partition, offset })
      }
      await done
    } finally {
      await consumer.disconnect()
    }
    if (failure) throw failure
  } finally {
    await admin.deleteGroups([group]).catch(() => undefined)
    await admin.disconnect()
  }
}
