import type {
  Alert,
  AttestationEvent,
  AuditFact,
  BridgeEvent,
  Command,
  NullifierEvent,
  NullifierPropagation,
  ProofResult,
} from '../../schemas/generated/index.ts'
import { unionBranch } from './union.ts'

/**
 * Every topic of the pipeline, declared once: provisioning, schema registration and the
 * typed producer/consumer API all read this table (DESIGN §3). A topic whose key follows
 * from its value declares how (`keyOf`), so no publisher writes the key rule again.
 */
const DAY_MS = 24 * 60 * 60 * 1000

export interface TopicDeclaration {
  readonly name: string
  /** What the key holds; keys decide ordering. */
  readonly key: string
  /** null keeps records forever. */
  readonly retentionMs: number | null
  readonly cleanupPolicy: 'delete' | 'compact'
  /** File under schemas/topics/ holding the value schema. */
  readonly valueSchemaFile: string
  readonly doc: string
  /**
   * Values may hold secrets (a prove command's private inputs): a dead letter then points at
   * the original by topic, partition and offset instead of copying it onto the DLQ.
   */
  readonly carriesSecrets?: boolean
  /** The partitioning key of a value, where the value alone decides it. */
  // biome-ignore lint/suspicious/noExplicitAny: each entry narrows it to its own value type
  readonly keyOf?: (value: any) => string
}

/** Every use of one nullifier, from any chain, on one partition. */
export const nullifierKey = (value: { readonly scope: string; readonly nullifier: string }) =>
  `${value.scope}:${value.nullifier}`

/** An attestation by registry and id; root updates of a registry share one key. */
function attestationKey(event: AttestationEvent): string {
  const change = unionBranch(event.change)?.value
  return change && 'attestationId' in change
    ? `${event.registry}:${change.attestationId}`
    : `${event.registry}:root`
}

export const TOPICS = {
  attestation: {
    name: 'veridis.chain.attestation.v1',
    key: 'registry:attestationId',
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.chain.attestation.v1.avsc',
    doc: 'attestation issued, revoked, root updated',
    keyOf: attestationKey,
  },
  nullifier: {
    name: 'veridis.chain.nullifier.v1',
    key: 'scope:nullifier',
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.chain.nullifier.v1.avsc',
    doc: 'nullifier used on a chain',
    keyOf: (value: NullifierEvent) => nullifierKey(value),
  },
  bridge: {
    name: 'veridis.chain.bridge.v1',
    key: 'messageId',
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.chain.bridge.v1.avsc',
    doc: 'lock/burn, mint/unlock, guardian-set and admin changes',
    // A lock and its release meet on one partition; administrative events by gateway.
    keyOf: (value: BridgeEvent) => value.messageId ?? `gateway:${value.gateway}`,
  },
  command: {
    name: 'veridis.command.v1',
    key: 'idempotency key',
    retentionMs: 7 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.command.v1.avsc',
    doc: 'commands from the gateway and upstream systems',
    carriesSecrets: true,
    keyOf: (value: Command) => value.idempotencyKey,
  },
  proof: {
    name: 'veridis.proof.v1',
    key: 'command id',
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.proof.v1.avsc',
    doc: 'proof generated / verified / rejected',
    keyOf: (value: ProofResult) => value.commandId ?? value.sourceEventId ?? value.resultId,
  },
  propagation: {
    name: 'veridis.nullifier.propagation.v1',
    key: 'scope:nullifier',
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.nullifier.propagation.v1.avsc',
    doc: 'per target chain propagation outcome',
    keyOf: (value: NullifierPropagation) => nullifierKey(value),
  },
  alert: {
    name: 'veridis.alert.v1',
    key: 'alert id',
    retentionMs: 90 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.alert.v1.avsc',
    doc: 'security findings',
    keyOf: (value: Alert) => value.alertId,
  },
  audit: {
    name: 'veridis.audit.v1',
    key: 'subject hash',
    // The audit trail is the compliance record: never expired, never compacted.
    retentionMs: null,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.audit.v1.avsc',
    doc: 'hash-chained compliance audit, replayable',
  },
  auditIntake: {
    name: 'veridis.audit.intake.v1',
    key: 'actor id',
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.audit.intake.v1.avsc',
    doc: 'unchained audit facts from the gateway; the audit consumer chains them into veridis.audit.v1',
    keyOf: (value: AuditFact) => value.actor.id,
  },
  deadLetter: {
    name: 'veridis.dlq.v1',
    key: 'original key',
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    valueSchemaFile: 'veridis.dlq.v1.avsc',
    doc: 'original bytes + error + attempts',
  },
} as const satisfies Record<string, TopicDeclaration>

export type TopicKey = keyof typeof TOPICS

export type TopicSet = { readonly [K in TopicKey]: TopicDeclaration }

/** The declared topics under a namespace prefix (`<namespace>.veridis.…`), or as declared. */
export function namespacedTopics(namespace: string | undefined): TopicSet {
  const entries = Object.entries(TOPICS).map(([key, topic]) => [
    key,
    namespace ? { ...topic, name: `${namespace}.${topic.name}` } : topic,
  ])
  return Object.fromEntries(entries) as TopicSet
}

/** Consumer group id under the same namespace as the topics. */
export function groupId(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}.veridis.${name}` : `veridis.${name}`
}

/** Topic-level configs as Kafka expects them. */
export function topicConfigs(topic: TopicDeclaration, minInsyncReplicas: number): Record<string, string> {
  return {
    'cleanup.policy': topic.cleanupPolicy,
    'retention.ms': String(topic.retentionMs ?? -1),
    // Size-based retention would silently expire the audit trail; time decides, or nothing.
    'retention.bytes': '-1',
    'min.insync.replicas': String(minInsyncReplicas),
  }
}
