/**
 * The producing side of the backbone bench, in a worker thread of its own: listeners and
 * consumers are separate processes in production, so they must not share one event loop
 * here either. Produces the same events for both paths: bare kafkajs with pre-encoded
 * bytes, or the bus producer (Avro, headers, idempotent, acks=all). With the librdkafka
 * transport it runs as a child process instead (the job as its argument, reports over IPC):
 * that addon is not context-aware, so a second worker of the same process could not load it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import kafkajs from 'kafkajs'
import { connectBus } from '../core/bus/connect.ts'
import { createBusProducer } from '../core/bus/producer.ts'
import { TOPICS } from '../core/bus/topics.ts'
import { loadConfig } from '../core/config/env.ts'
import { createCommon } from '../core/context.ts'
import { startTracing } from '../core/tracing/tracing.ts'
import { type ChainEvent, createChainEventPublisher } from '../producers/chains/common/publisher.ts'
import { testEnv } from '../test/support/harness.ts'
import { sampleAttestation, sampleBridge, sampleNullifier } from '../test/support/records.ts'

export interface ProducerJob {
  readonly path: 'raw' | 'pipeline'
  readonly namespace: string
  readonly count: number
  readonly sendBatch: number
  /** For the raw path: the one topic all pre-encoded records go to. */
  readonly rawTopic: string
  /** With tracing on: where this thread's spans go (VERIDIS_OTLP_ENDPOINT). */
  readonly otlpEndpoint?: string
  /** The bus producer's client for the pipeline path (VERIDIS_KAFKA_TRANSPORT). */
  readonly transport: 'kafkajs' | 'librdkafka'
}

export type ProducerReport = { ready: true } | { produceMs: number; droppedSpans: number } | { error: string }

/** To the bench: through the worker's port, or the child process's IPC channel. */
const report = (message: ProducerReport): Promise<void> =>
  new Promise((resolve) => {
    if (parentPort) {
      parentPort.postMessage(message)
      resolve()
    } else process.send!(message, undefined, undefined, () => resolve())
  })

export function benchEvents(count: number, run: string): ChainEvent[] {
  return Array.from({ length: count }, (_, n) =>
    n % 3 === 0
      ? { topic: 'attestation', value: sampleAttestation(n, run) }
      : n % 3 === 1
        ? { topic: 'nullifier', value: sampleNullifier(n, run) }
        : { topic: 'bridge', value: sampleBridge(n, run) },
  )
}

async function produce(job: ProducerJob): Promise<{ produceMs: number; droppedSpans: number }> {
  const common = createCommon('bench-producer', {
    config: loadConfig({
      ...testEnv(job.namespace),
      VERIDIS_LOG_LEVEL: 'error',
      VERIDIS_OTLP_ENDPOINT: job.otlpEndpoint ?? '',
      VERIDIS_KAFKA_TRANSPORT: job.transport,
    }),
    exit: () => undefined,
  })
  // A worker thread has module state of its own: tracing is started here too, not inherited.
  const tracing = await startTracing(common)
  const bus = connectBus(common)
  await bus.codec.resolveIds()
  const events = benchEvents(job.count, job.namespace)
  if (job.path === 'raw') {
    const payloads = events.map((event) => {
      const topic = bus.topics[event.topic].name
      const keyOf = TOPICS[event.topic].keyOf as (value: ChainEvent['value']) => string
      return {
        key: bus.codec.encodeKey(topic, keyOf(event.value)),
        value: bus.codec.encodeValue(topic, event.value),
      }
    })
    const producer = bus.kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner })
    await producer.connect()
    await report({ ready: true })
    const started = Date.now()
    for (let start = 0; start < payloads.length; start += job.sendBatch) {
      await producer.send({
        topic: job.rawTopic,
        acks: -1,
        messages: payloads.slice(start, start + job.sendBatch),
      })
    }
    await producer.disconnect()
    return { produceMs: Date.now() - started, droppedSpans: 0 }
  }
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: 'bench',
    topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
  })
  await producer.connect()
  const publisher = createChainEventPublisher({ bus, producer })
  await report({ ready: true })
  const started = Date.now()
  for (let start = 0; start < events.length; start += job.sendBatch)
    await publisher.publish(events.slice(start, start + job.sendBatch))
  await producer.disconnect()
  const produceMs = Date.now() - started
  // Flushed after the clock stops: export is in the background in a running process.
  await tracing?.stop()
  return { produceMs, droppedSpans: tracing?.droppedSpans() ?? 0 }
}

const job = parentPort ? (workerData as ProducerJob | undefined) : process.send && process.argv[2]
if (job) {
  produce(typeof job === 'string' ? (JSON.parse(job) as ProducerJob) : job)
    .then(report, (error: unknown) => report({ error: String(error) }))
    // A child process ends once its report is out (librdkafka's threads would keep it alive).
    .then(() => parentPort || process.exit(0))
}
