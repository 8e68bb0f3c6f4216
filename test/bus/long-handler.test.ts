import { afterAll, beforeAll, expect, test } from 'vitest'
import { type ConsumedMessage, createConsumerRunner } from '../../core/bus/consumer.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import { sleep } from '../../core/bus/retry.ts'
import type { NullifierEvent } from '../../core/bus/types.ts'
import { eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import { sampleNullifier } from '../support/records.ts'

// The broker's smallest allowed session timeout; the handler below takes twice as long.
const SESSION_TIMEOUT_MS = 6_000

let testBus: TestBus
let producer: BusProducer

beforeAll(async () => {
  testBus = await openTestBus(undefined, {
    VERIDIS_CONSUMER_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
  })
  producer = await testProducer(testBus)
})

afterAll(async () => {
  await producer?.disconnect()
  await testBus?.close()
})

test('behavior: a handler that heartbeats between units of work outlasts the session timeout without losing its partition', async () => {
  const topic = testBus.bus.topics.nullifier.name
  const records = [0, 1, 2].map((n) => sampleNullifier(900 + n, testBus.namespace))
  await producer.publish(
    topic,
    records.map((value) => ({ key: 'slow', value, eventId: value.envelope.eventId, partition: 0 })),
  )

  const invocations: string[][] = []
  const runner = createConsumerRunner(testBus.common, {
    bus: testBus.bus,
    producer,
    definition: {
      name: 'slow-handler',
      topics: [topic],
      handle: async (messages: readonly ConsumedMessage<NullifierEvent>[], { heartbeat }) => {
        invocations.push(messages.map((message) => message.value.envelope.eventId))
        // Like a chunk of proofs: many short units adding up to twice the session timeout.
        for (let elapsed = 0; elapsed < 2 * SESSION_TIMEOUT_MS; elapsed += 500) {
          await sleep(500)
          await heartbeat()
        }
      },
    },
  })
  await runner.start()
  try {
    const admin = testBus.bus.kafka.admin()
    await admin.connect()
    try {
      const group = `${testBus.namespace}.veridis.slow-handler`
      await eventually(
        async () => {
          const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
          const committed = offsets?.partitions.find((p) => p.partition === 0)?.offset
          return committed === String(records.length) ? true : undefined
        },
        45_000,
        'the slow chunk to be committed',
      )
    } finally {
      await admin.disconnect()
    }
  } finally {
    await runner.stop()
  }
  // Evicted from the group, the member's commit would fail and the chunk come back.
  expect(invocations.flat().sort()).toEqual(records.map((value) => value.envelope.eventId).sort())
})
