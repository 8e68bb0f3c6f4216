import { createHash } from 'node:crypto'
import type { AuditEvent } from '../../core/bus/types.ts'

/** prevHash of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64)

/** An audit record before it is placed in a chain: what happened, to whom, why. */
export type AuditFactDraft = Omit<AuditEvent, 'chainId' | 'sequence' | 'prevHash' | 'recordHash'>

/** The hash chain a partition of the audit topic carries: one chain per partition. */
export function chainIdOf(partition: number): string {
  return `p${partition}`
}

/**
 * sha256 over every field but recordHash, in a fixed order with a fixed encoding (a JSON
 * array; details sorted by key), so the hash does not depend on Avro or map ordering and
 * any language can recompute it.
 */
export function recordHashOf(record: Omit<AuditEvent, 'recordHash'>): string {
  const canonical = JSON.stringify([
    'veridis.audit.v1',
    record.auditId,
    record.chainId,
    record.sequence,
    record.prevHash,
    record.action,
    record.actor.kind,
    record.actor.id,
    record.subjectHash,
    record.gdprCategory,
    record.legalBasis,
    record.retentionDays,
    record.references,
    Object.entries(record.details).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    record.occurredAt,
  ])
  return createHash('sha256').update(canonical).digest('hex')
}

/** Places a draft after `head` in its chain. */
export function chainRecord(
  draft: AuditFactDraft,
  place: { chainId: string; sequence: number; prevHash: string },
): AuditEvent {
  const unsealed = { ...draft, ...place }
  return { ...unsealed, recordHash: recordHashOf(unsealed) }
}

/** The key a record is written under: its subject, else what it is about (spreads load). */
export function recordKeyOf(draft: Pick<AuditEvent, 'subjectHash' | 'references' | 'auditId'>): string {
  return draft.subjectHash ?? draft.references[0] ?? draft.auditId
}
