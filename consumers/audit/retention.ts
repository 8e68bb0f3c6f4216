import { inTransaction, type Pool } from '../../core/db/pool.ts'
import { appendToChains, type ChainPlacement } from './chain.ts'
import type { AuditFactDraft } from './record.ts'

const PURGE_SLICE = 1_000

/** Records kept past their retention period right now. */
export async function countOverdue(pool: Pool, scope: string, now = new Date()): Promise<number> {
  const { rows } = await pool.query<{ overdue: string }>(
    'SELECT count(*) AS overdue FROM audit_subject_data WHERE scope = $1 AND retain_until < $2',
    [scope, now],
  )
  return Number(rows[0]?.overdue ?? 0)
}

/**
 * Deletes personal data past its retention period, in slices, each slice in one
 * transaction with the audit records that say so (`retention.purged`, one per item). The
 * audit records themselves are never purged: they hold no personal data.
 */
export async function purgeExpired(pool: Pool, placement: ChainPlacement, now = new Date()): Promise<number> {
  let purged = 0
  for (;;) {
    const slice = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{
        subject_hash: string
        kind: string
        reference: string
        retain_until: Date
      }>(
        `DELETE FROM audit_subject_data WHERE id IN (
           SELECT id FROM audit_subject_data WHERE scope = $1 AND retain_until < $2
           ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING subject_hash, kind, reference, retain_until`,
        [placement.scope, now, PURGE_SLICE],
      )
      const drafts: AuditFactDraft[] = rows.map((row) => ({
        auditId: `retention:${row.kind}:${row.reference}`,
        action: 'retention.purged',
        actor: { kind: 'SERVICE', id: 'audit' },
        subjectHash: row.subject_hash,
        gdprCategory: 'IDENTIFIER',
        legalBasis: 'LEGAL_OBLIGATION',
        retentionDays: null,
        references: [row.reference],
        details: { kind: row.kind, retainUntil: row.retain_until.toISOString() },
        occurredAt: now.getTime(),
      }))
      await appendToChains(client, placement, drafts)
      return rows.length
    })
    purged += slice
    if (slice < PURGE_SLICE) return purged
  }
}
