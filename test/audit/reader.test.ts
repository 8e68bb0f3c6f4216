import type { Admin, KafkaMessage } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readTopicToEnd } from '../../consumers/audit/reader.ts'
import { openTestBus, type TestBus } from '../support/harness.ts'
import { kafkaThrough, startTcpProxy } from '../support/tcp-proxy.ts'

/**
 * readTopicToEnd on a transactional topic: the audit relay writes in Kafka transactions, so
 * the audit topic usually ends with a transaction marker, and aborted records sit between
 * committed ones. The read must end exactly at the end (markers and aborted records passed,
 * never handed over) and say how far it read — not stop on a quiet spell and return short.
 */
let testBus: TestBus
let admin: Admin
let topic: string

const messages = (values: string[]) => values.map((value) => ({ key: 'k', value }))

beforeAll(async () => {
  testBus = await openTestBus()
  topic = `${testBus.namespace}.reader-test`
  admin = testBus.bus.kafka.admin()
  await admin.connect()
  await admin.createTopics({
    topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
    waitForLeaders: true,
  })
  const producer = testBus.bus.kafka.producer({
    transactionalId: `${testBus.namespace}.reader-test`,
    idempotent: true,
    maxInFlightRequests: 1,
  })
  await producer.connect()
  try {
    // Partition 0: offsets 0–4 committed, 5 marker, 6–8 aborted, 9 marker: the end is 10.
    const committed = await producer.transaction()
    await committed.send({
      topic,
      messages: messages(['a', 'b', 'c', 'd', 'e']).map((m) => ({ ...m, partition: 0 })),
    })
    await committed.commit()
    const aborted = await producer.transaction()
    await aborted.send({ topic, messages: messages(['x', 'y', 'z']).map((m) => ({ ...m, partition: 0 })) })
    await aborted.abort()
    // Partition 1 stays empty.
  } finally {
    await producer.disconnect()
  }
}, 60_000)

afterAll(async () => {
  await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin?.disconnect()
  await testBus?.close()
})

async function read(position: Parameters<typeof readTopicToEnd>[2]) {
  const seen: { partition: number; offset: string; value: string }[] = []
  const coverage = await readTopicToEnd(
    testBus.bus.kafka,
    topic,
    position,
    (partition, message: KafkaMessage) => {
      seen.push({ partition, offset: message.offset, value: message.value!.toString() })
    },
    // Far shorter than the default: ending on the markers, not on a quiet spell, is the point.
    { stallMs: 8_000 },
  )
  return { seen, coverage: [...coverage].sort((a, b) => a.partition - b.partition) }
}

describe('readTopicToEnd', () => {
  test('behavior: a topic ending with an aborted transaction is read to its end: committed records only, markers passed', async () => {
    const { seen, coverage } = await read({})
    expect(seen).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map((value, offset) => ({ partition: 0, offset: String(offset), value })),
    )
    expect(coverage).toEqual([
      { partition: 0, start: '0', end: '10', records: 5 },
      { partition: 1, start: '0', end: '0', records: 0 },
    ])
  }, 60_000)

  test('behavior: from an offset, only the rest is read, and a start past the last record ends at once', async () => {
    const fromThree = await read({ fromOffset: '3' })
    expect(fromThree.seen.map(({ value }) => value)).toEqual(['d', 'e'])
    expect(fromThree.coverage).toEqual([
      { partition: 0, start: '3', end: '10', records: 2 },
      { partition: 1, start: '0', end: '0', records: 0 },
    ])

    // Offsets 6–9 hold only aborted records and markers: nothing to hand over, still complete.
    const fromSix = await read({ offsets: new Map([[0, '6']]) })
    expect(fromSix.seen).toEqual([])
    expect(fromSix.coverage[0]).toEqual({ partition: 0, start: '6', end: '10', records: 0 })
  }, 60_000)

  test('error: records streaming into a partition already read are not progress for one that is stuck', async () => {
    // Partition 0 cannot reach the end it is asked for: records 5–7 sit in a transaction that
    // stays open. Partition 1, done at once, keeps receiving records all along.
    const busy = `${topic}-busy`
    await admin.createTopics({
      topics: [{ topic: busy, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    })
    const open = testBus.bus.kafka.producer({
      transactionalId: `${testBus.namespace}.reader-busy`,
      idempotent: true,
      maxInFlightRequests: 1,
    })
    const streaming = testBus.bus.kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await open.connect()
    await streaming.connect()
    let writing = true
    try {
      await streaming.send({
        topic: busy,
        messages: messages(['a', 'b', 'c', 'd', 'e']).map((m) => ({ ...m, partition: 0 })),
      })
      const pending = await open.transaction()
      await pending.send({
        topic: busy,
        messages: messages(['x', 'y', 'z']).map((m) => ({ ...m, partition: 0 })),
      })
      const stream = (async () => {
        while (writing) {
          await streaming.send({ topic: busy, messages: [{ key: 'k', value: 'more', partition: 1 }] })
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      })()
      const started = Date.now()
      const reading = readTopicToEnd(testBus.bus.kafka, busy, {}, () => undefined, {
        stallMs: 3_000,
        ends: [
          { partition: 0, low: '0', high: '8' },
          { partition: 1, low: '0', high: '0' },
        ],
      })
      await expect(reading).rejects.toThrow(
        `reading ${busy} stalled: nothing arrived for 3 s before the end (partition 0 at offset 4 of end 8)`,
      )
      expect(Date.now() - started).toBeLessThan(30_000)
      writing = false
      await stream
      await pending.abort()
    } finally {
      writing = false
      await open.disconnect()
      await streaming.disconnect()
      await admin.deleteTopics({ topics: [busy] }).catch(() => undefined)
    }
  }, 60_000)

  test('error: a read that stops getting records before the end fails, naming how far each partition got', async () => {
    // A partition too large for one fetch, read through a proxy that is cut at the first record.
    const large = `${topic}-large`
    await admin.createTopics({
      topics: [{ topic: large, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    })
    const producer = testBus.bus.kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    // 500 records of 5 kB: 2.5 MB, several fetches of at most 1 MB.
    const value = 'v'.repeat(5_000)
    for (let batch = 0; batch < 10; batch++) {
      await producer.send({ topic: large, messages: Array.from({ length: 50 }, () => ({ value })) })
    }
    await producer.disconnect()

    const proxy = await startTcpProxy({
      host: '127.0.0.1',
      port: Number(testBus.common.config.kafka.brokers[0]!.split(':')[1]),
    })
    const kafka = kafkaThrough(proxy, 'reader-stall-test', 3_000)
    let handed = 0
    try {
      const reading = readTopicToEnd(
        kafka,
        large,
        {},
        async () => {
          if (handed++ === 0) await proxy.cut()
        },
        { stallMs: 3_000 },
      )
      await expect(reading).rejects.toThrow(
        new RegExp(
          `reading ${large} stalled: nothing arrived for 3 s before the end \\(partition 0 at offset \\d+ of end 500\\)`,
        ),
      )
      expect(handed).toBeGreaterThan(0)
      expect(handed).toBeLessThan(500)
    } finally {
      await proxy.close()
      await admin.deleteTopics({ topics: [large] }).catch(() => undefined)
    }
  }, 120_000)
})
