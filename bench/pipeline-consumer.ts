/**
 * One consumer instance of the backbone bench's scale-out rows, in a worker thread of its
 * own (an event loop and heap of its own, as a separate `veridis consume ledger` process
 * has): the bus runner in the bench's group → the Postgres ledger. Reports each
 * applied chunk to the bench (count, effect time, latencies) and stops when told to.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { type ChainEventValue, ledgerHandler } from '../consumers/ledger/project.ts'
import { connectBus } from '../core/bus/connect.ts'
import { type ConsumedMessage, createConsumerRunner } from '../core/bus/consumer.ts'
import { createBusProducer } from '../core/bus/producer.ts'
import { loadConfig } from '../core/config/env.ts'
import { createCommon } from '../core/context.ts'
import { createPool } from '../core/db/pool.ts'
import { testEnv } from '../test/support/harness.ts'

export interface ConsumerJob {
  readonly namespace: string
  readonly group: string
  readonly instance: number
}

/** What an instance posts: `ready` once its runner started, `applied` per chunk, `stopped` at the end. */
export type ConsumerReport =
  | { readonly ready: true }
  | { readonly applied: number; readonly at: number; readonly latencies: number[] }
  | { readonly stopped: true }
  | { readonly error: string }

async function consume(job: ConsumerJob) {
  const common = createCommon(`bench-consumer-${job.instance}`, {
    config: loadConfig({ ...testEnv(job.namespace), VERIDIS_LOG_LEVEL: 'error' }),
    exit: () => undefined,
  })
  const bus = connectBus(common)
  await bus.codec.resolveIds()
  const pool = createPool(common.config.database, common.logger, `veridis-bench-${job.instance}`)
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: `bench-consumer-${job.instance}`,
    topics: bus.allTopics.map((topic) => topic.name),
  })
  await producer.connect()
  const ledger = ledgerHandler({ pool, group: job.group })
  const report = (message: ConsumerReport) => parentPort!.postMessage(message)
  const runner = createConsumerRunner(common, {
    bus,
    producer,
    definition: {
      name: `ledger-bench-${job.instance}`,
      groupId: job.group,
      topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
      handle: async (messages: readonly ConsumedMessage<ChainEventValue>[], context) => {
        await ledger(messages, context)
        const at = Date.now()
        report({ applied: messages.length, at, latencies: messages.map((message) => at - message.timestamp) })
      },
    },
  })
  await runner.start()
  report({ ready: true })
  parentPort!.once('message', async () => {
    await runner.stop()
    await producer.disconnect()
    await pool.end()
    report({ stopped: true })
  })
}

if (parentPort && workerData) {
  consume(workerData as ConsumerJob).catch((error: unknown) =>
    parentPort!.postMessage({ error: String(error) }),
  )
}
