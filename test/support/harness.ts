import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer } from 'node:net'
import { keySubject, valueSubject } from '../../core/bus/codec.ts'
import { type Bus, connectBus } from '../../core/bus/connect.ts'
import { type ConsumedMessage, createConsumerRunner } from '../../core/bus/consumer.ts'
import { type BusProducer, createBusProducer } from '../../core/bus/producer.ts'
import { createSchemaRegistryClient } from '../../core/bus/schema-registry.ts'
import { prepareBus } from '../../core/bus/setup.ts'
import { loadConfig } from '../../core/config/env.ts'
import { type Common, createCommon } from '../../core/context.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'

/**
 * Each test file works in a namespace of its own (random topic names, group ids and
 * schema subjects) on the one real local stack, so files never see each other's data.
 */
export function randomNamespace(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`
}

export function testEnv(namespace: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VERIDIS_NAMESPACE: namespace,
    VERIDIS_LOG_LEVEL: process.env.VERIDIS_LOG_LEVEL ?? 'warn',
    // Small backoffs keep retry tests quick; production defaults are larger.
    VERIDIS_CONSUMER_BACKOFF_MS: '20',
    VERIDIS_CONSUMER_BACKOFF_MAX_MS: '200',
  }
}

export interface TestBus {
  readonly common: Common
  readonly bus: Bus
  readonly pool: Pool
  readonly namespace: string
  close(): Promise<void>
}

/** A prepared namespace: topics provisioned and schemas registered. */
export async function openTestBus(
  namespace = randomNamespace(),
  overrides: NodeJS.ProcessEnv = {},
): Promise<TestBus> {
  const config = loadConfig({ ...testEnv(namespace), ...overrides })
  const common = createCommon('test', { config, exit: () => undefined })
  const bus = connectBus(common)
  await prepareBus(common, bus)
  const pool = createPool(config.database, common.logger, 'veridis-test')
  return {
    common,
    bus,
    pool,
    namespace,
    async close() {
      // Leave the shared tables as they were: rows of this namespace's topics and groups go.
      await pool.query('DELETE FROM chain_events WHERE topic LIKE $1', [`${namespace}.%`])
      await pool.query('DELETE FROM chain_event_stats WHERE topic LIKE $1', [`${namespace}.%`])
      await pool.query('DELETE FROM bus_processed_messages WHERE consumer_group LIKE $1', [`${namespace}.%`])
      await pool.end()
      const admin = bus.kafka.admin()
      await admin.connect()
      await admin.deleteTopics({ topics: bus.allTopics.map((topic) => topic.name) }).catch(() => undefined)
      await admin.disconnect()
      // Leave the registry as it was.
      const registry = createSchemaRegistryClient(config.schemaRegistry)
      for (const topic of bus.allTopics) {
        for (const subject of [keySubject(topic.name), valueSubject(topic.name)]) {
          await registry.deleteSubject(subject).catch(() => undefined)
        }
      }
    },
  }
}

export async function testProducer(testBus: TestBus, name = 'test-producer') {
  const producer = createBusProducer(testBus.common, {
    kafka: testBus.bus.kafka,
    codec: testBus.bus.codec,
    producerName: name,
    topics: testBus.bus.allTopics.map((topic) => topic.name),
  })
  await producer.connect()
  return producer
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
/**
 * The longest a test waits for a child process (listener, consumer) to report ready. A cap, not
 * an expectation: on the shared 2-core host, under a full CI run beside node builds, a start
 * has taken over two minutes; one constant so no file fails for having guessed lower.
 */
export const PROCESS_READY_MS = 180_000

/** Waits until a child process's readiness check answers true, or throws after PROCESS_READY_MS. */
export async function untilReady(child: { ready(): Promise<boolean> }, what: string): Promise<void> {
  await eventually(async () => ((await child.ready()) ? true : undefined), PROCESS_READY_MS, `${what} ready`)
}

export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
}

/**
 * Reads a topic from the beginning with a real consumer runner (its own group), handing
 * every decoded message to `onMessage`. Returns the stop function.
 */
export async function collectTopic<T>(
  testBus: TestBus,
  producer: BusProducer,
  options: { topic: string; name: string; onMessage: (message: ConsumedMessage<T>) => void },
): Promise<() => Promise<void>> {
  const runner = createConsumerRunner(testBus.common, {
    bus: testBus.bus,
    producer,
    definition: {
      name: options.name,
      topics: [options.topic],
      handle: async (messages: readonly ConsumedMessage<T>[]) => {
        for (const message of messages) options.onMessage(message)
      },
    },
  })
  await runner.start()
  return () => runner.stop()
}

/** A port nothing listens on now (the kernel picks it; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Everything a child process writes to stdout and stderr, interleaved as it arrives. */
export function collectOutput(child: ChildProcess): () => string {
  let output = ''
  const append = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  return () => output
}
