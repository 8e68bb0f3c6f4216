/**
 * Audit bench: N commands and gateway facts through the chaining stage (consumer runner →
 * exactly-once transaction that audits, HMACs and chains them → outbox → the relay's Kafka
 * transactions → veridis.audit.v1 and its projection) next to the raw topic path in the
 * same run: bare kafkajs reading the same input records and writing them to another topic,
 * idempotent with acks=all, no chaining.
 *
 *   bin/veridis bench audit [--events 10000] [--rounds 3]
 *
 * Throughput is records / (last record on the output topic − start of the stage); both
 * stages start with the input already on the topic.
 */
import { randomUUID } from 'node:crypto'
import type { AuditInput } from '../consumers/audit/handle.ts'
import { createAuditService } from '../consumers/audit/index.ts'
import { createConsumerRunner } from '../core/bus/consumer.ts'
import { exactlyOnce } from '../core/db/exactly-once.ts'
import {
  cleanAuditTables,
  intakeFact,
  projectedCount,
  proveCommand,
  publishCommands,
  publishFacts,
} from '../test/audit/support.ts'
import { openTestBus, testProducer } from '../test/support/harness.ts'
import { median } from './stats.ts'

interface Round {
  readonly raw: number
  readonly chained: number
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function benchRound(count: number): Promise<Round> {
  const testBus = await openTestBus()
  const { bus, pool, common } = testBus
  const producer = await testProducer(testBus)
  try {
    const facts = Math.floor(count / 4)
    await publishCommands(
      testBus,
      producer,
      Array.from({ length: count - facts }, (_, n) => proveCommand(n)),
    )
    await publishFacts(
      testBus,
      producer,
      Array.from({ length: facts }, (_, n) => intakeFact(n)),
    )

    // Raw: read the input topics and write the same bytes to another topic. Both paths are
    // timed from joining their group, so the join itself (seconds) is not counted.
    let rawStarted = 0
    const rawProducer = bus.kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await rawProducer.connect()
    const rawConsumer = bus.kafka.consumer({ groupId: `${testBus.namespace}.bench-raw.${randomUUID()}` })
    rawConsumer.on(rawConsumer.events.GROUP_JOIN, () => {
      rawStarted = Date.now()
    })
    await rawConsumer.connect()
    let written = 0
    let rawDone = 0
    for (const topic of [bus.topics.command.name, bus.topics.auditIntake.name])
      await rawConsumer.subscribe({ topic, fromBeginning: true })
    await rawConsumer.run({
      partitionsConsumedConcurrently: common.config.consumer.partitionConcurrency,
      eachBatch: async ({ batch }) => {
        await rawProducer.send({
          topic: bus.topics.proof.name,
          acks: -1,
          messages: batch.messages.map((m) => ({ key: m.key, value: m.value })),
        })
        written += batch.messages.length
        if (written >= count && !rawDone) rawDone = Date.now()
      },
    })
    await waitUntil(async () => rawDone > 0, 300_000, 'the raw path')
    await rawConsumer.disconnect()
    await rawProducer.disconnect()

    // Chained: the audit consumer's own handler and relay.
    const service = createAuditService(common, { bus, pool })
    await service.prepare()
    service.relay.start()
    const group = `${testBus.namespace}.veridis.audit`
    const runner = createConsumerRunner<AuditInput>(common, {
      bus,
      producer,
      definition: {
        name: 'audit',
        groupId: group,
        topics: [bus.topics.command.name, bus.topics.auditIntake.name],
        handle: exactlyOnce<AuditInput>({
          pool,
          group,
          idOf: (message) => `${message.topic}#${message.eventId}`,
          effect: (messages, client) => service.handle(messages, client),
        }),
      },
    })
    await runner.start()
    await waitUntil(async () => runner.isReady(), 60_000, 'the audit consumer to join')
    const chainStarted = Date.now()
    await waitUntil(async () => (await projectedCount(testBus)) >= count, 600_000, 'the chained path')
    const chainDone = Date.now()
    await runner.stop()
    await service.relay.stop()
    return {
      raw: count / ((rawDone - rawStarted) / 1000),
      chained: count / ((chainDone - chainStarted) / 1000),
    }
  } finally {
    await producer.disconnect()
    await cleanAuditTables(testBus)
    await testBus.close()
  }
}

export async function benchAudit(count: number, rounds: number) {
  const all: Round[] = []
  for (let round = 0; round < rounds; round++) {
    const result = await benchRound(count)
    all.push(result)
    process.stderr.write(
      `round ${round + 1}/${rounds}: raw ${result.raw.toFixed(0)} rec/s, chained ${result.chained.toFixed(0)} rec/s\n`,
    )
  }
  return { rounds: all, raw: median(all.map((r) => r.raw)), chained: median(all.map((r) => r.chained)) }
}

export function printAuditBench(count: number, result: Awaited<ReturnType<typeof benchAudit>>) {
  process.stdout.write(
    `\naudit bench: ${count} input records (3/4 commands, 1/4 gateway facts), median of ${result.rounds.length} rounds\n`,
  )
  process.stdout.write(
    `raw topic path (kafkajs read → write, acks=all)      ${result.raw.toFixed(0).padStart(8)} rec/s\n`,
  )
  process.stdout.write(
    `chaining stage (audit, HMAC, chain, relay, project)  ${result.chained.toFixed(0).padStart(8)} rec/s\n`,
  )
  process.stdout.write(`chained / raw: ${((result.chained / result.raw) * 100).toFixed(1)} %\n`)
}
