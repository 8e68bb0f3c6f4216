import { NonRetryableError } from '../errors.ts'
import type { BusProducer, OutgoingRecord } from './producer.ts'
import { TOPICS, type TopicKey, type TopicSet } from './topics.ts'
import type { TopicValue } from './types.ts'

/**
 * Publishing by topic declaration rather than by name: the value type is the topic's Avro
 * type, and the key comes from the topic's own `keyOf` unless a record names one (topics
 * without `keyOf` must). The namespaced name is looked up once, here.
 */
type DeclaresKey<K extends TopicKey> = (typeof TOPICS)[K] extends { keyOf: unknown } ? true : false

export type TopicRecord<K extends TopicKey> = Omit<OutgoingRecord<TopicValue<K>>, 'key'> &
  (DeclaresKey<K> extends true ? { readonly key?: string } : { readonly key: string })

export type TopicBatch = {
  [K in TopicKey]: { readonly topic: K; readonly records: readonly TopicRecord<K>[] }
}[TopicKey]

function keyed<K extends TopicKey>(topic: K, record: TopicRecord<K>): OutgoingRecord<TopicValue<K>> {
  if (record.key !== undefined) return record as OutgoingRecord<TopicValue<K>>
  const keyOf = (TOPICS[topic] as { keyOf?: (value: TopicValue<K>) => string }).keyOf
  if (!keyOf) throw new NonRetryableError(`a record for ${topic} needs a key: the topic declares no keyOf`)
  return { ...record, key: keyOf(record.value) }
}

export function createTopicPublisher(producer: BusProducer, topics: TopicSet) {
  return {
    /** Resolves when every record is acknowledged by all in-sync replicas. */
    publish<K extends TopicKey>(topic: K, records: readonly TopicRecord<K>[]): Promise<void> {
      return producer.publish(
        topics[topic].name,
        records.map((record) => keyed(topic, record)),
      )
    },

    /** Several topics in as few requests as the broker allows. */
    publishMany(batches: readonly TopicBatch[]): Promise<void> {
      return producer.publishMany(
        batches.map((batch) => ({
          topic: topics[batch.topic].name,
          records: (batch.records as readonly TopicRecord<TopicKey>[]).map((record) =>
            keyed(batch.topic, record),
          ),
        })),
      )
    },
  }
}

export type TopicPublisher = ReturnType<typeof createTopicPublisher>
