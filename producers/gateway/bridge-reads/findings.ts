import type { Pool } from '../../../core/db/pool.ts'

/**
 * The bridge guard's findings as the gateway reports them (consumers/bridge-guard, migration
 * 0011): each finding with the incident it was folded into. A finding is about one subject
 * event; where that event is (chain, transaction, block) comes from the guard's own read
 * models (bridge_locks, bridge_releases) and the ledger's chain_events, whichever knows it, so
 * a finding about a configuration change — which has no lock or release row — is found too.
 */
interface FindingView {
  readonly findingId: string
  readonly alertId: string
  readonly detection: string
  readonly summary: string
  readonly subjectEventId: string
  readonly subjectChain: string
  /** false once the subject event left the canonical chain (withdrawn). */
  readonly active: boolean
  /** true once the subject event is FINALIZED. */
  readonly confirmed: boolean
  readonly createdAt: string
  readonly incident: {
    readonly kind: string
    readonly severity: string
    readonly status: string
    readonly occurrences: number
    readonly withdrawn: boolean
  }
}

interface FindingRow {
  finding_id: string
  alert_id: string
  detection: string
  summary: string
  subject_event_id: string
  subject_chain: string
  active: boolean
  confirmed: boolean
  created_at: Date
  kind: string
  severity: string
  status: string | null
  occurrences: number
  withdrawn: boolean
}

/** At most this many findings in one answer; `truncated` says when there were more. */
const MAX_FINDINGS = 500

const FINDING_COLUMNS = `f.finding_id, f.alert_id, f.detection, f.summary, f.subject_event_id, f.subject_chain,
  f.active, f.confirmed, f.created_at, i.kind, i.severity, i.record->>'status' AS status, i.occurrences, i.withdrawn`

function findingView(row: FindingRow): FindingView {
  return {
    findingId: row.finding_id,
    alertId: row.alert_id,
    detection: row.detection,
    summary: row.summary,
    subjectEventId: row.subject_event_id,
    subjectChain: row.subject_chain,
    active: row.active,
    confirmed: row.confirmed,
    createdAt: row.created_at.toISOString(),
    incident: {
      kind: row.kind,
      severity: row.severity,
      status: row.status ?? 'RAISED',
      occurrences: row.occurrences,
      withdrawn: row.withdrawn,
    },
  }
}

async function selectFindings(pool: Pool, where: string, params: unknown[]) {
  const { rows } = await pool.query<FindingRow>(
    `SELECT ${FINDING_COLUMNS} FROM bridge_findings f JOIN bridge_incidents i ON i.alert_id = f.alert_id
     WHERE ${where} ORDER BY f.created_at, f.finding_id LIMIT ${MAX_FINDINGS + 1}`,
    params,
  )
  return { findings: rows.slice(0, MAX_FINDINGS).map(findingView), truncated: rows.length > MAX_FINDINGS }
}

/** Findings about any of these events. */
export function findingsAbout(pool: Pool, eventIds: readonly string[]) {
  return selectFindings(pool, 'f.subject_event_id = ANY($1)', [eventIds])
}

/**
 * Events of a transaction (on one chain, or any) that the guard or the ledger knows: the
 * subjects findings can be about. `bridgeTopic` is the bridge topic's name in this namespace.
 */
const EVENTS_OF_TX = `
  SELECT event_id, chain FROM bridge_locks WHERE tx_hash = $1 AND ($2::text IS NULL OR chain = $2)
  UNION SELECT event_id, chain FROM bridge_releases WHERE tx_hash = $1 AND ($2::text IS NULL OR chain = $2)
  UNION SELECT event_id, chain FROM chain_events WHERE tx_hash = $1 AND topic = $3 AND ($2::text IS NULL OR chain = $2)`

const EVENTS_IN_RANGE = `
  SELECT event_id FROM bridge_locks WHERE chain = $1 AND block_number BETWEEN $2 AND $3
  UNION SELECT event_id FROM bridge_releases WHERE chain = $1 AND block_number BETWEEN $2 AND $3
  UNION SELECT event_id FROM chain_events WHERE chain = $1 AND topic = $4 AND block_number BETWEEN $2 AND $3`

/**
 * Findings whose evidence is in a transaction: about one of its events as the read models know
 * them, or about an event an incident's recorded evidence places in it (the incident keeps its
 * first offending events with chain, transaction and block, so a finding about an event no read
 * model holds — a configuration change with the ledger away — is found as well).
 */
export function findingsInTransaction(
  pool: Pool,
  options: { txHash: string; chain: string | null; bridgeTopic: string },
) {
  return selectFindings(
    pool,
    `f.subject_event_id IN (SELECT event_id FROM (${EVENTS_OF_TX}) AS e)
     OR f.subject_event_id IN (
       SELECT ev->>'eventId' FROM bridge_incidents i2, jsonb_array_elements(i2.record->'evidence') AS ev
       WHERE ev->>'txHash' = $1 AND ($2::text IS NULL OR ev->>'chain' = $2))`,
    [options.txHash, options.chain, options.bridgeTopic],
  )
}

/** Findings whose evidence lies in blocks [fromBlock, toBlock] of a chain (the same two ways). */
export function findingsInBlocks(
  pool: Pool,
  options: { chain: string; fromBlock: number; toBlock: number; bridgeTopic: string },
) {
  return selectFindings(
    pool,
    `f.subject_event_id IN (SELECT event_id FROM (${EVENTS_IN_RANGE}) AS e)
     OR f.subject_event_id IN (
       SELECT ev->>'eventId' FROM bridge_incidents i2, jsonb_array_elements(i2.record->'evidence') AS ev
       WHERE ev->>'chain' = $1 AND (ev->>'blockNumber')::bigint BETWEEN $2 AND $3)`,
    [options.chain, options.fromBlock, options.toBlock, options.bridgeTopic],
  )
}

/** Findings still standing (not withdrawn) whose subject is on this chain. */
export async function openFindingsOn(pool: Pool, chain: string): Promise<number> {
  const { rows } = await pool.query<{ open: number }>(
    `SELECT count(*) AS open FROM bridge_findings WHERE subject_chain = $1 AND active`,
    [chain],
  )
  return rows[0]?.open ?? 0
}
