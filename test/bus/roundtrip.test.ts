import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { keySubject, valueSubject } from '../../core/bus/codec.ts'
import { type ConsumedMessage, createConsumerRunner } from '../../core/bus/consumer.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { TopicKey } from '../../core/bus/topics.ts'
import { parseTraceparent } from '../../core/bus/trace.ts'
import { eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import { SAMPLE_RECORDS } from '../support/records.ts'

let testBus: TestBus
let producer: BusProducer

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
})

afterAll(async () => {
  await producer?.disconnect()
  await testBus?.close()
})

async function latestSchemaId(subject: string): Promise<number> {
  const url = `${testBus.common.config.schemaRegistry.url}/subjects/${encodeURIComponent(subject)}/versions/latest`
  const response = await fetch(url)
  expect(response.status).toBe(200)
  return ((await response.json()) as { id: number }).id
}

describe('round trip producer → Kafka → consumer', () => {
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

    const received: ConsumedMessage[] = []
    const runner = createConsumerRunner(testBus.common, {
      bus: testBus.bus,
      producer,
      definition: {
        name: 'roundtrip',
        topics: [...sent.keys()],
        handle: async (messages) => {
          received.push(...messages)
        },
      },
    })
    await runner.start()
    try {
      await eventually(
        async () => (received.length >= keys.length * 3 ? true : undefined),
        30_000,
        'all records',
      )
    } finally {
      await runner.stop()
    }

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
