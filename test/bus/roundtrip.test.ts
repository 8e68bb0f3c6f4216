import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { keySubject, valueSubject } from '../../core/bus/codec.ts'
import { type ConsumedMessage, createConsumerRunner } from '../../core/bus/consumer.ts'
import { partitionForKey } from '../../core/bus/partitioner.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { TopicKey } from '../../core/bus/topics.ts'
import { parseTraceparent } from '../../core/bus/trace.ts'
import { eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import { SAMPLE_RECORDS } from '../support/records.ts'

let testBus: TestBus
let producer: BusProducer

async function latestSchemaId(subject: string): Promise<number> {
  const url = `${testBus.common.config.schemaRegistry.url}/subjects/${encodeURIComponent(subject)}/versions/latest`
  const response = await fetch(url)
  expect(response.status).toBe(200)
  return ((await response.json()) as { id: number }).id
}

/** Reads `topics` from the beginning with the consumer runner until `count` records came back. */
async function consumeAll(topics: string[], count: number): Promise<ConsumedMessage[]> {
  const received: ConsumedMessage[] = []
  const runner = createConsumerRunner(testBus.common, {
    bus: testBus.bus,
    producer,
    definition: {
      name: 'roundtrip',
      topics,
      handle: async (messages) => {
        received.push(...messages)
      },
    },
  })
  await runner.start()
  try {
    await eventually(async () => (received.length >= count ? true : undefined), 60_000, `${count} records`)
  } finally {
    await runner.stop()
  }
  return received
}

// The bus producer's two clients (VERIDIS_KAFKA_TRANSPORT); what comes back is read by kafkajs
// either way. librdkafka's is built into the native cache by the test run's global setup.
describe.each(['kafkajs', 'librdkafka'])('round trip producer (%s) → Kafka → consumer', (transport) => {
  beforeAll(async () => {
    testBus = await openTestBus(undefined, { VERIDIS_KAFKA_TRANSPORT: transport })
    producer = await testProducer(testBus)
  })

  afterAll(async () => {
    await producer?.disconnect()
    await testBus?.close()
  })

  test('behavior: every record type comes back equal, in the Confluent wire format, with headers', async () => {
    const keys = Object.keys(SAMPLE_RECORDS) as TopicKey[]
    const sent = new Map<string, { key: string; value: unknown; eventId: string }[]>()
    for (const key of keys) {
      const topic = testBus.bus.topics[key].name
      const records = [0, 1, 2].map((n) => ({
        key: `${key}-key-${n}`,
        value: SAMPLE_RECORDS[key](n),
        eventId: `${key}-event-${n}`,
      }))
      sent.set(topic, records)
      await producer.publish(topic, records)
    }

    const received = await consumeAll([...sent.keys()], keys.length * 3)
    expect(received).toHaveLength(keys.length * 3)
    for (const [topic, records] of sent) {
      const [valueId, keyId] = [
        await latestSchemaId(valueSubject(topic)),
        await latestSchemaId(keySubject(topic)),
      ]
      const got = received
        .filter((message) => message.topic === topic)
        .sort((a, b) => (a.eventId ?? '').localeCompare(b.eventId ?? ''))
      expect(got.map((message) => message.value)).toEqual(records.map((record) => record.value))
      for (const [index, message] of got.entries()) {
        expect(message.key).toBe(records[index]!.key)
        expect(message.headers.producer).toBe('test-producer')
        expect(parseTraceparent(message.traceparent)).toBeDefined()
        // Confluent wire format: magic byte 0, then the registry's id for this subject.
        const raw = message.raw.value!
        expect(raw.readUInt8(0)).toBe(0)
        expect(raw.readInt32BE(1)).toBe(valueId)
        expect(message.raw.key!.readUInt8(0)).toBe(0)
        expect(message.raw.key!.readInt32BE(1)).toBe(keyId)
      }
    }
  })

  test('behavior: a publish of thousands lands once each, on its key’s partition, in order per key', async () => {
    const topic = testBus.bus.topics.nullifier.name
    // 5,000 records over 50 keys, published as 2,000 + 3,000: more than one request's worth.
    const records = Array.from({ length: 5_000 }, (_, n) => ({
      key: `key-${n % 50}`,
      value: SAMPLE_RECORDS.nullifier(n),
      eventId: `bulk-${n}`,
    }))
    await producer.publish(topic, records.slice(0, 2_000))
    await producer.publish(topic, records.slice(2_000))

    const received = await consumeAll([topic], records.length)
    expect(received).toHaveLength(records.length)
    expect(new Set(received.map((message) => message.eventId)).size).toBe(records.length)
    const admin = testBus.bus.kafka.admin()
    await admin.connect()
    const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length
    await admin.disconnect()
    expect(new Set(received.map((message) => message.partition)).size).toBeGreaterThan(1)
    for (const message of received)
      expect(message.partition).toBe(partitionForKey(message.raw.key!, partitions))
    const sequenceOf = (message: ConsumedMessage) => Number(message.eventId!.slice('bulk-'.length))
    for (let key = 0; key < 50; key++) {
      const sequences = received.filter((message) => message.key === `key-${key}`).map(sequenceOf)
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b))
      expect(sequences).toHaveLength(100)
    }
  })

  test('error: a value that does not match its schema is refused before it reaches Kafka', async () => {
    const topic = testBus.bus.topics.nullifier.name
    const bad = { ...SAMPLE_RECORDS.nullifier(1), scope: 42 }
    await expect(producer.publish(topic, [{ key: 'k', value: bad, eventId: 'e' }])).rejects.toThrow(
      /does not match its schema at scope/,
    )
  })

  test('error: a producer may only write to the topics it declared', async () => {
    const limited = await testProducer(testBus)
    await limited.disconnect()
    await expect(
      producer.publish('veridis.unknown.v1', [{ key: 'k', value: {}, eventId: 'e' }]),
    ).rejects.toThrow(/may not write/)
  })
})
