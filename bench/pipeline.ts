/**
 * Backbone benchmark: N chain events through the pipeline path (bus producer with Avro +
 * headers, idempotent acks=all → Kafka → consumer runner → Postgres ledger)
 * next to bare kafkajs producing and consuming the same Avro payloads, in one run.
 *
 *   bin/veridis bench pipeline [--events 100000] [--rounds 3] [--tracing off|on|both] [--instances 2]
 *                              [--transport kafkajs|librdkafka]
 *
 * `--tracing on` exports every span (producer, consumer, handler, transaction) to a Jaeger
 * started on free loopback ports; `both` runs each round with tracing off and on, in
 * alternating order, and prints the overhead: pipeline throughput and latency on against off.
 *
 * Both paths run producer (in a child process, as listeners are separate processes) and
 * consumer concurrently, as in production. Throughput is
 * events / (last effect − first send); latency is effect time − the record's Kafka
 * timestamp (set when the producer sent it). For the raw path the "effect" is the
 * consumer seeing the message; for the pipeline it is the Postgres commit.
 *
 * Scale-out (issue 17; tracing off, `--instances N`, default 2, 1 leaves it out): the
 * pipeline path again, each time in a fresh namespace, with its consumers in worker threads
 * of their own (bench/pipeline-consumer.ts: an event loop and heap each, as separate
 * processes), first 1 then N of them in one group; the scaling factor is N's throughput over
 * 1's, round by round. The broker count is the running stack's (`stack up --brokers 3`).
 *
 * `--transport librdkafka` (issue 17 item 3): the pipeline paths' bus producer writes through
 * librdkafka (VERIDIS_KAFKA_TRANSPORT, built by infra/stack/native/kafka-javascript.sh); the
 * raw baseline stays bare kafkajs, the consumers kafkajs.
 *
 * Each path's line also gives the producing process's own CPU time over its sends: on this
 * 2-core host the producer shares the cores with the consumer, Kafka and Postgres, so its wall
 * time ("producing took") says little about what producing costs.
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os, { availableParallelism } from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { type ChainEventValue, ledgerHandler } from '../consumers/ledger/project.ts'
import { type ConsumedMessage, createConsumerRunner } from '../core/bus/consumer.ts'
import { loadConfig } from '../core/config/env.ts'
import type { KafkaConfig } from '../core/config/kafka.ts'
import { PROJECT_ROOT } from '../core/paths.ts'
import { startTracing } from '../core/tracing/tracing.ts'
import { jaegerBinaryPath, startJaeger } from '../infra/stack/jaeger.ts'
import { stackLayout } from '../infra/stack/layout.ts'
import { tsNodeFlags } from '../infra/stack/node-flags.ts'
import { freePort, openTestBus, testProducer } from '../test/support/harness.ts'
import type { ConsumerJob, ConsumerReport } from './pipeline-consumer.ts'
import type { ProducerJob, ProducerOutcome, ProducerReport } from './pipeline-producer.ts'
import { ownCpuMs, stackServicesCpu } from './process-cpu.ts'
import { median, percentile } from './stats.ts'

const SEND_BATCH = 2_000

interface Result {
  name: string
  produceMs?: number
  /** The producing process's CPU time over its sends. */
  produceCpuMs?: number
  /** The other sides' CPU time from the first send to the last effect (see cpuWindow). */
  cpu?: SidesCpu
  seconds: number
  eventsPerSecond: number
  p50: number
  p99: number
  /** Spans the export queue dropped (tracing on): a share of the cost not paid. */
  droppedSpans?: number
}

export type TracingMode = 'off' | 'on' | 'both'

