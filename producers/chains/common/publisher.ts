import type { Bus } from '../../../core/bus/connect.ts'
import type { BusProducer, OutgoingRecord } from '../../../core/bus/producer.ts'
import type { AttestationEvent, BridgeEvent, NullifierEvent } from '../../../core/bus/types.ts'

/**
 * The seam every chain listener publishes through: it turns normalised chain events into
 * records on the right topic with the key that keeps related facts ordered (DESIGN §2):
 * an attestation by registry and attestation id, a nullifier by scope and nullifier (so
 * every use of one nullifier, from any chain, lands on one partition), a bridge transfer
 * by message id so a lock and its release meet.
 */
export type ChainEvent =
  | { readonly topic: 'attestation'; readonly value: AttestationEvent }
  | { readonly topic: 'nullifier'; readonly value: NullifierEvent }
  | { readonly topic: 'bridge'; readonly value: BridgeEvent }

export function attestationKey(event: AttestationEvent): string {
  const change = Object.values(event.change)[0] as { attestationId?: string } | undefined
  return change?.attestationId === undefined
    ? `${event.registry}:root`
    : `${event.registry}:${change.attestationId}`
}

export const nullifierKey = (event: NullifierEvent) => `${event.scope}:${event.nullifier}`

export const bridgeKey = (event: BridgeEvent) => event.messageId ?? `gateway:${event.gateway}`

export function toRecord(event: ChainEvent): OutgoingRecord {
  const key =
    event.topic === 'attestation'
      ? attestationKey(event.value)
      : event.topic === 'nullifier'
        ? nullifierKey(event.value)
        : bridgeKey(event.value)
  return { key, value: event.value, eventId: event.value.envelope.eventId }
}

export function createChainEventPublisher(options: { bus: Bus; producer: BusProducer }) {
  const { topics } = options.bus
  return {
    /** Publishes in one request per broker; resolves when every record is acknowledged. */
    async publish(events: readonly ChainEvent[]): Promise<void> {
      const byTopic = new Map<string, OutgoingRecord[]>()
      for (const event of events) {
        const topic = topics[event.topic].name
        const records = byTopic.get(topic) ?? []
        records.push(toRecord(event))
        byTopic.set(topic, records)
      }
      await options.producer.publishMany([...byTopic].map(([topic, records]) => ({ topic, records })))
    },
  }
}
