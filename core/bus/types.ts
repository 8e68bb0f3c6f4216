import type {
  Alert,
  AttestationEvent,
  AuditEvent,
  AuditFact,
  BridgeEvent,
  Command,
  DeadLetter,
  NullifierEvent,
  NullifierPropagation,
  ProofResult,
} from '../../schemas/generated/index.ts'
import type { TopicKey } from './topics.ts'

/** The value type carried by each declared topic, from the generated Avro types. */
export interface TopicValues {
  attestation: AttestationEvent
  nullifier: NullifierEvent
  bridge: BridgeEvent
  command: Command
  proof: ProofResult
  propagation: NullifierPropagation
  alert: Alert
  audit: AuditEvent
  auditIntake: AuditFact
  deadLetter: DeadLetter
}

export type TopicValue<K extends TopicKey> = TopicValues[K]
export type ChainEventEnvelope = AttestationEvent['envelope']
export type Finality = ChainEventEnvelope['finality']
export type {
  Alert,
  AttestationEvent,
  AuditEvent,
  AuditFact,
  BridgeEvent,
  Command,
  DeadLetter,
  NullifierEvent,
  NullifierPropagation,
  ProofResult,
}
