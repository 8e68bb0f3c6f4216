/**
 * @confluentinc/kafka-javascript: librdkafka behind a KafkaJS-compatible API, the bus's optional
 * transport for producing (VERIDIS_KAFKA_TRANSPORT=librdkafka; kafkajs stays the default). It
 * is not an npm dependency of the project: infra/stack/native/kafka-javascript.sh builds it
 * offline into the native cache (its prebuilt binary comes from GitHub, refused here), and
 * this finds it there by the same directory computation (cache directory, package version,
 * Node ABI) and loads it by path.
 *
 * The types are the parts the project uses, written here (the package's own index.d.ts lives
 * in the cache, outside the project). Differences from kafkajs that matter (the package's
 * MIGRATION.md): client, producer and consumer settings go under `kafkaJS`; acks are per
 * producer, not per send (a send naming them is refused); `fromBeginning` is per consumer,
 * not per subscribe; eachBatch hands out at most `js.consumer.max.batch.size` messages
 * (default 32). Its addon is not context-aware: one copy per process, in one thread.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import type { KafkaConfig } from '../config/kafka.ts'
import { NonRetryableError } from '../errors.ts'
import type { Logger } from '../logging/logger.ts'
import { PROJECT_ROOT } from '../paths.ts'

const VERSION = '1.10.1'
const BUILD_SCRIPT = 'infra/stack/native/kafka-javascript.sh'

export interface RdKafkaClientConfig {
  brokers: string[]
  clientId?: string
  ssl?: boolean
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  logLevel?: number
  logger?: RdKafkaLogger
}

export interface RdKafkaMessage {
  key?: Buffer | null
  value: Buffer | null
  partition?: number
  headers?: Record<string, string | Buffer | undefined>
}

/** As kafkajs's: one entry per partition a send wrote to. */
export interface RdKafkaRecordMetadata {
  topicName: string
  partition: number
  errorCode: number
  offset?: string
}

export interface RdKafkaProducer {
  connect(): Promise<void>
  send(record: { topic: string; messages: RdKafkaMessage[] }): Promise<RdKafkaRecordMetadata[]>
  sendBatch(batch: {
    topicMessages: { topic: string; messages: RdKafkaMessage[] }[]
  }): Promise<RdKafkaRecordMetadata[]>
  disconnect(): Promise<void>
}

/** The logger interface the KafkaJS-compatible API calls (its `kafkaJS.logger`). */
interface RdKafkaLogger {
  info(message: string, extra?: object): void
  error(message: string, extra?: object): void
  warn(message: string, extra?: object): void
  debug(message: string, extra?: object): void
  namespace(namespace: string, logLevel?: number): RdKafkaLogger
  setLogLevel(logLevel: number): void
}

export interface RdKafkaBatchPayload {
  batch: { topic: string; partition: number; messages: { timestamp: string; offset: string }[] }
}

export interface RdKafkaConsumer {
  connect(): Promise<void>
  subscribe(subscription: { topics: string[] }): Promise<void>
  run(config: { eachBatch: (payload: RdKafkaBatchPayload) => Promise<void> }): Promise<void>
  assignment(): { topic: string; partition: number }[]
  disconnect(): Promise<void>
}

/** Producer, consumer: `kafkaJS` holds the KafkaJS-style settings, the rest is librdkafka's own. */
export interface RdKafkaKafkaJS {
  Kafka: new (config: {
    kafkaJS: RdKafkaClientConfig
  }) => {
    producer(config?: {
      kafkaJS?: {
        acks?: number
        idempotent?: boolean
        allowAutoTopicCreation?: boolean
        maxInFlightRequests?: number
      }
      [librdkafkaProperty: string]: unknown
    }): RdKafkaProducer
    consumer(config: {
      kafkaJS: { groupId: string; fromBeginning?: boolean; maxBytesPerPartition?: number }
      [librdkafkaProperty: string]: unknown
    }): RdKafkaConsumer
  }
  logLevel: { NOTHING: number; ERROR: number; WARN: number; INFO: number; DEBUG: number }
}

