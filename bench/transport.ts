/**
 * Transport bench (issue 17 item 3): raw kafkajs against raw librdkafka, through
 * @confluentinc/kafka-javascript's KafkaJS-compatible API, on the same pre-encoded Avro records,
 * in one run, so the team can judge whether a librdkafka transport would be worth its cost
 * (a native build, a second client's semantics). kafkajs stays the default unless the gain
 * measured here is large.
 *
 *   bin/veridis bench transport [--events 100000] [--rounds 3]
 *
 * librdkafka comes from the native cache: infra/stack/native/kafka-javascript.sh builds it once
 * (about 5 minutes); without it the bench fails, naming the script (core/bus/rdkafka.ts).
 *
 * Per round and transport (which goes first alternates by round), in a fresh namespace:
 *   - produce → consume: a producer in a child process of its own (producers and consumers are
 *     separate processes in production; librdkafka's addon is not context-aware, so it cannot
 *     live in a worker thread next to a main-thread copy) sends N records, 2,000 per awaited
 *     send, acks all, not idempotent (bench/pipeline.ts's raw path), to the namespace's proof
 *     topic, while a consumer here (own group, from the beginning, eachBatch) takes them.
 *     Throughput = N / (last message consumed − first send); latency = consume time − the
 *     record's Kafka timestamp, p50 and p99;
 *   - produce only: the same producer then sends the N records again to another topic of the
 *     namespace (the alert topic), nothing consuming.
 * Settings are each client's defaults otherwise; librdkafka's that matter here: linger.ms 5,
 * and eachBatch is given at most `js.consumer.max.batch.size` messages, set to the send batch
 * (its default, 32, is a max.poll.records; kafkajs hands over a whole fetch).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import kafkajs from 'kafkajs'
import { type Bus, connectBus } from '../core/bus/connect.ts'
import { createRdKafkaClient, requireRdKafka } from '../core/bus/rdkafka.ts'
import { TOPICS } from '../core/bus/topics.ts'
import { loadConfig } from '../core/config/env.ts'
import { type Common, createCommon } from '../core/context.ts'
import { PROJECT_ROOT } from '../core/paths.ts'
import { tsNodeFlags } from '../infra/stack/node-flags.ts'
import type { ChainEvent } from '../producers/chains/common/publisher.ts'
import { openTestBus, testEnv } from '../test/support/harness.ts'
import { benchEvents } from './pipeline-producer.ts'
import { median, percentile } from './stats.ts'

const SEND_BATCH = 2_000
/** As the raw consumer of bench/pipeline.ts. */
const MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024
const TIMEOUT_MS = 300_000

type Transport = 'kafkajs' | 'librdkafka'
const TRANSPORTS: readonly Transport[] = ['kafkajs', 'librdkafka']

interface TransportResult {
  transport: Transport
  seconds: number
  eventsPerSecond: number
  p50: number
  p99: number
  /** Sending all N while the consumer took them. */
  produceMs: number
  /** Sending all N again, nothing consuming. */
  produceOnlyMs: number
}

type Round = Record<Transport, TransportResult> & { first: Transport }

interface ProducerJob {
  readonly transport: Transport
  readonly namespace: string
  readonly count: number
}

/** Child → bench. */
type ProducerReport = { ready: true } | { sent: { startedAt: number; produceMs: number } } | { error: string }
/** Bench → child. */
type ProducerCommand = { send: string } | { exit: true }

interface Sender {
  connect(): Promise<void>
  send(topic: string, messages: { key: Buffer; value: Buffer }[]): Promise<void>
  disconnect(): Promise<void>
}

interface Receiver {
  joined(): boolean
  disconnect(): Promise<void>
}

type OnBatch = (messages: readonly { timestamp: string }[]) => void

/** The KafkaJS-compatible client on the brokers (and TLS, SASL) kafkajs gets from the same config. */
const rdkafkaClient = (common: Common) =>
  createRdKafkaClient(requireRdKafka(), {
    config: common.config.kafka,
    clientId: `veridis-${common.service}`,
    logger: common.logger,
  })

