import { createHash } from 'node:crypto'
import type { PoolClient } from '../../core/db/pool.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import type { Finding } from './detections/finding.ts'

/**
 * Findings become incidents, and incidents become alert records. An incident is every finding
 * of one detection and scope (a gateway, a corridor) within the detection's cooldown: an
 * attack of 300 copy-paste transactions is one incident with a count, not 300 pages. Its
 * alertId is stable, and each record about it has the next revision:
 *
 *   RAISED     the first finding (published at once, on the PENDING event)
 *   UPDATED    as occurrences reach 2, 4, 8, … (a log-scale count, never one record per copy),
 *              or when some, not all, of its offending events leave the canonical chain
 *   CONFIRMED  the first time an offending event is FINALIZED
 *   WITHDRAWN  when every offending event has left the canonical chain (a reorg)
 *
 * Everything here runs inside the chunk's exactly-once transaction; records go to an outbox
 * table and are published after COMMIT (./outbox.ts).
 */
const SEVERITY_RANK = { INFO: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 } as const
/** Evidence kept on an incident's record: the first offending events, not all 300. */
const MAX_EVIDENCE = 16

const sha = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex')

export const findingIdOf = (finding: Finding) => sha(finding.detection, finding.subject.eventId, finding.key)

interface IncidentRow {
  alert_id: string
  occurrences: number
  active: number
  revision: number
  confirmed: boolean
  severity: Alert['severity']
  record: Alert
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0

/**
 * Where a guard's records go: its (namespaced) alert topic. Every guard of every namespace
 * shares the outbox table, and each publishes only the rows for its own topic.
 */
export interface AlertOutbox {
  readonly client: PoolClient
  readonly topic: string
}

async function writeRecord({ client, topic }: AlertOutbox, alert: Alert): Promise<void> {
  await client.query(
    `INSERT INTO bridge_alert_outbox (alert_id, revision, record, topic) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [alert.alertId, alert.revision, JSON.stringify(alert), topic],
  )
}

async function saveIncident(outbox: AlertOutbox, alert: Alert, changes: Partial<Record<string, unknown>>) {
  const { client } = outbox
  const columns = Object.keys(changes)
  await client.query(
    `UPDATE bridge_incidents SET ${columns.map((column, i) => `${column} = $${i + 2}`).join(', ')},
       revision = $${columns.length + 2}, record = $${columns.length + 3}
     WHERE alert_id = $1`,
    [alert.alertId, ...Object.values(changes), alert.revision, JSON.stringify(alert)],
  )
  await writeRecord(outbox, alert)
}

/**
 * Records findings (each once, by detection, subject and key) and folds each into its
 * incident. `at` is the offending event's observation time, so a redelivered or replayed
 * chunk folds exactly as the first delivery did. Returns the findings that were new.
 */
export async function recordFindings(
  outbox: AlertOutbox,
  findings: readonly Finding[],
  at: number,
  cooldownMs: (finding: Finding) => number,
  /** Finding ids already recorded (knownFindings, for a chunk's findings at once); read here when absent. */
  known?: Set<string>,
): Promise<Finding[]> {
  const { client } = outbox
  const recordedIds = known ?? (await knownFindings(client, findings))
  const fresh: Finding[] = []
  for (const finding of findings) {
    const findingId = findingIdOf(finding)
    if (recordedIds.has(findingId)) continue
    recordedIds.add(findingId)
    const { rows } = await client.query<IncidentRow>(
      `SELECT alert_id, occurrences, active, revision, confirmed, severity, record FROM bridge_incidents
       WHERE detection = $1 AND scope = $2 AND NOT withdrawn AND last_at >= to_timestamp($3 / 1000.0)
       ORDER BY last_at DESC LIMIT 1 FOR UPDATE`,
      [finding.detection, finding.scope, at - cooldownMs(finding)],
    )
    const open = rows[0]
    let alertId: string
    if (!open) {
      alertId = sha(finding.detection, finding.scope, findingId).slice(0, 32)
      const alert: Alert = {
        alertId,
        kind: finding.kind,
        severity: finding.severity,
        chain: finding.subject.chain,
        summary: finding.summary,
        evidence: [...finding.evidence],
        details: { ...finding.details, scope: finding.scope },
        detectedAt: Date.now(),
        detection: finding.detection,
        status: 'RAISED',
        revision: 0,
        occurrences: 1,
        chains: [...finding.chains],
      }
      await client.query(
        `INSERT INTO bridge_incidents (alert_id, detection, scope, kind, severity, occurrences, active, revision,
           first_at, last_at, record)
         VALUES ($1, $2, $3, $4, $5, 1, 1, 0, to_timestamp($6 / 1000.0), to_timestamp($6 / 1000.0), $7)`,
        [
          alertId,
          finding.detection,
          finding.scope,
          finding.kind,
          finding.severity,
          at,
          JSON.stringify(alert),
        ],
      )
      await writeRecord(outbox, alert)
    } else {
      alertId = open.alert_id
      const occurrences = open.occurrences + 1
      const severity =
        SEVERITY_RANK[finding.severity] > SEVERITY_RANK[open.severity] ? finding.severity : open.severity
      const previous = open.record
      const evidence =
        previous.evidence.length < MAX_EVIDENCE
          ? [...previous.evidence, ...finding.evidence]
          : previous.evidence
      const publish = isPowerOfTwo(occurrences) || severity !== open.severity
      const alert: Alert = {
        ...previous,
        severity,
        evidence: evidence.slice(0, MAX_EVIDENCE),
        occurrences,
        chains: [...new Set([...previous.chains, ...finding.chains])],
        details: { ...previous.details, latest: finding.summary, latestEventId: finding.subject.eventId },
        status: publish ? 'UPDATED' : previous.status,
        revision: publish ? open.revision + 1 : open.revision,
        detectedAt: publish ? Date.now() : previous.detectedAt,
      }
      await client.query(
        `UPDATE bridge_incidents SET occurrences = $2, active = active + 1, severity = $3,
           last_at = greatest(last_at, to_timestamp($4 / 1000.0)), revision = $5, record = $6
         WHERE alert_id = $1`,
        [alertId, occurrences, severity, at, alert.revision, JSON.stringify(alert)],
      )
      if (publish) await writeRecord(outbox, alert)
    }
    await client.query(
      `INSERT INTO bridge_findings (finding_id, alert_id, detection, subject_event_id, subject_chain, summary)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        findingId,
        alertId,
        finding.detection,
        finding.subject.eventId,
        finding.subject.chain,
        finding.summary,
      ],
    )
    fresh.push(finding)
  }
  return fresh
}

