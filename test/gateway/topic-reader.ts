import type { TestBus } from '../support/harness.ts'

export interface RawRecord {
  readonly key: string | null
  readonly value: Buffer
  readonly decoded: unknown
  readonly headers: Record<string, string>
}

/** Records on a topic so far: the sum of its partitions' high watermarks. */
export async function recordCount(testBus: TestBus, topic: string): Promise<number> {
  const admin = testBus.bus.kafka.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0)
  } finally {
    await admin.disconnect()
  }
}

/**
 * Reads a topic from the beginning until `count` records arrived, or until `until` holds
 * for what was read (raw bytes and decoded).
 */
export async function readTopic(
  testBus: TestBus,
  topic: string,
  count: number,
  timeoutMs = 20_000,
  until?: (records: readonly RawRecord[]) => boolean,
) {
  const consumer = testBus.bus.kafka.consumer({ groupId: `${testBus.namespace}.reader.${Math.random()}` })
  const records: RawRecord[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length} of ${count} records on ${topic}`)),
        timeoutMs,
      )
      void consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
          )
          records.push({
            key: await testBus.bus.codec.decodeKey(message.key),
            value: message.value!,
            decoded: await testBus.bus.codec.decodeValue(topic, message.value),
            headers,
          })
          if (until ? until(records) : records.length >= count) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
    })
  } finally {
    await consumer.disconnect()
  }
  return records
}
