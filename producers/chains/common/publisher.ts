import type { Bus } from '../../../core/bus/connect.ts'
import type { BusProducer } from '../../../core/bus/producer.ts'
import { createTopicPublisher, type TopicBatch } from '../../../core/bus/topic-publisher.ts'
import type { AttestationEvent, BridgeEvent, NullifierEvent } from '../../../core/bus/types.ts'

/**
 * The seam every chain listener publishes through: normalised chain events become records
 * on their topic, keyed by the topic's declared rule (DESIGN §2): an attestation by registry
 * and attestation id, a nullifier by scope and nullifier (so every use of one nullifier, from
 * any chain, lands on one partition), a bridge transfer by message id so a lock and its
 * release meet.
 */
export type ChainEvent =
  | { readonly topic: 'attestation'; readonly value: AttestationEvent }
  | { readonly topic: 'nullifier'; readonly value: NullifierEvent }
  | { readonly topic: 'bridge'; readonly value: BridgeEvent }

export function createChainEventPublisher(options: { bus: Bus; producer: BusProducer }) {
  const publisher = createTopicPublisher(options.producer, options.bus.topics)
  return {
    /** Publishes in one request per broker; resolves when every record is acknowledged. */
    async publish(events: readonly ChainEvent[]): Promise<void> {
      const batches = {
        attestation: { topic: 'attestation', records: [] },
        nullifier: { topic: 'nullifier', records: [] },
        bridge: { topic: 'bridge', records: [] },
      } as { [T in ChainEvent['topic']]: { topic: T; records: { value: unknown; eventId: string }[] } }
      for (const event of events) {
        batches[event.topic].records.push({ value: event.value, eventId: event.value.envelope.eventId })
      }
      await publisher.publishMany(Object.values(batches) as TopicBatch[])
    },
  }
}