function createSender(transport: Transport, bus: Bus, common: Common): Sender {
  if (transport === 'kafkajs') {
    const producer = bus.kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner })
    return {
      connect: () => producer.connect(),
      send: async (topic, messages) => {
        await producer.send({ topic, acks: -1, messages })
      },
      disconnect: () => producer.disconnect(),
    }
  }
  // acks are per producer here, not per send; its default partitioner (murmur2_random) puts
  // keyed records where kafkajs's DefaultPartitioner (murmur2) does.
  const producer = rdkafkaClient(common).producer({
    kafkaJS: { acks: -1, idempotent: false },
  })
  return {
    connect: () => producer.connect(),
    send: async (topic, messages) => {
      await producer.send({ topic, messages })
    },
    disconnect: () => producer.disconnect(),
  }
}

async function startReceiver(
  transport: Transport,
  common: Common,
  bus: Bus,
  groupId: string,
  topic: string,
  onBatch: OnBatch,
): Promise<Receiver> {
  if (transport === 'kafkajs') {
    const consumer = bus.kafka.consumer({ groupId, maxBytesPerPartition: MAX_BYTES_PER_PARTITION })
    let joined = false
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true
    })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachBatch: async ({ batch }) => onBatch(batch.messages) })
    return { joined: () => joined, disconnect: () => consumer.disconnect() }
  }
  // fromBeginning is per consumer here, not per subscribe.
  const consumer = rdkafkaClient(common).consumer({
    kafkaJS: { groupId, fromBeginning: true, maxBytesPerPartition: MAX_BYTES_PER_PARTITION },
    'js.consumer.max.batch.size': SEND_BATCH,
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic] })
  await consumer.run({ eachBatch: async ({ batch }) => onBatch(batch.messages) })
  return { joined: () => consumer.assignment().length > 0, disconnect: () => consumer.disconnect() }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`bench transport: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The producing side in a child process (this module, run as a script), driven over IPC. */
function startProducer(job: ProducerJob) {
  const child: ChildProcess = fork(path.join(PROJECT_ROOT, 'bench/transport.ts'), [JSON.stringify(job)], {
    // As every pipeline process.
    execArgv: tsNodeFlags(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const inbox: ProducerReport[] = []
  let failure: Error | undefined
  let wake = () => {}
  child.on('message', (report: ProducerReport) => {
    inbox.push(report)
    wake()
  })
  child.once('exit', (code, signal) => {
    failure ??= new Error(`bench transport: ${job.transport} producer exited (${signal ?? code})`)
    wake()
  })
  child.once('error', (error) => {
    failure ??= error
    wake()
  })
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  async function next(what: string): Promise<ProducerReport> {
    const deadline = Date.now() + TIMEOUT_MS
    for (;;) {
      const report = inbox.shift()
      if (report) {
        if ('error' in report) throw new Error(`bench transport: ${job.transport} producer: ${report.error}`)
        return report
      }
      if (failure) throw failure
      if (Date.now() > deadline) throw new Error(`bench transport: timed out waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }
  const command = (message: ProducerCommand) => child.send(message)
  return {
    /** Connected, the records encoded: what follows is sending only. */
    async ready() {
      await next(`the ${job.transport} producer to connect`)
    },
    async send(topic: string): Promise<{ startedAt: number; produceMs: number }> {
      command({ send: topic })
      const report = await next(`the ${job.transport} producer to send to ${topic}`)
      if (!('sent' in report)) throw new Error(`bench transport: unexpected report ${JSON.stringify(report)}`)
      return report.sent
    },
    /** Disconnects it and waits for it to end; kills it after 30 s, or at once after a failure. */
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return
      if (child.connected && !failure) {
        command({ exit: true })
        const timer = setTimeout(() => child.kill(), 30_000)
        await exited
        clearTimeout(timer)
      } else {
        child.kill()
        await exited
      }
    },
  }
}

