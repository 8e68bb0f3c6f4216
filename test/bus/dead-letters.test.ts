import kafkajs from 'kafkajs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ConsumedMessage, createConsumerRunner } from '../../core/bus/consumer.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { Command, DeadLetter, NullifierEvent } from '../../core/bus/types.ts'
import { NonRetryableError, RetryableError } from '../../core/errors.ts'
import { eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import { sampleCommand, sampleNullifier } from '../support/records.ts'

let testBus: TestBus
let producer: BusProducer

beforeAll(async () => {
  testBus = await openTestBus(undefined, { VERIDIS_CONSUMER_MAX_ATTEMPTS: '3' })
  producer = await testProducer(testBus)
})

afterAll(async () => {
  await producer?.disconnect()
  await testBus?.close()
})

describe('poison messages', () => {
  test('behavior: undecodable and failing messages go to the DLQ with their reason; the rest are handled in order', async () => {
    const topic = testBus.bus.topics.nullifier.name
    const records = Array.from({ length: 12 }, (_, n) => sampleNullifier(n, testBus.namespace))
    const failing = records[3]!.envelope.eventId
    const rejected = records[7]!.envelope.eventId
    const flaky = records[9]!.envelope.eventId
    // Every record on one partition, so order and "goes on with the next" are observable.
    const record = (value: NullifierEvent) => ({
      key: 'one-key',
      value,
      eventId: value.envelope.eventId,
      partition: 0,
    })
    await producer.publish(topic, records.slice(0, 6).map(record))
    // Bytes that are not Avro in the wire format, written by a plain kafkajs producer.
    const raw = testBus.bus.kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner })
    await raw.connect()
    await raw.send({
      topic,
      messages: [
        {
          key: 'garbage',
          value: Buffer.from('{"not":"avro"}'),
          partition: 0,
          headers: { eventId: 'garbage-1' },
        },
      ],
    })
    await raw.disconnect()
    await producer.publish(topic, records.slice(6).map(record))

    const handled: string[] = []
    let flakyFailures = 0
    const runner = createConsumerRunner(testBus.common, {
      bus: testBus.bus,
      producer,
      definition: {
        name: 'dlq-test',
        topics: [topic],
        handle: async (messages: readonly ConsumedMessage<NullifierEvent>[]) => {
          for (const message of messages) {
            const id = message.value.envelope.eventId
            if (id === failing) throw new Error('handler keeps failing on this one')
            if (id === rejected) throw new NonRetryableError('scope is not registered')
            if (id === flaky && flakyFailures++ < 2) throw new RetryableError('database briefly away')
          }
          handled.push(...messages.map((message) => message.value.envelope.eventId))
        },
      },
    })
    await runner.start()

    const deadLetters: DeadLetter[] = []
    const dlqReader = createConsumerRunner(testBus.common, {
      bus: testBus.bus,
      producer,
      definition: {
        name: 'dlq-reader',
        topics: [testBus.bus.topics.deadLetter.name],
        handle: async (messages: readonly ConsumedMessage<DeadLetter>[]) => {
          deadLetters.push(...messages.map((message) => message.value))
        },
      },
    })
    await dlqReader.start()
    try {
      await eventually(
        async () => (handled.length >= 10 && deadLetters.length >= 3 ? true : undefined),
        45_000,
        'handling',
      )
    } finally {
      await runner.stop()
      await dlqReader.stop()
    }

    const expectedHandled = records
      .map((value) => value.envelope.eventId)
      .filter((id) => id !== failing && id !== rejected)
    // Each handled exactly once, in offset order, including the one that failed transiently.
    expect(handled).toEqual(expectedHandled)
    expect(flakyFailures).toBe(3)

    const byReason = Object.fromEntries(deadLetters.map((letter) => [letter.reason, letter]))
    expect(Object.keys(byReason).sort()).toEqual(['HANDLER_FAILED', 'NON_RETRYABLE', 'UNDECODABLE'])
    expect(byReason.UNDECODABLE!.value!.toString()).toBe('{"not":"avro"}')
    expect(byReason.UNDECODABLE!.errorMessage).toMatch(/magic byte/)
    expect(byReason.UNDECODABLE!.attempts).toBe(1)
    expect(byReason.UNDECODABLE!.headers.eventId!.toString()).toBe('garbage-1')
    expect(byReason.HANDLER_FAILED!.attempts).toBe(3)
    expect(byReason.HANDLER_FAILED!.errorMessage).toBe('handler keeps failing on this one')
    expect(byReason.HANDLER_FAILED!.headers.eventId!.toString()).toBe(failing)
    expect(byReason.NON_RETRYABLE!.attempts).toBe(1)
    for (const letter of deadLetters) {
      expect(letter.topic).toBe(topic)
      expect(letter.consumerGroup).toBe(`${testBus.namespace}.veridis.dlq-test`)
    }
    // The original bytes are kept: the failing record's value decodes to what was sent.
    const original = await testBus.bus.codec.decodeValue(topic, byReason.HANDLER_FAILED!.value)
    expect(original).toEqual(records[3])

    const metrics = await testBus.common.metrics.registry.getSingleMetricAsString(
      'veridis_bus_dead_letters_total',
    )
    expect(metrics).toMatch(/reason="UNDECODABLE"[^\n]* 1/)
  })

  test('behavior: a failing message too large to repeat in a dead letter is dead-lettered without its value', async () => {
    const topic = testBus.bus.topics.nullifier.name
    const big = { ...sampleNullifier(500, testBus.namespace), registry: 'x'.repeat(600 * 1024) }
    const small = sampleNullifier(501, testBus.namespace)
    const record = (value: NullifierEvent) => ({
      key: 'big-key',
      value,
      eventId: value.envelope.eventId,
      partition: 1,
    })
    await producer.publish(topic, [record(big), record(small)])

    const handled: string[] = []
    const runner = createConsumerRunner(testBus.common, {
      bus: testBus.bus,
      producer,
      definition: {
        name: 'dlq-big',
        topics: [topic],
        handle: async (messages: readonly ConsumedMessage<NullifierEvent>[]) => {
          if (messages.some((message) => message.value.envelope.eventId === big.envelope.eventId)) {
            throw new NonRetryableError('refused')
          }
          handled.push(...messages.map((message) => message.value.envelope.eventId))
        },
      },
    })
    const letters: DeadLetter[] = []
    const reader = createConsumerRunner(testBus.common, {
      bus: testBus.bus,
      producer,
      definition: {
        name: 'dlq-big-reader',
        topics: [testBus.bus.topics.deadLetter.name],
        handle: async (messages: readonly ConsumedMessage<DeadLetter>[]) => {
          // This group also reads the first test's records (same topic), garbage included:
          // keep only the dead letter of the big record.
          letters.push(
            ...messages
              .map((message) => message.value)
              .filter(
                (letter) =>
                  letter.consumerGroup.endsWith('dlq-big') &&
                  letter.headers.eventId?.toString() === big.envelope.eventId,
              ),
          )
        },
      },
    })
    await runner.start()
    await reader.start()
    try {
      await eventually(
        async () => (handled.includes(small.envelope.eventId) && letters.length === 1 ? true : undefined),
        45_000,
        'dead letter',
      )
    } finally {
      await runner.stop()
      await reader.stop()
    }
    expect(letters[0]!.value).toBeNull()
    expect(letters[0]!.errorMessage).toMatch(/original value omitted \(\d+ bytes\); read it at .+\/1\/\d+/)
    expect(letters[0]!.headers.eventId!.toString()).toBe(big.envelope.eventId)
  })

  test('behavior: a failing command is dead-lettered without its value, which may hold private proof inputs', async () => {
    const topic = testBus.bus.topics.command.name
    const secret = '987654321987654321987654321'
    const command: Command = {
      ...sampleCommand(1),
      payload: {
        'io.veridis.command.ProveCommand': { circuit: 'IDENTITY_MEMBERSHIP', inputs: { secret: [secret] } },
      },
    }
    await producer.publish(topic, [
      { key: command.idempotencyKey, value: command, eventId: command.commandId, partition: 2 },
    ])
    const runner = createConsumerRunner(testBus.common, {
      bus: testBus.bus,
      producer,
      definition: {
        name: 'dlq-secret',
        topics: [topic],
        handle: async () => {
          throw new NonRetryableError('prover artifacts missing')
        },
      },
    })
    const letters: DeadLetter[] = []
    const reader = createConsumerRunner(testBus.common, {
      bus: testBus.bus,
      producer,
      definition: {
        name: 'dlq-secret-reader',
        topics: [testBus.bus.topics.deadLetter.name],
        handle: async (messages: readonly ConsumedMessage<DeadLetter>[]) => {
          letters.push(
            ...messages
              .map((message) => message.value)
              .filter((letter) => letter.consumerGroup.endsWith('dlq-secret')),
          )
        },
      },
    })
    await runner.start()
    await reader.start()
    try {
      await eventually(async () => (letters.length === 1 ? true : undefined), 45_000, 'dead letter')
    } finally {
      await runner.stop()
      await reader.stop()
    }
    const [letter] = letters as [DeadLetter]
    expect(letter.value).toBeNull()
    expect(letter.reason).toBe('NON_RETRYABLE')
    expect(letter.errorMessage).toMatch(
      /original value omitted \(it may hold secrets\); read it at .+\/2\/\d+/,
    )
    expect(letter.headers.eventId!.toString()).toBe(command.commandId)
    expect(JSON.stringify(letter)).not.toContain(secret)
  })
})
