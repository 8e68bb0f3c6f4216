import { chainEventKind } from '../../../core/bus/chain-event-kind.ts'
import type { Finality } from '../../../core/bus/types.ts'
import type { ChainEvent } from './publisher.ts'

/** The same fact at another finality; the event id stays, so downstream sees one fact move. */
export function withFinality(event: ChainEvent, finality: Finality, observedAt: number): ChainEvent {
  const envelope = { ...event.value.envelope, finality, observedAt }
  return { ...event, value: { ...event.value, envelope } } as ChainEvent
}

/** The fact's kind for metrics: `AttestationIssued`, `NullifierRelayed`, `BridgeLocked`, ... */
export const chainEventType = (event: ChainEvent) => chainEventKind(event)
