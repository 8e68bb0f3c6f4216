import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { TopicSet } from '../../core/bus/topics.ts'
import type { Alert, AuditEvent, Command, NullifierPropagation, ProofResult } from '../../core/bus/types.ts'
import { unionBranch } from '../../core/bus/union.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import type { PoolClient } from '../../core/db/pool.ts'
import { NonRetryableError } from '../../core/errors.ts'

export type ProjectedValue = Command | ProofResult | NullifierPropagation | Alert | AuditEvent

/** A message's position is its identity for the exactly-once guard: redeliveries repeat it. */
export const projectorMessageId = (message: ConsumedMessage<unknown>) =>
  `${message.topic}:${message.partition}:${message.offset}`

/** The command's record name and the part of its payload that is safe to keep and show. */
export function summarizeCommand(command: Command): { type: string; summary: Record<string, unknown> } {
  const branch = unionBranch(command.payload)
  if (!branch) throw new NonRetryableError(`command ${command.commandId} has no payload`)
  const { type } = branch
  const payload = branch.value as unknown as Record<string, unknown>
  // Never kept: proof inputs (private witnesses), data-subject ids, free-text reasons.
  switch (type) {
    case 'ProveCommand':
      return {
        type,
        summary: { circuit: payload.circuit, inputSignals: Object.keys(payload.inputs as object).sort() },
      }
    case 'VerifyCommand':
      return {
        type,
        summary: {
          circuit: payload.circuit,
          publicSignals: payload.publicSignals,
          expectedChain: payload.expectedChain,
        },
      }
    case 'RegisterAttestationCommand':
      return {
        type,
        summary: {
          chain: payload.chain,
          registry: payload.registry,
          attestationId: payload.attestationId,
          root: payload.root,
          hasSubject: payload.subjectId !== null,
        },
      }
    case 'PropagateNullifierCommand':
      return {
        type,
        summary: {
          scope: payload.scope,
          nullifier: payload.nullifier,
          sourceChain: payload.sourceChain,
          targetChains: payload.targetChains,
        },
      }
    case 'RequestErasureCommand':
      return { type, summary: {} }
    case 'AnalyzeBridgeCommand':
      return { type, summary: { chain: payload.chain, messageId: payload.messageId } }
    case 'AnalyzeTransactionCommand':
      return { type, summary: { chain: payload.chain, txHash: payload.txHash } }
    default:
      throw new NonRetryableError(`unknown command type ${type}`)
  }
}

const COMMAND_ROWS = jsonRows({
  command_id: 'text',
  idempotency_key: 'text',
  command_type: 'text',
  actor_kind: 'text',
  actor_id: 'text',
  summary: 'jsonb',
  issued_ms: 'float8',
  source_topic: 'text',
  kafka_partition: 'integer',
  kafka_offset: 'text',
})

const PROOF_RESULT_ROWS = jsonRows({
  result_id: 'text',
  command_id: 'text',
  source_event_id: 'text',
  circuit: 'text',
  status: 'text',
  public_signals: 'jsonb',
  reason: 'text',
  duration_ms: 'float8',
  produced_ms: 'float8',
  source_topic: 'text',
})

const PROPAGATION_ROWS = jsonRows({
  source_event_id: 'text',
  target_chain: 'text',
  scope: 'text',
  nullifier: 'text',
  source_chain: 'text',
  outcome: 'text',
  tx_hash: 'text',
  reason: 'text',
  latency_ms: 'float8',
  at_ms: 'float8',
  source_topic: 'text',
})

const ALERT_ROWS = jsonRows({
  alert_id: 'text',
  kind: 'text',
  severity: 'text',
  chain: 'text',
  summary: 'text',
  evidence: 'jsonb',
  details: 'jsonb',
  detected_ms: 'float8',
  source_topic: 'text',
})

const AUDIT_REFERENCE_ROWS = jsonRows({
  audit_id: 'text',
  chain_id: 'text',
  sequence: 'bigint',
  action: 'text',
  actor_kind: 'text',
  actor_id: 'text',
  refs: 'jsonb',
  occurred_ms: 'float8',
  source_topic: 'text',
})

/**
 * Applies a chunk from any of the projected topics: one statement per table touched.
 * Facts are stored as they come and joined when read, so the order in which topics are
 * consumed (a proof result before its command) does not matter.
 */
