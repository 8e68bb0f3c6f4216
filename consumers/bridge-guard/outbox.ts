import type { TopicPublisher } from '../../core/bus/topic-publisher.ts'
import type { Pool } from '../../core/db/pool.ts'
import type { Logger } from '../../core/logging/logger.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'

/**
 * Publishes the alert records the guard's transactions wrote, oldest first, and marks them
 * published. Rows are claimed with FOR UPDATE SKIP LOCKED, so several guard instances never
 * publish the same record; a crash between publishing and marking publishes it again on the
 * next run — the same (alertId, revision), which a reader recognises (docs/bridge-guard.md).
 */
const SLICE = 500

export async function publishAlerts(options: {
  readonly pool: Pool
  readonly publisher: TopicPublisher
  readonly logger: Logger
  /** The alert topic this guard publishes to: only the outbox rows addressed to it. */
  readonly topic: string
  /** `observedAt`: when the incident's first offending event was observed (ms), for detection latency. */
  readonly onPublished: (alert: Alert, observedAt: number | undefined) => void
}): Promise<number> {
  let published = 0
  for (;;) {
    const client = await options.pool.connect()
    let count = 0
    try {
      await client.query('BEGIN')
      const { rows } = await client.query<{
        alert_id: string
        revision: number
        record: Alert
        observed_ms: number | null
      }>(
        `SELECT alert_id, revision, record,
           (SELECT extract(epoch FROM i.first_at)::float8 * 1000 FROM bridge_incidents i
            WHERE i.alert_id = o.alert_id) AS observed_ms
         FROM bridge_alert_outbox o WHERE published_at IS NULL AND topic = $1
         ORDER BY created_at, alert_id, revision LIMIT ${SLICE} FOR UPDATE OF o SKIP LOCKED`,
        [options.topic],
      )
      count = rows.length
      if (count > 0) {
        await options.publisher.publish(
          'alert',
          rows.map(({ record }) => ({ value: record, eventId: `${record.alertId}:${record.revision}` })),
        )
        await client.query(
          `UPDATE bridge_alert_outbox SET published_at = now()
           WHERE (alert_id, revision) IN (SELECT * FROM unnest($1::text[], $2::int[]))`,
          [rows.map((row) => row.alert_id), rows.map((row) => row.revision)],
        )
      }
      await client.query('COMMIT')
      for (const { record, observed_ms } of rows) {
        options.onPublished(record, observed_ms ?? undefined)
        const log = record.status === 'RAISED' ? options.logger.warn : options.logger.info
        log.call(
          options.logger,
          {
            alertId: record.alertId,
            detection: record.detection,
            status: record.status,
            severity: record.severity,
            occurrences: record.occurrences,
          },
          record.summary,
        )
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
    published += count
    if (count < SLICE) return published
  }
}