/** One transport, both measurements, in a fresh namespace (topics, group) cleaned afterwards. */
async function benchOne(transport: Transport, count: number): Promise<TransportResult> {
  const testBus = await openTestBus(undefined, { VERIDIS_LOG_LEVEL: 'error' })
  const { bus, common, namespace } = testBus
  let producer: ReturnType<typeof startProducer> | undefined
  let receiver: Receiver | undefined
  try {
    producer = startProducer({ transport, namespace, count })
    const latencies: number[] = []
    let seen = 0
    let last = 0
    receiver = await startReceiver(
      transport,
      common,
      bus,
      `${namespace}.transport`,
      bus.topics.proof.name,
      (messages) => {
        const now = Date.now()
        for (const message of messages) latencies.push(now - Number(message.timestamp))
        seen += messages.length
        last = now
      },
    )
    const joined = receiver
    await waitFor(() => joined.joined(), 60_000, `the ${transport} consumer to join its group`)
    await producer.ready()
    const sent = await producer.send(bus.topics.proof.name)
    await waitFor(() => seen >= count, TIMEOUT_MS, `the ${transport} consumer`)
    await receiver.disconnect()
    receiver = undefined
    const only = await producer.send(bus.topics.alert.name)
    await producer.close()
    const seconds = (last - sent.startedAt) / 1000
    return {
      transport,
      seconds,
      eventsPerSecond: count / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      produceMs: sent.produceMs,
      produceOnlyMs: only.produceMs,
    }
  } finally {
    await receiver?.disconnect().catch(() => undefined)
    await producer?.close()
    await testBus.close()
  }
}

export async function benchTransport(options: { events: number; rounds: number }): Promise<{
  events: number
  librdkafkaVersion: string
  rounds: Round[]
}> {
  // Before any namespace is made: no build, no bench.
  const { librdkafkaVersion } = requireRdKafka()
  const rounds: Round[] = []
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? TRANSPORTS : [...TRANSPORTS].reverse()
    const results = new Map<Transport, TransportResult>()
    for (const transport of order) results.set(transport, await benchOne(transport, options.events))
    const kafkajsResult = results.get('kafkajs')!
    const librdkafkaResult = results.get('librdkafka')!
    rounds.push({ kafkajs: kafkajsResult, librdkafka: librdkafkaResult, first: order[0]! })
    process.stderr.write(
      `round ${round + 1}/${options.rounds}: kafkajs ${kafkajsResult.eventsPerSecond.toFixed(0)} ev/s, librdkafka ${librdkafkaResult.eventsPerSecond.toFixed(0)} ev/s\n`,
    )
  }
  return { events: options.events, librdkafkaVersion, rounds }
}

/** librdkafka against kafkajs: >1 is better for throughput and produce-only rate, <1 for latency. */
function ratios(round: Round) {
  const { kafkajs: k, librdkafka: r } = round
  return {
    throughput: r.eventsPerSecond / k.eventsPerSecond,
    p50: r.p50 / k.p50,
    p99: r.p99 / k.p99,
    produceOnlyRate: k.produceOnlyMs / r.produceOnlyMs,
  }
}

