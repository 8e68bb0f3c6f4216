/**
 * The producing side of the backbone bench, in a child process of its own, as listeners are
 * in production: its event loop, heap and garbage collector are not the consumer's, and its
 * CPU time (process.cpuUsage over the sends) is its own, so the bench can say how much of the
 * pipeline's CPU the producing side takes. Produces the same events for both paths: bare
 * kafkajs with pre-encoded bytes, or the bus producer (Avro, headers, idempotent, acks=all)
 * on kafkajs or librdkafka. The job comes as the process's argument, reports go back over IPC.
 */
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

export interface ProducerOutcome {
  /** Wall time from the first send to the last acknowledgement. */
  readonly produceMs: number
  /** This process's CPU time (user + system, all its threads) over the same sends. */
  readonly produceCpuMs: number
  readonly droppedSpans: number
}

export type ProducerReport = { ready: true } | ProducerOutcome | { error: string }

/** To the bench, over the child process's IPC channel. */
const report = (message: ProducerReport): Promise<void> =>
  new Promise((resolve) => process.send!(message, undefined, undefined, () => resolve()))

const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start)
  return (user + system) / 1000
}

export function benchEvents(count: number, run: string): ChainEvent[] {
  return Array.from({ length: count }, (_, n) =>
    n % 3 === 0
      ? { topic: 'attestation', value: sampleAttestation(n, run) }
      : n % 3 === 1
        ? { topic: 'nullifier', value: sampleNullifier(n, run) }
        : { topic: 'bridge', value: sampleBridge(n, run) },
  )
}

async function produce(job: ProducerJob): Promise<ProducerOutcome> {
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
    const cpuStart = process.cpuUsage()
    for (let start = 0; start < payloads.length; start += job.sendBatch) {
      await producer.send({
        topic: job.rawTopic,
        acks: -1,
        messages: payloads.slice(start, start + job.sendBatch),
      })
    }
    const outcome = { produceMs: Date.now() - started, produceCpuMs: cpuMsSince(cpuStart), droppedSpans: 0 }
    await producer.disconnect()
    return outcome
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
  const cpuStart = process.cpuUsage()
  for (let start = 0; start < events.length; start += job.sendBatch)
    await publisher.publish(events.slice(start, start + job.sendBatch))
  const produceMs = Date.now() - started
  const produceCpuMs = cpuMsSince(cpuStart)
  await producer.disconnect()
  // Flushed after the clock stops: export is in the background in a running process.
  await tracing?.stop()
  return { produceMs, produceCpuMs, droppedSpans: tracing?.droppedSpans() ?? 0 }
}

const job = process.send && process.argv[2]
if (job) {
  produce(JSON.parse(job) as ProducerJob)
    .then(report, (error: unknown) => report({ error: String(error) }))
    // The process ends once its report is out (librdkafka's threads would keep it alive).
    .then(() => process.exit(0))
}
