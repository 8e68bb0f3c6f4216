import { type Bus, connectBus } from '../bus/connect.ts'
import { type ConsumerDefinition, createConsumerRunner } from '../bus/consumer.ts'
import { type BusProducer, createBusProducer } from '../bus/producer.ts'
import { createTopicPublisher, type TopicPublisher } from '../bus/topic-publisher.ts'
import { groupId } from '../bus/topics.ts'
import type { Common } from '../context.ts'
import { pruneProcessedMessages } from '../db/exactly-once.ts'
import { createPool, type Pool } from '../db/pool.ts'
import { describeError } from '../errors.ts'
import { startOpsServer } from '../ops/server.ts'
import { waitFor } from './wait.ts'

const PRUNE_INTERVAL_MS = 60 * 60 * 1000

export interface ConsumerDependencies {
  readonly common: Common
  readonly bus: Bus
  readonly pool: Pool
  readonly producer: BusProducer
  /** The same producer, addressed by topic declaration: typed values, declared keys. */
  readonly publisher: TopicPublisher
  /** The consumer group id this process joins. */
  readonly group: string
}

/**
 * A stateless consumer, as a module the runtime plugs in: a name and a factory for its
 * definition. Everything it needs arrives through the dependencies; nothing that matters
 * lives in its memory.
 */
export interface ConsumerModule<T = unknown> {
  readonly name: string
  readonly description: string
  /** Topics the consumer writes to besides the dead-letter topic, by declaration key. */
  readonly produces?: readonly (keyof Bus['topics'])[]
  create(dependencies: ConsumerDependencies): ConsumerDefinition<T>
}

/**
 * Runs one consumer module as a process: bus, database pool, producer (for its outputs
 * and dead letters), ops endpoints, and an ordered shutdown on SIGTERM/SIGINT.
 */
export async function runConsumerProcess<T>(
  common: Common,
  module: ConsumerModule<T>,
  options: { opsPort: number },
) {
  const { logger } = common
  const bus = connectBus(common)
  const pool = createPool(common.config.database, logger, `veridis-${module.name}`)
  common.shutdown.onShutdown('database pool', () => pool.end())
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: module.name,
    topics: [bus.topics.deadLetter.name, ...(module.produces ?? []).map((key) => bus.topics[key].name)],
  })
  const group = groupId(common.config.namespace, module.name)
  const publisher = createTopicPublisher(producer, bus.topics)
  const definition = module.create({ common, bus, pool, producer, publisher, group })
  const runner = createConsumerRunner(common, {
    bus,
    producer,
    definition: { ...definition, groupId: group },
  })

  await startOpsServer(common, {
    port: options.opsPort,
    checks: [{ name: 'consumer', check: () => runner.isReady() }],
  })

  // Dependencies may still be starting (a supervisor starts everything at once): wait for
  // them rather than crash-looping, and say what is being waited for.
  await waitFor('database', () => pool.query('SELECT 1'), { logger, signal: common.shutdown.signal })
  await waitFor('schema registry and Kafka', () => producer.connect(), {
    logger,
    signal: common.shutdown.signal,
  })
  common.shutdown.onShutdown('producer', () => producer.disconnect())
  common.shutdown.onShutdown('consumer', () => runner.stop())
  await runner.start()

  const prune = async () => {
    try {
      const removed = await pruneProcessedMessages(pool, group, common.config.consumer.dedupeRetentionDays)
      if (removed > 0) logger.info({ removed }, 'pruned exactly-once bookkeeping')
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'pruning exactly-once bookkeeping failed; will retry')
    }
  }
  const pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS)
  pruneTimer.unref()
  common.shutdown.onShutdown('prune timer', () => clearInterval(pruneTimer))
  return { runner, producer, pool, bus }
}