function summarize(
  name: string,
  count: number,
  firstSend: number,
  lastEffect: number,
  latencies: number[],
): Result {
  latencies.sort((a, b) => a - b)
  const seconds = (lastEffect - firstSend) / 1000
  return {
    name,
    seconds,
    eventsPerSecond: count / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A bench worker thread on a .ts module (workers do not inherit the TypeScript loader). */
function benchWorker(module: string, workerData: unknown): Worker {
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(new URL(module, import.meta.url).href)}) })`
  // The same young-generation size bin/veridis gives every pipeline process.
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits: { maxYoungGenerationSizeMb: 96 } })
}

/** Fails the bench unless the namespace's ledger applied exactly `count` events (each once). */
async function expectLedgerHolds(
  testBus: Awaited<ReturnType<typeof openTestBus>>,
  count: number,
  path: string,
) {
  const { rows } = await testBus.pool.query<{ total: number }>(
    'SELECT COALESCE(SUM(events_total), 0)::int AS total FROM chain_event_stats WHERE topic LIKE $1',
    [`${testBus.namespace}.%`],
  )
  if (rows[0]!.total !== count)
    throw new Error(`bench: ledger holds ${rows[0]!.total} events, expected ${count} (${path})`)
}

type Transport = KafkaConfig['transport']

/** CPU time in ms, besides the producer's, that a path took from its first send to its last effect. */
interface SidesCpu {
  /** This bench process: the consumer and what it runs (decoding, the Postgres client), little else. */
  readonly consumer: number
  /** The local brokers' JVMs; absent when Kafka is not local. */
  readonly kafka?: number
  /** Every process of the local Postgres server; absent when it is not local. */
  readonly postgres?: number
}

/** Starts measuring SidesCpu; the function returned ends the window. */
function cpuWindow(): () => SidesCpu {
  const { runDir } = stackLayout(loadConfig())
  const readers = {
    consumer: ownCpuMs,
    kafka: stackServicesCpu(runDir, 'kafka'),
    postgres: stackServicesCpu(runDir, 'postgres'),
  }
  const start = { consumer: readers.consumer(), kafka: readers.kafka?.(), postgres: readers.postgres?.() }
  return () => ({
    consumer: readers.consumer() - start.consumer,
    ...(readers.kafka ? { kafka: readers.kafka() - start.kafka! } : {}),
    ...(readers.postgres ? { postgres: readers.postgres() - start.postgres! } : {}),
  })
}

/**
 * Runs the producing side in a child process, with the node flags every pipeline process gets
 * (infra/stack/node-flags.ts); resolves `ready` once it is connected and about to send.
 */
function startProducer(job: ProducerJob): { ready: Promise<void>; done: Promise<ProducerOutcome> } {
  const producer = fork(path.join(PROJECT_ROOT, 'bench/pipeline-producer.ts'), [JSON.stringify(job)], {
    execArgv: tsNodeFlags(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  const done = new Promise<ProducerOutcome>((resolve, reject) => {
    producer.on('message', (message: ProducerReport) => {
      if ('ready' in message) markReady()
      else if ('error' in message) reject(new Error(`bench producer: ${message.error}`))
      else resolve(message)
    })
    producer.on('error', reject)
    producer.on('exit', (code: number | null) => reject(new Error(`bench producer exited (${code})`)))
  })
  return { ready, done }
}

/**
 * The pipeline path with `instances` consumers in one group, each in a worker thread, in a
 * namespace of its own: events / (last effect − first send), as for the other paths.
 */
async function scaledPipeline(count: number, instances: number, transport: Transport): Promise<Result> {
  const testBus = await openTestBus(undefined, { VERIDIS_LOG_LEVEL: 'error' })
  const run = testBus.namespace
  const group = `${run}.veridis.ledger-bench`
  const workers: Worker[] = []
  const latencies: number[] = []
  let applied = 0
  let lastEffect = 0
  try {
    const ready = Array.from({ length: instances }, (_, index) => {
      const job: ConsumerJob = { namespace: run, group, instance: index + 1 }
      const worker = benchWorker('./pipeline-consumer.ts', job)
      workers.push(worker)
      return new Promise<void>((resolve, reject) => {
        worker.on('message', (report: ConsumerReport) => {
          if ('ready' in report) resolve()
          else if ('applied' in report) {
            applied += report.applied
            lastEffect = Math.max(lastEffect, report.at)
            latencies.push(...report.latencies)
          } else if ('error' in report) reject(new Error(`bench consumer ${index + 1}: ${report.error}`))
        })
        worker.on('error', reject)
      })
    })
    await Promise.all(ready)
    // Let the group settle: every member joined and was assigned before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    const producer = startProducer({
      namespace: run,
      count,
      sendBatch: SEND_BATCH,
      rawTopic: testBus.bus.topics.proof.name,
      path: 'pipeline',
      transport,
    })
    await producer.ready
    const first = Date.now()
    const sidesCpu = cpuWindow()
    const { produceMs, produceCpuMs } = await producer.done
    await waitFor(() => applied >= count, 300_000, `${instances} pipeline consumers`)
    const cpu = sidesCpu()
    await expectLedgerHolds(testBus, count, `${instances} consumers`)
    const name = `pipeline, ${instances} consumer${instances === 1 ? '' : 's'} (worker threads)`
    return { ...summarize(name, count, first, lastEffect, latencies), produceMs, produceCpuMs, cpu }
  } finally {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 30_000)
            worker.on('message', (report: ConsumerReport) => {
              if ('stopped' in report) {
                clearTimeout(timer)
                void worker.terminate().then(() => resolve())
              }
            })
            worker.on('exit', () => {
              clearTimeout(timer)
              resolve()
            })
            worker.postMessage('stop')
          }),
      ),
    )
    await testBus.close()
  }
}

/**
 * One round of both paths, each in a fresh namespace (topics, groups, ledger rows); with an OTLP
 * endpoint, traced on both sides (the consumer here, the producer in its process).
 */
async function benchRound(count: number, transport: Transport, otlpEndpoint?: string): Promise<Result[]> {
  const testBus = await openTestBus(undefined, {
    VERIDIS_LOG_LEVEL: 'error',
    VERIDIS_OTLP_ENDPOINT: otlpEndpoint ?? '',
  })
  const { bus } = testBus
  const tracing = await startTracing(testBus.common)
  const producer = await testProducer(testBus, 'bench')
  const run = testBus.namespace
  const job = {
    namespace: run,
    count,
    sendBatch: SEND_BATCH,
    rawTopic: bus.topics.proof.name,
    ...(otlpEndpoint ? { otlpEndpoint } : {}),
  }
  try {
    // --- raw kafkajs: the same Avro bytes, no registry, no headers, no database ---------
    const rawLatencies: number[] = []
    let rawSeen = 0
    let rawLast = 0
    const rawConsumer = bus.kafka.consumer({ groupId: `${run}.raw`, maxBytesPerPartition: 4 * 1024 * 1024 })
    await rawConsumer.connect()
    await rawConsumer.subscribe({ topic: job.rawTopic, fromBeginning: true })
    await rawConsumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now()
        for (const message of batch.messages) rawLatencies.push(now - Number(message.timestamp))
        rawSeen += batch.messages.length
        rawLast = now
      },
    })
    await new Promise((resolve) => setTimeout(resolve, 1_000)) // group joined
    const rawProducer = startProducer({ ...job, path: 'raw', transport: 'kafkajs' })
    await rawProducer.ready
    const rawFirst = Date.now()
    const rawCpu = cpuWindow()
    const rawProduced = await rawProducer.done
    await waitFor(() => rawSeen >= count, 300_000, 'raw consumer')
    const rawSidesCpu = rawCpu()
    await rawConsumer.disconnect()
    const raw = {
      ...summarize('raw kafkajs produce → consume', count, rawFirst, rawLast, rawLatencies),
      produceMs: rawProduced.produceMs,
      produceCpuMs: rawProduced.produceCpuMs,
      cpu: rawSidesCpu,
    }

    // --- pipeline: bus producer → Kafka → runner → Postgres ledger ----------------------
    const latencies: number[] = []
    let applied = 0
    let lastEffect = 0
    const group = `${run}.veridis.ledger-bench`
    const ledger = ledgerHandler({ pool: testBus.pool, group })
    const runner = createConsumerRunner(testBus.common, {
      bus,
      producer,
      definition: {
        name: 'ledger-bench',
        groupId: group,
        topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
        handle: async (messages: readonly ConsumedMessage<ChainEventValue>[], context) => {
          await ledger(messages, context)
          const now = Date.now()
          for (const message of messages) latencies.push(now - message.timestamp)
          applied += messages.length
          lastEffect = now
        },
      },
    })
    await runner.start()
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const pipelineProducer = startProducer({ ...job, path: 'pipeline', transport })
    await pipelineProducer.ready
    const first = Date.now()
    const pipelineCpu = cpuWindow()
    const produced = await pipelineProducer.done
    await waitFor(() => applied >= count, 300_000, 'pipeline consumer')
    const pipelineSidesCpu = pipelineCpu()
    await runner.stop()
    await tracing?.stop()
    const pipeline = {
      ...summarize('pipeline → Postgres (exactly once)', count, first, lastEffect, latencies),
      produceMs: produced.produceMs,
      produceCpuMs: produced.produceCpuMs,
      cpu: pipelineSidesCpu,
      ...(tracing ? { droppedSpans: produced.droppedSpans + tracing.droppedSpans() } : {}),
    }

    await expectLedgerHolds(testBus, count, 'one consumer')
    return [raw, pipeline]
  } finally {
    await tracing?.stop()
    await producer.disconnect()
    await testBus.close()
  }
}

interface ModeResult {
  rounds: Result[][]
  raw: Result
  pipeline: Result
  /** Scale-out rows: the pipeline with 1 and with N consumers in worker threads. */
  oneConsumer?: Result
  consumers?: Result
}

/** Each side's median over rounds, for the sides every round measured. */
function medianCpu(results: readonly Result[]): { cpu?: SidesCpu } {
  const sides = results.map((r) => r.cpu)
  if (!sides.every((side) => side !== undefined)) return {}
  const side = (name: keyof SidesCpu) =>
    sides.every((cpu) => cpu[name] !== undefined) ? { [name]: median(sides.map((cpu) => cpu[name]!)) } : {}
  return {
    cpu: { consumer: median(sides.map((cpu) => cpu.consumer)), ...side('kafka'), ...side('postgres') },
  }
}

function medians(all: Result[][]): ModeResult {
  const pick = (index: number): Result => {
    const results = all.map((round) => round[index]!)
    return {
      name: results[0]!.name,
      seconds: median(results.map((r) => r.seconds)),
      eventsPerSecond: median(results.map((r) => r.eventsPerSecond)),
      p50: median(results.map((r) => r.p50)),
      p99: median(results.map((r) => r.p99)),
      produceMs: median(results.map((r) => r.produceMs ?? 0)),
      produceCpuMs: median(results.map((r) => r.produceCpuMs ?? 0)),
      ...medianCpu(results),
      ...(results.some((r) => r.droppedSpans !== undefined)
        ? { droppedSpans: results.reduce((sum, r) => sum + (r.droppedSpans ?? 0), 0) }
        : {}),
    }
  }
  return {
    rounds: all,
    raw: pick(0),
    pipeline: pick(1),
    ...(all[0]!.length > 2 ? { oneConsumer: pick(2), consumers: pick(3) } : {}),
  }
}

/**
 * Several rounds, raw and pipeline back to back in each, reported as medians: on a noisy
 * two-core machine a single run swings by a third either way. With tracing, Jaeger runs on free
 * loopback ports for the whole bench; `both` alternates which mode goes first in a round.
 */
export async function benchPipeline(
  count: number,
  rounds: number,
  tracing: TracingMode = 'off',
  instances = 2,
  transport: Transport = 'kafkajs',
): Promise<{ off?: ModeResult; on?: ModeResult }> {
  const modes: ('off' | 'on')[] = tracing === 'both' ? ['off', 'on'] : [tracing]
  const jaeger = tracing === 'off' ? undefined : await startBenchJaeger()
  const all = { off: [] as Result[][], on: [] as Result[][] }
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? modes : [...modes].reverse()
      for (const mode of order) {
        const results = await benchRound(count, transport, mode === 'on' ? jaeger!.otlpUrl : undefined)
        if (mode === 'off' && instances > 1) {
          // [2] one consumer, [3] N consumers; which goes first alternates by round.
          const scaled = new Map<number, Result>()
          for (const n of round % 2 === 0 ? [1, instances] : [instances, 1]) {
            scaled.set(n, await scaledPipeline(count, n, transport))
          }
          results.push(scaled.get(1)!, scaled.get(instances)!)
        }
        all[mode].push(results)
        process.stderr.write(
          `round ${round + 1}/${rounds}, tracing ${mode}: raw ${results[0]!.eventsPerSecond.toFixed(0)} ev/s, pipeline ${results[1]!.eventsPerSecond.toFixed(0)} ev/s\n`,
        )
      }
    }
    if (jaeger) {
      // The spans did arrive: the collector knows both threads' services.
      const services = (await (await fetch(`${jaeger.queryUrl}/api/services`)).json()) as { data: string[] }
      for (const service of ['bench-producer', 'test']) {
        if (!services.data.includes(service))
          throw new Error(`bench: no span of ${service} reached Jaeger (${services.data.join(', ')})`)
      }
    }
  } finally {
    await jaeger?.stop()
  }
  return {
    ...(all.off.length > 0 ? { off: medians(all.off) } : {}),
    ...(all.on.length > 0 ? { on: medians(all.on) } : {}),
  }
}

async function startBenchJaeger() {
  const binary = jaegerBinaryPath(stackLayout(loadConfig()).cacheDir)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veridis-bench-jaeger-'))
  const ports = new Set<number>()
  while (ports.size < 3) ports.add(await freePort())
  const [otlp, query, grpc] = [...ports] as [number, number, number]
  const jaeger = await startJaeger({ binary, runDir: dir, logDir: dir, ports: { otlp, query, grpc } })
  return {
    ...jaeger,
    stop: async () => {
      const outcome = await jaeger.stop()
      rmSync(dir, { recursive: true, force: true })
      return outcome
    },
  }
}

export function printPipelineBench(
  count: number,
  result: Awaited<ReturnType<typeof benchPipeline>>,
  transport: Transport = 'kafkajs',
) {
  const seconds = (ms: number) => (ms / 1000).toFixed(2)
  const line = (r: Result) =>
    `${r.name.padEnd(40)} ${r.eventsPerSecond.toFixed(0).padStart(8)} ev/s  p50 ${r.p50.toFixed(0).padStart(5)} ms  p99 ${r.p99.toFixed(0).padStart(5)} ms  (producing took ${seconds(r.produceMs ?? 0)} s, its CPU ${seconds(r.produceCpuMs ?? 0)} s)${r.droppedSpans === undefined ? '' : `  dropped spans ${r.droppedSpans}`}${r.cpu ? `\n${cpuLine(r, r.cpu)}` : ''}`
  // Where the path's CPU went, first send to last effect: measured per process, not profiled.
  const cpuLine = (r: Result, cpu: SidesCpu) => {
    const producer = r.produceCpuMs ?? 0
    const total = producer + cpu.consumer + (cpu.kafka ?? 0) + (cpu.postgres ?? 0)
    const parts = [
      `producer ${seconds(producer)}`,
      `consumer ${seconds(cpu.consumer)}`,
      cpu.kafka === undefined ? 'Kafka not local' : `Kafka ${seconds(cpu.kafka)}`,
      cpu.postgres === undefined ? 'Postgres not local' : `Postgres ${seconds(cpu.postgres)}`,
    ]
    return `${''.padEnd(40)} CPU s: ${parts.join(', ')} = ${seconds(total)} in ${r.seconds.toFixed(2)} s (${(total / 1000 / r.seconds).toFixed(2)} of ${availableParallelism()} cores)`
  }
  for (const [mode, modeResult] of Object.entries(result)) {
    const ratios = modeResult.rounds.map((round) => round[1]!.eventsPerSecond / round[0]!.eventsPerSecond)
    process.stdout.write(
      `\nbackbone bench, tracing ${mode}, bus producer on ${transport}: ${count} chain events per path, ${SEND_BATCH} per send, median of ${modeResult.rounds.length} rounds\n`,
    )
    process.stdout.write(`${line(modeResult.raw)}\n${line(modeResult.pipeline)}\n`)
    process.stdout.write(
      `pipeline / raw throughput: median ${(median(ratios) * 100).toFixed(1)} % (rounds: ${ratios.map((r) => `${(r * 100).toFixed(0)} %`).join(', ')})\n`,
    )
  }
  process.stdout.write('targets: pipeline ≥ 20000 ev/s, ≥ 50 % of raw kafkajs\n')
  const off = result.off
  if (off?.oneConsumer && off.consumers) {
    const factors = off.rounds.map((round) => round[3]!.eventsPerSecond / round[2]!.eventsPerSecond)
    process.stdout.write(
      `\nscale-out, tracing off: consumers in one group, each in a worker thread; ${availableParallelism()} CPU cores shared with Kafka, Postgres and the producer\n${line(off.oneConsumer)}\n${line(off.consumers)}\n`,
    )
    process.stdout.write(
      `scaling factor: median ${median(factors).toFixed(2)}× (rounds: ${factors.map((f) => `${f.toFixed(2)}×`).join(', ')})\n`,
    )
  }
  if (result.off && result.on) {
    // Round by round (off and on ran back to back), then the median.
    const throughput = result.on.rounds.map(
      (round, i) => round[1]!.eventsPerSecond / result.off!.rounds[i]![1]!.eventsPerSecond,
    )
    const { pipeline: off } = result.off
    const { pipeline: on } = result.on
    process.stdout.write(
      `tracing overhead: pipeline throughput on / off ${(median(throughput) * 100).toFixed(1)} % (rounds: ${throughput.map((r) => `${(r * 100).toFixed(0)} %`).join(', ')}), p50 ${off.p50.toFixed(0)} → ${on.p50.toFixed(0)} ms, p99 ${off.p99.toFixed(0)} → ${on.p99.toFixed(0)} ms\n`,
    )
  }
}