export function printTransportBench(result: Awaited<ReturnType<typeof benchTransport>>) {
  const { events, rounds } = result
  const rate = (ms: number) => `${((events / ms) * 1000).toFixed(0)} ev/s`
  const row = (label: string, r: Omit<TransportResult, 'transport'>) =>
    `${label.padEnd(20)} ${r.eventsPerSecond.toFixed(0).padStart(8)} ev/s  p50 ${r.p50.toFixed(0).padStart(5)} ms  p99 ${r.p99.toFixed(0).padStart(5)} ms  produce ${(r.produceMs / 1000).toFixed(2).padStart(6)} s  produce only ${(r.produceOnlyMs / 1000).toFixed(2).padStart(6)} s (${rate(r.produceOnlyMs)})`
  const times = (x: number) => `${x.toFixed(2)}×`
  const ratioRow = (label: string, x: ReturnType<typeof ratios>) =>
    `${label.padEnd(20)} throughput ${times(x.throughput)}  p50 ${times(x.p50)}  p99 ${times(x.p99)}  produce-only rate ${times(x.produceOnlyRate)}`
  process.stdout.write(
    `\ntransport bench: ${events} Avro records per transport and round, ${SEND_BATCH} per awaited send, acks all, not idempotent; ` +
      `kafkajs against librdkafka ${result.librdkafkaVersion} (@confluentinc/kafka-javascript, KafkaJS API); ` +
      `${availableParallelism()} CPU cores shared with Kafka\n`,
  )
  rounds.forEach((round, index) => {
    process.stdout.write(`round ${index + 1} (${round.first} first)\n`)
    for (const transport of TRANSPORTS) process.stdout.write(`${row(`  ${transport}`, round[transport])}\n`)
    process.stdout.write(`${ratioRow('  librdkafka/kafkajs', ratios(round))}\n`)
  })
  const pick = (transport: Transport) => {
    const all = rounds.map((round) => round[transport])
    const of = (key: 'seconds' | 'eventsPerSecond' | 'p50' | 'p99' | 'produceMs' | 'produceOnlyMs') =>
      median(all.map((r) => r[key]))
    return {
      seconds: of('seconds'),
      eventsPerSecond: of('eventsPerSecond'),
      p50: of('p50'),
      p99: of('p99'),
      produceMs: of('produceMs'),
      produceOnlyMs: of('produceOnlyMs'),
    }
  }
  const all = rounds.map(ratios)
  process.stdout.write(`median of ${rounds.length} rounds\n`)
  for (const transport of TRANSPORTS) process.stdout.write(`${row(`  ${transport}`, pick(transport))}\n`)
  process.stdout.write(
    `${ratioRow('  librdkafka/kafkajs', {
      throughput: median(all.map((x) => x.throughput)),
      p50: median(all.map((x) => x.p50)),
      p99: median(all.map((x) => x.p99)),
      produceOnlyRate: median(all.map((x) => x.produceOnlyRate)),
    })} (medians of the rounds' ratios)\n`,
  )
}

/** Run as the producer child: encode the records as bench/pipeline-producer.ts's raw path does, then send on command. */
async function producerProcess(job: ProducerJob) {
  const report = (message: ProducerReport) =>
    new Promise<void>((resolve) => process.send!(message, undefined, undefined, () => resolve()))
  const common = createCommon('bench-transport-producer', {
    config: loadConfig({ ...testEnv(job.namespace), VERIDIS_LOG_LEVEL: 'error' }),
    exit: () => undefined,
  })
  const bus = connectBus(common)
  await bus.codec.resolveIds()
  const payloads = benchEvents(job.count, job.namespace).map((event) => {
    const topic = bus.topics[event.topic].name
    const keyOf = TOPICS[event.topic].keyOf as (value: ChainEvent['value']) => string
    return {
      key: bus.codec.encodeKey(topic, keyOf(event.value)),
      value: bus.codec.encodeValue(topic, event.value),
    }
  })
  const sender = createSender(job.transport, bus, common)
  await sender.connect()
  let work = Promise.resolve()
  process.on('message', (command: ProducerCommand) => {
    work = work
      .then(async () => {
        if ('exit' in command) {
          await sender.disconnect()
          process.disconnect()
          process.exit(0)
        }
        const startedAt = Date.now()
        for (let start = 0; start < payloads.length; start += SEND_BATCH)
          await sender.send(command.send, payloads.slice(start, start + SEND_BATCH))
        await report({ sent: { startedAt, produceMs: Date.now() - startedAt } })
      })
      .catch(async (error: unknown) => {
        await report({ error: String(error) })
        process.exit(1)
      })
  })
  await report({ ready: true })
}

if (
  process.send &&
  process.argv[1] &&
  import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href
) {
  producerProcess(JSON.parse(process.argv[2]!) as ProducerJob).catch((error: unknown) => {
    process.send!({ error: String(error) } satisfies ProducerReport, undefined, undefined, () =>
      process.exit(1),
    )
  })
}
