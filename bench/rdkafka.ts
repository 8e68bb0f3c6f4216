/**
 * @confluentinc/kafka-javascript (librdkafka behind a KafkaJS-compatible API) for the transport
 * bench. It is not a project dependency: infra/stack/native/kafka-javascript.sh builds it
 * offline into the native cache, and this finds it there by the same directory computation
 * (cache directory, package version, Node ABI) and loads it by path.
 *
 * The types are the few parts the bench uses, written here (the package's own index.d.ts lives
 * in the cache, outside the project). Differences from kafkajs that matter to the bench
 * (the package's MIGRATION.md): client, producer and consumer settings go under `kafkaJS`;
 * acks are per producer, not per send; `fromBeginning` is per consumer, not per subscribe;
 * eachBatch hands out at most `js.consumer.max.batch.size` messages (default 32).
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'

const VERSION = '1.10.1'
const BUILD_SCRIPT = 'infra/stack/native/kafka-javascript.sh'

export interface RdKafkaClientConfig {
  brokers: string[]
  clientId?: string
  ssl?: boolean
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  logLevel?: number
}

export interface RdKafkaProducer {
  connect(): Promise<void>
  send(record: { topic: string; messages: { key?: Buffer | null; value: Buffer | null }[] }): Promise<unknown>
  disconnect(): Promise<void>
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
      kafkaJS?: { acks?: number; idempotent?: boolean }
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