/** Which of these findings are recorded already (by detection, subject and key): one query for a chunk's findings. */
export async function knownFindings(client: PoolClient, findings: readonly Finding[]): Promise<Set<string>> {
  if (findings.length === 0) return new Set()
  const { rows } = await client.query<{ finding_id: string }>(
    'SELECT finding_id FROM bridge_findings WHERE finding_id = ANY($1)',
    [[...new Set(findings.map(findingIdOf))]],
  )
  return new Set(rows.map((row) => row.finding_id))
}

/** Which of these events have findings that confirmFindings would confirm: one query for a chunk. */
export async function unconfirmedSubjects(
  client: PoolClient,
  eventIds: readonly string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set()
  const { rows } = await client.query<{ subject_event_id: string }>(
    `SELECT DISTINCT subject_event_id FROM bridge_findings
     WHERE subject_event_id = ANY($1) AND active AND NOT confirmed`,
    [[...new Set(eventIds)]],
  )
  return new Set(rows.map((row) => row.subject_event_id))
}

/** The subject event is FINALIZED: its findings are confirmed, and each incident says so once. */
export async function confirmFindings(outbox: AlertOutbox, eventId: string): Promise<void> {
  const { client } = outbox
  const { rows } = await client.query<{ alert_id: string }>(
    `UPDATE bridge_findings SET confirmed = true WHERE subject_event_id = $1 AND active AND NOT confirmed
     RETURNING alert_id`,
    [eventId],
  )
  for (const alertId of new Set(rows.map((row) => row.alert_id))) {
    const incident = await lockIncident(client, alertId)
    if (!incident || incident.confirmed) continue
    const alert: Alert = {
      ...incident.record,
      status: 'CONFIRMED',
      revision: incident.revision + 1,
      detectedAt: Date.now(),
    }
    await saveIncident(outbox, alert, { confirmed: true })
  }
}

/**
 * The subject event left the canonical chain: its findings no longer stand. An incident
 * with nothing left standing is WITHDRAWN (a resolving record, not silence).
 */
export async function withdrawFindings(outbox: AlertOutbox, eventId: string): Promise<void> {
  const { client } = outbox
  const { rows } = await client.query<{ alert_id: string }>(
    `UPDATE bridge_findings SET active = false WHERE subject_event_id = $1 AND active RETURNING alert_id`,
    [eventId],
  )
  const perIncident = new Map<string, number>()
  for (const row of rows) perIncident.set(row.alert_id, (perIncident.get(row.alert_id) ?? 0) + 1)
  for (const [alertId, withdrawn] of perIncident) {
    const incident = await lockIncident(client, alertId)
    if (!incident) continue
    const active = incident.active - withdrawn
    const alert: Alert = {
      ...incident.record,
      status: active <= 0 ? 'WITHDRAWN' : 'UPDATED',
      revision: incident.revision + 1,
      detectedAt: Date.now(),
      details: {
        ...incident.record.details,
        standing: String(Math.max(active, 0)),
        withdrawnEventId: eventId,
      },
    }
    await saveIncident(outbox, alert, { active: Math.max(active, 0), withdrawn: active <= 0 })
  }
}

/**
 * A periodic check (reserves, liveness) passed again: the open incidents of its detection and
 * scope no longer stand. Each is WITHDRAWN with `details.resolvedBy` naming the check — a
 * resolving record, not silence. Returns how many were resolved.
 */
export async function resolveIncidents(
  outbox: AlertOutbox,
  detection: Finding['detection'],
  scope: string,
  resolvedBy: string,
): Promise<number> {
  const { client } = outbox
  const { rows } = await client.query<{ alert_id: string }>(
    'SELECT alert_id FROM bridge_incidents WHERE detection = $1 AND scope = $2 AND NOT withdrawn',
    [detection, scope],
  )
  for (const { alert_id: alertId } of rows) {
    const incident = await lockIncident(client, alertId)
    if (!incident) continue
    await client.query('UPDATE bridge_findings SET active = false WHERE alert_id = $1 AND active', [alertId])
    const alert: Alert = {
      ...incident.record,
      status: 'WITHDRAWN',
      revision: incident.revision + 1,
      detectedAt: Date.now(),
      details: { ...incident.record.details, standing: '0', resolvedBy },
    }
    await saveIncident(outbox, alert, { active: 0, withdrawn: true })
  }
  return rows.length
}

async function lockIncident(client: PoolClient, alertId: string): Promise<IncidentRow | undefined> {
  const { rows } = await client.query<IncidentRow>(
    `SELECT alert_id, occurrences, active, revision, confirmed, severity, record FROM bridge_incidents
     WHERE alert_id = $1 FOR UPDATE`,
    [alertId],
  )
  return rows[0]
}
