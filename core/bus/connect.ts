import type { Kafka } from 'kafkajs'
import type { Common } from '../context.ts'
import { type AvroCodec, createAvroCodec } from './codec.ts'
import { createKafka } from './kafka.ts'
import { namespacedTopics, type TopicDeclaration, type TopicSet } from './topics.ts'

export interface Bus {
  readonly kafka: Kafka
  readonly codec: AvroCodec
  /** Declared topics under the configured namespace. */
  readonly topics: TopicSet
  readonly allTopics: readonly TopicDeclaration[]
}

/** The Kafka client and Avro codec for the declared topics under the configured namespace. */
export function connectBus(common: Common): Bus {
  const topics = namespacedTopics(common.config.namespace)
  const allTopics = Object.values(topics)
  return {
    kafka: createKafka({
      config: common.config.kafka,
      clientId: `veridis-${common.service}`,
      logger: common.logger,
    }),
    codec: createAvroCodec({ registryConfig: common.config.schemaRegistry, topics: allTopics }),
    topics,
    allTopics,
  }
}