export async function projectMessages(
  topics: TopicSet,
  messages: readonly ConsumedMessage<ProjectedValue>[],
  client: PoolClient,
) {
  const of = <T>(name: string) =>
    messages.filter((message) => message.topic === name) as unknown as ConsumedMessage<T>[]

  const commands = of<Command>(topics.command.name)
  if (commands.length > 0) {
    const rows = commands.map((message) => {
      const command = message.value
      const { type, summary } = summarizeCommand(command)
      return {
        command_id: command.commandId,
        idempotency_key: command.idempotencyKey,
        command_type: type,
        actor_kind: command.actor.kind,
        actor_id: command.actor.id,
        summary,
        issued_ms: command.issuedAt,
        source_topic: message.topic,
        kafka_partition: message.partition,
        kafka_offset: message.offset,
      }
    })
    // The first record of a command id wins: a republished command (same id) is the same command.
    await client.query(
      `INSERT INTO read_commands (command_id, idempotency_key, command_type, actor_kind, actor_id, summary,
         issued_at, source_topic, kafka_partition, kafka_offset)
       SELECT r.command_id, r.idempotency_key, r.command_type, r.actor_kind, r.actor_id, r.summary,
         to_timestamp(r.issued_ms / 1000.0), r.source_topic, r.kafka_partition, r.kafka_offset
       FROM ${COMMAND_ROWS.from('$1')} AS r
       ON CONFLICT (command_id) DO NOTHING`,
      [COMMAND_ROWS.param(rows)],
    )
  }

  const proofs = of<ProofResult>(topics.proof.name)
  if (proofs.length > 0) {
    const rows = proofs.map(({ value, topic }) => ({
      result_id: value.resultId,
      command_id: value.commandId,
      source_event_id: value.sourceEventId,
      circuit: value.circuit,
      status: value.status,
      public_signals: value.publicSignals,
      reason: value.reason,
      duration_ms: value.durationMs,
      produced_ms: value.producedAt,
      source_topic: topic,
    }))
    await client.query(
      `INSERT INTO read_proof_results (result_id, command_id, source_event_id, circuit, status, public_signals,
         reason, duration_ms, produced_at, source_topic)
       SELECT r.result_id, r.command_id, r.source_event_id, r.circuit, r.status, r.public_signals, r.reason,
         r.duration_ms, to_timestamp(r.produced_ms / 1000.0), r.source_topic
       FROM ${PROOF_RESULT_ROWS.from('$1')} AS r
       ON CONFLICT (result_id) DO NOTHING`,
      [PROOF_RESULT_ROWS.param(rows)],
    )
  }

  const propagations = of<NullifierPropagation>(topics.propagation.name)
  if (propagations.length > 0) {
    // One INSERT cannot update a row twice: keep the latest report per target in the chunk.
    const latest = new Map<string, { value: NullifierPropagation; topic: string }>()
    for (const { value, topic } of propagations) {
      const key = `${value.sourceEventId}\u0000${value.targetChain}`
      const seen = latest.get(key)
      if (!seen || value.at >= seen.value.at) latest.set(key, { value, topic })
    }
    const rows = [...latest.values()].map(({ value, topic }) => ({
      source_event_id: value.sourceEventId,
      target_chain: value.targetChain,
      scope: value.scope,
      nullifier: value.nullifier,
      source_chain: value.sourceChain,
      outcome: value.outcome,
      tx_hash: value.txHash,
      reason: value.reason,
      latency_ms: value.latencyMs,
      at_ms: value.at,
      source_topic: topic,
    }))
    await client.query(
      `INSERT INTO read_nullifier_propagations AS current (source_event_id, target_chain, scope, nullifier,
         source_chain, outcome, tx_hash, reason, latency_ms, at, source_topic)
       SELECT r.source_event_id, r.target_chain, r.scope, r.nullifier, r.source_chain, r.outcome, r.tx_hash,
         r.reason, r.latency_ms, to_timestamp(r.at_ms / 1000.0), r.source_topic
       FROM ${PROPAGATION_ROWS.from('$1')} AS r
       ORDER BY r.source_event_id, r.target_chain
       ON CONFLICT (source_event_id, target_chain) DO UPDATE SET
         outcome = EXCLUDED.outcome, tx_hash = EXCLUDED.tx_hash, reason = EXCLUDED.reason,
         latency_ms = EXCLUDED.latency_ms, at = EXCLUDED.at
       WHERE EXCLUDED.at >= current.at`,
      [PROPAGATION_ROWS.param(rows)],
    )
  }

  const alerts = of<Alert>(topics.alert.name)
  if (alerts.length > 0) {
    const rows = alerts.map(({ value, topic }) => ({
      alert_id: value.alertId,
      kind: value.kind,
      severity: value.severity,
      chain: value.chain,
      summary: value.summary,
      evidence: value.evidence,
      details: value.details,
      detected_ms: value.detectedAt,
      source_topic: topic,
    }))
    await client.query(
      `INSERT INTO read_alerts (alert_id, kind, severity, chain, summary, evidence, details, detected_at,
         source_topic)
       SELECT r.alert_id, r.kind, r.severity, r.chain, r.summary, r.evidence, r.details,
         to_timestamp(r.detected_ms / 1000.0), r.source_topic
       FROM ${ALERT_ROWS.from('$1')} AS r
       ON CONFLICT (alert_id) DO NOTHING`,
      [ALERT_ROWS.param(rows)],
    )
  }

  const audits = of<AuditEvent>(topics.audit.name)
  if (audits.length > 0) {
    const rows = audits.map(({ value, topic }) => ({
      audit_id: value.auditId,
      chain_id: value.chainId,
      sequence: value.sequence,
      action: value.action,
      actor_kind: value.actor.kind,
      actor_id: value.actor.id,
      refs: value.references,
      occurred_ms: value.occurredAt,
      source_topic: topic,
    }))
    await client.query(
      `INSERT INTO read_audit_references (audit_id, chain_id, sequence, action, actor_kind, actor_id, refs,
         occurred_at, source_topic)
       SELECT r.audit_id, r.chain_id, r.sequence, r.action, r.actor_kind, r.actor_id,
         ARRAY(SELECT jsonb_array_elements_text(r.refs)), to_timestamp(r.occurred_ms / 1000.0), r.source_topic
       FROM ${AUDIT_REFERENCE_ROWS.from('$1')} AS r
       ON CONFLICT (audit_id) DO NOTHING`,
      [AUDIT_REFERENCE_ROWS.param(rows)],
    )
  }
}