export interface RdKafka {
  KafkaJS: RdKafkaKafkaJS
  librdkafkaVersion: string
}

/** The package's directory in the native cache (what kafka-javascript.sh prints, plus node_modules/…). */
function packageDir(): string {
  // `||`, as the script's ${VERIDIS_CACHE:-…}: an empty value means the default.
  const cache = process.env.VERIDIS_CACHE || path.join(os.homedir(), '.cache', 'veridis')
  return path.join(
    cache,
    'native',
    `kafka-javascript-${VERSION}-node-v${process.versions.modules}`,
    'node_modules',
    '@confluentinc',
    'kafka-javascript',
  )
}

/** The cached build, loaded; or why not, naming the script that builds it. */
export function loadRdKafka(): RdKafka | { reason: string } {
  const dir = packageDir()
  const addon = path.join(dir, 'build', 'Release', 'confluent-kafka-javascript.node')
  if (!existsSync(addon))
    return {
      reason: `@confluentinc/kafka-javascript ${VERSION} is not built for Node ABI ${process.versions.modules} (no ${addon}); build it once with ${BUILD_SCRIPT} (about 5 minutes)`,
    }
  try {
    const loaded = createRequire(import.meta.url)(dir) as Partial<RdKafka>
    if (!loaded.KafkaJS || typeof loaded.librdkafkaVersion !== 'string')
      return { reason: `${dir} loaded without KafkaJS or librdkafkaVersion; rebuild it with ${BUILD_SCRIPT}` }
    return { KafkaJS: loaded.KafkaJS, librdkafkaVersion: loaded.librdkafkaVersion }
  } catch (error) {
    return {
      reason: `loading ${dir} failed (${error instanceof Error ? error.message : String(error)}); rebuild it with ${BUILD_SCRIPT}`,
    }
  }
}

/** The cached build, loaded, or a configuration error that says how to build it. */
export function requireRdKafka(): RdKafka {
  const loaded = loadRdKafka()
  if ('reason' in loaded) throw new NonRetryableError(`VERIDIS_KAFKA_TRANSPORT=librdkafka: ${loaded.reason}`)
  return loaded
}

/**
 * The client's own log lines through the structured logger, at `level` (the API's numbering:
 * 1 error … 4 debug) and more severe; the API's default logger writes plain text to the console.
 */
function structuredLogger(logger: Logger, level: number): RdKafkaLogger {
  let threshold = level
  const at =
    (severity: number, method: 'error' | 'warn' | 'info' | 'debug') => (message: string, extra?: object) => {
      if (severity <= threshold) logger[method]({ ...extra }, message)
    }
  const adapter: RdKafkaLogger = {
    error: at(1, 'error'),
    warn: at(2, 'warn'),
    info: at(3, 'info'),
    debug: at(4, 'debug'),
    namespace: () => adapter,
    setLogLevel: (next) => {
      threshold = Math.min(next, level)
    },
  }
  return adapter
}

/**
 * A client on the brokers, TLS and SASL the kafkajs client gets from the same configuration,
 * logging warnings and errors through `logger`.
 */
export function createRdKafkaClient(
  rdkafka: RdKafka,
  options: { config: KafkaConfig; clientId: string; logger: Logger },
) {
  const { config } = options
  const logLevel = rdkafka.KafkaJS.logLevel.WARN
  return new rdkafka.KafkaJS.Kafka({
    kafkaJS: {
      brokers: [...config.brokers],
      clientId: config.clientId ?? options.clientId,
      logLevel,
      logger: structuredLogger(options.logger.child({ component: 'librdkafka' }), logLevel),
      ...(config.ssl ? { ssl: true } : {}),
      ...(config.sasl ? { sasl: { ...config.sasl } } : {}),
    },
  })
}

/**
 * Builds the package into the native cache (about 5 minutes the first time on two cores, a
 * lookup afterwards) and returns its directory. For the test run's setup and operators; a
 * process starting never builds.
 */
export function buildRdKafka(): string {
  return execFileSync('bash', [path.join(PROJECT_ROOT, BUILD_SCRIPT)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim()
}
