import { inTransaction, type Pool } from '../../core/db/pool.ts'
import { appendToChains, type ChainPlacement } from './chain.ts'
import { type AuditKeys, subjectHashOf, UndecryptableError } from './keys.ts'
import { type DecryptedItem, readSubjectData } from './subjects.ts'

export interface AccessReport {
  readonly subjectHash: string
  readonly generatedAt: string
  readonly state: 'no-data' | 'held' | 'erased'
  readonly personalData: readonly DecryptedItem[]
  readonly erasures: readonly {
    erasureId: string
    erasedAt: string
    oldRoot: string
    newRoot: string
    verified: boolean
  }[]
  readonly auditTrail: readonly {
    action: string
    occurredAt: string
    actor: { kind: string; id: string }
    gdprCategory: string
    legalBasis: string
    retentionDays: number | null
    references: string[]
    details: Record<string, string>
    chain: string
    sequence: number
    partition: number
    offset: string
  }[]
}

/**
 * A data subject's access report (GDPR Art. 15): what is held about them (decrypted),
 * whether and how it was erased, and every audit record naming their pseudonym. Producing
 * it is itself audited (`subject.access.exported`).
 */
export async function exportSubject(
  pool: Pool,
  options: { keys: AuditKeys; placement: ChainPlacement; subjectId: string; requestedBy: string },
): Promise<AccessReport> {
  const scope = options.placement.scope
  const subjectHash = subjectHashOf(options.keys, options.subjectId)
  let personalData: DecryptedItem[] = []
  let state: AccessReport['state'] = 'no-data'
  try {
    personalData = await readSubjectData(pool, { scope, keys: options.keys }, subjectHash)
    if (personalData.length > 0) state = 'held'
  } catch (error) {
    if (!(error instanceof UndecryptableError)) throw error
    state = 'erased'
  }
  const erasures = await pool.query<{
    erasure_id: string
    erased_at: Date
    old_root: string
    new_root: string
    verified: boolean
  }>(
    'SELECT erasure_id, erased_at, old_root, new_root, verified FROM audit_erasures WHERE scope = $1 AND subject_hash = $2 ORDER BY erased_at',
    [scope, subjectHash],
  )
  if (erasures.rows.length > 0) state = 'erased'
  const trail = await pool.query<{
    action: string
    occurred_at: Date
    actor_kind: string
    actor_id: string
    gdpr_category: string
    legal_basis: string
    retention_days: number | null
    refs: string[]
    details: Record<string, string>
    chain_id: string
    sequence: string
    kafka_partition: number
    kafka_offset: string
  }>(
    `SELECT action, occurred_at, actor_kind, actor_id, gdpr_category, legal_basis, retention_days, refs, details,
       chain_id, sequence, kafka_partition, kafka_offset
     FROM audit_records WHERE scope = $1 AND subject_hash = $2 ORDER BY occurred_at, chain_id, sequence`,
    [scope, subjectHash],
  )
  const generatedAt = Date.now()
  await inTransaction(pool, (client) =>
    appendToChains(client, options.placement, [
      {
        auditId: `export:${subjectHash}:${generatedAt}`,
        action: 'subject.access.exported',
        actor: { kind: 'SERVICE', id: options.requestedBy },
        subjectHash,
        gdprCategory: 'IDENTIFIER',
        legalBasis: 'LEGAL_OBLIGATION',
        retentionDays: null,
        references: [],
        details: { state, auditRecords: String(trail.rows.length) },
        occurredAt: generatedAt,
      },
    ]),
  )
  return {
    subjectHash,
    generatedAt: new Date(generatedAt).toISOString(),
    state,
    personalData,
    erasures: erasures.rows.map((row) => ({
      erasureId: row.erasure_id,
      erasedAt: row.erased_at.toISOString(),
      oldRoot: row.old_root,
      newRoot: row.new_root,
      verified: row.verified,
    })),
    auditTrail: trail.rows.map((row) => ({
      action: row.action,
      occurredAt: row.occurred_at.toISOString(),
      actor: { kind: row.actor_kind, id: row.actor_id },
      gdprCategory: row.gdpr_category,
      legalBasis: row.legal_basis,
      retentionDays: row.retention_days,
      references: row.refs,
      details: row.details,
      chain: row.chain_id,
      sequence: Number(row.sequence),
      partition: row.kafka_partition,
      offset: row.kafka_offset,
    })),
  }
}
