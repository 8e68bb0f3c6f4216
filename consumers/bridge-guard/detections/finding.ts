import type { ChainEventEnvelope } from '../../../core/bus/types.ts'
import type { IoVeridisAlert } from '../../../schemas/generated/veridis.alert.v1.ts'

/**
 * What a detection reports: one thing wrong with one event. The guard folds findings of one
 * detection and scope into an incident (../incidents.ts); the subject event's finality later
 * confirms the finding (FINALIZED) or withdraws it (RETRACTED).
 */
export type DetectionId =
  | 'release-without-source'
  | 'lock-without-value'
  | 'signature-forgery'
  | 'quorum-health'
  | 'signer-concentration'
  | 'governance-bypass'
  | 'replay'
  | 'unproven-message'
  | 'source-confirmation'
  | 'flow-limit'
  | 'reserves'
  | 'liveness'
  | 'anomaly'
  | 'unknown-gateway'
  | 'uninterpretable-event'

export type Evidence = IoVeridisAlert.Evidence

export interface Finding {
  readonly detection: DetectionId
  readonly kind: IoVeridisAlert.AlertKind
  readonly severity: IoVeridisAlert.Severity
  /** Findings of one detection and scope within its cooldown are one incident. */
  readonly scope: string
  /** Tells this finding from others of its detection about the same subject (a reason, a signer). */
  readonly key: string
  /** The event whose finality confirms or withdraws this finding. */
  readonly subject: { readonly eventId: string; readonly chain: string }
  readonly summary: string
  readonly evidence: readonly Evidence[]
  readonly details: Readonly<Record<string, string>>
  readonly chains: readonly string[]
}

export const evidenceOf = (envelope: ChainEventEnvelope, role: string): Evidence => ({
  eventId: envelope.eventId,
  chain: envelope.chain,
  txHash: envelope.txHash,
  blockNumber: envelope.blockNumber,
  role,
})

export const subjectOf = (envelope: ChainEventEnvelope) => ({
  eventId: envelope.eventId,
  chain: envelope.chain,
})

export const lower = (address: string) => address.toLowerCase()
