import type { AuditEvent } from '../../core/bus/types.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import type { PoolClient } from '../../core/db/pool.ts'

const AUDIT_RECORD_ROWS = jsonRows({
  kafka_partition: 'integer',
  kafka_offset: 'bigint',
  audit_id: 'text',
  chain_id: 'text',
  sequence: 'bigint',
  prev_hash: 'text',
  record_hash: 'text',
  action: 'text',
  actor_kind: 'text',
  actor_id: 'text',
  subject_hash: 'text',
  gdpr_category: 'text',
  legal_basis: 'text',
  retention_days: 'integer',
  refs: 'jsonb',
  details: 'jsonb',
  occurred_ms: 'float8',
})

/** Writes records, with where they sit on the topic, into the audit projection. */
export async function projectRecords(
  client: PoolClient,
  scope: string,
  records: readonly { partition: number; offset: string; record: AuditEvent }[],
) {
  if (records.length === 0) return
  const rows = records.map(({ partition, offset, record }) => ({
    kafka_partition: partition,
    kafka_offset: offset,
    audit_id: record.auditId,
    chain_id: record.chainId,
    sequence: record.sequence,
    prev_hash: record.prevHash,
    record_hash: record.recordHash,
    action: record.action,
    actor_kind: record.actor.kind,
    actor_id: record.actor.id,
    subject_hash: record.subjectHash,
    gdpr_category: record.gdprCategory,
    legal_basis: record.legalBasis,
    retention_days: record.retentionDays,
    refs: record.references,
    details: record.details,
    occurred_ms: record.occurredAt,
  }))
  await client.query(
    `INSERT INTO audit_records (scope, kafka_partition, kafka_offset, audit_id, chain_id, sequence, prev_hash,
       record_hash, action, actor_kind, actor_id, subject_hash, gdpr_category, legal_basis, retention_days, refs,
       details, occurred_at)
     SELECT $1, r.kafka_partition, r.kafka_offset, r.audit_id, r.chain_id, r.sequence, r.prev_hash, r.record_hash,
       r.action, r.actor_kind, r.actor_id, r.subject_hash, r.gdpr_category, r.legal_basis, r.retention_days,
       ARRAY(SELECT jsonb_array_elements_text(r.refs)), r.details, to_timestamp(r.occurred_ms / 1000.0)
     FROM ${AUDIT_RECORD_ROWS.from('$2')} AS r
     ON CONFLICT (scope, kafka_partition, kafka_offset) DO NOTHING`,
    [scope, AUDIT_RECORD_ROWS.param(rows)],
  )
}
