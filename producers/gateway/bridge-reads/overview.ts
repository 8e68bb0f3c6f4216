import type { Pool } from '../../../core/db/pool.ts'

/**
 * The security service at a glance, from the bridge guard's read models (migration 0011):
 * open incidents, the latest alert records, proof-of-reserves checks, guardian participation
 * and messages still in flight. Every figure is a query over what the guard recorded; nothing
 * here asks a chain.
 */

/** A lock is pending while no release of its message id is known. */
const PENDING_LOCKS = `bridge_locks l WHERE NOT EXISTS (SELECT 1 FROM bridge_releases r WHERE r.message_id = l.message_id)`

/** Alert records in the dashboard, newest first. */
const RECENT_ALERTS = 20

/** custody / (wrapped supply + in flight): ≥ 1 when the wrapped side is fully backed. */
function ratio(custody: string, wrapped: string, inFlight: string): number | null {
  const owed = BigInt(wrapped) + BigInt(inFlight)
  if (owed === 0n) return null
  // Six decimals are plenty for a ratio and keep the division in integers.
  return Number((BigInt(custody) * 1_000_000n) / owed) / 1_000_000
}

interface ReserveRow {
  id: number
  bridge_id: string
  token: string
  custody: string
  custody_chain: string
  custody_block: number
  wrapped_supply: string
  in_flight: string
  heights: Record<string, number>
  shortfall: string
  checked_at: Date
}

/** The latest proof-of-reserves check per bridge and token; an empty list before the first. */
export async function latestReserveChecks(
  pool: Pool,
  filter: { bridgeId?: string | undefined; tokens?: readonly string[] | undefined } = {},
) {
  const { rows } = await pool.query<ReserveRow>(
    `SELECT DISTINCT ON (bridge_id, token) id, bridge_id, token, custody, custody_chain, custody_block,
       wrapped_supply, in_flight, heights, shortfall, checked_at
     FROM bridge_reserve_checks
     WHERE ($1::text IS NULL OR bridge_id = $1) AND ($2::text[] IS NULL OR lower(token) = ANY($2))
     ORDER BY bridge_id, token, checked_at DESC, id DESC`,
    [filter.bridgeId ?? null, filter.tokens ? filter.tokens.map((token) => token.toLowerCase()) : null],
  )
  return rows.map((row) => ({
    checkId: row.id,
    bridgeId: row.bridge_id,
    token: row.token,
    custody: row.custody,
    custodyChain: row.custody_chain,
    custodyBlock: row.custody_block,
    wrappedSupply: row.wrapped_supply,
    inFlight: row.in_flight,
    shortfall: row.shortfall,
    ratio: ratio(row.custody, row.wrapped_supply, row.in_flight),
    backed: BigInt(row.shortfall) === 0n,
    heights: row.heights,
    checkedAt: row.checked_at.toISOString(),
  }))
}

interface GuardianRow {
  chain: string
  gateway: string
  guardian: string
  operator: string | null
  signed: number
  eligible: number
  latency_ms_total: number
  last_signed_at: Date | null
}

/** Per guardian: share of eligible releases signed, and mean delay after the source lock. */
export async function guardianParticipation(pool: Pool) {
  const { rows } = await pool.query<GuardianRow>(
    `SELECT chain, gateway, guardian, operator, signed, eligible, latency_ms_total, last_signed_at
     FROM bridge_guardian_activity ORDER BY chain, gateway, guardian`,
  )
  return rows.map((row) => ({
    chain: row.chain,
    gateway: row.gateway,
    guardian: row.guardian,
    operator: row.operator ?? row.guardian,
    signed: row.signed,
    eligible: row.eligible,
    participation: row.eligible > 0 ? Math.min(1, row.signed / row.eligible) : null,
    meanLatencyMs: row.signed > 0 ? Math.round(row.latency_ms_total / row.signed) : null,
    lastSignedAt: row.last_signed_at?.toISOString() ?? null,
  }))
}

/**
 * The security overview. Guards of several namespaces may share one database, so the recent
 * alert records are those bound for this gateway's own alert topic.
 */
export async function securityDashboard(pool: Pool, alertTopic: string) {
  const [incidents, alerts, pending, reserves, guardians] = await Promise.all([
    pool.query<{ detection: string; severity: string; open: number; occurrences: number }>(
      `SELECT detection, severity, count(*) AS open, sum(occurrences)::bigint AS occurrences
       FROM bridge_incidents WHERE NOT withdrawn GROUP BY detection, severity ORDER BY detection, severity`,
    ),
    pool.query<{
      alert_id: string
      revision: number
      record: Record<string, unknown>
      created_at: Date
      published_at: Date | null
    }>(
      `SELECT alert_id, revision, record, created_at, published_at FROM bridge_alert_outbox
       WHERE topic = $1 ORDER BY created_at DESC, alert_id, revision DESC LIMIT ${RECENT_ALERTS}`,
      [alertTopic],
    ),
    pool.query<{ pending: number }>(`SELECT count(*) AS pending FROM ${PENDING_LOCKS}`),
    latestReserveChecks(pool),
    guardianParticipation(pool),
  ])
  return {
    openIncidents: {
      total: incidents.rows.reduce((sum, row) => sum + row.open, 0),
      byDetection: incidents.rows,
    },
    recentAlerts: alerts.rows.map((row) => ({
      alertId: row.alert_id,
      revision: row.revision,
      status: row.record.status ?? null,
      detection: row.record.detection ?? null,
      kind: row.record.kind ?? null,
      severity: row.record.severity ?? null,
      summary: row.record.summary ?? null,
      chains: row.record.chains ?? [],
      occurrences: row.record.occurrences ?? null,
      createdAt: row.created_at.toISOString(),
      publishedAt: row.published_at?.toISOString() ?? null,
    })),
    reserves,
    guardians,
    pendingMessages: pending.rows[0]?.pending ?? 0,
    generatedAt: new Date().toISOString(),
  }
}

interface CorridorRow {
  bridge_id: string
  source_chain: string
  destination_chain: string
  pending: number
  past_sla: number
  oldest_at: Date | null
}

/**
 * Messages locked and not yet released, per corridor (bridge, source chain, destination chain):
 * how many are past the bridge's SLA (`pendingSlaMs` in its configuration; `defaultSlaMs` for
 * a bridge the configuration does not name), and the oldest one's age.
 */
export async function livenessSummary(
  pool: Pool,
  options: { slaMs: ReadonlyMap<string, number>; defaultSlaMs: number },
) {
  const bridges = [...options.slaMs.keys()]
  const slas = bridges.map((bridge) => options.slaMs.get(bridge)!)
  const [corridors, guardians] = await Promise.all([
    pool.query<CorridorRow>(
      `WITH sla AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS s(bridge_id, sla_ms))
       SELECT l.bridge_id, l.chain AS source_chain, l.destination_chain, count(*) AS pending,
         count(*) FILTER (WHERE l.observed_at < now() - make_interval(secs => coalesce(sla.sla_ms, $3) / 1000.0)) AS past_sla,
         min(l.observed_at) AS oldest_at
       FROM bridge_locks l LEFT JOIN sla ON sla.bridge_id = l.bridge_id
       WHERE NOT EXISTS (SELECT 1 FROM bridge_releases r WHERE r.message_id = l.message_id)
       GROUP BY l.bridge_id, l.chain, l.destination_chain, sla.sla_ms
       ORDER BY l.bridge_id, l.chain, l.destination_chain`,
      [bridges, slas, options.defaultSlaMs],
    ),
    guardianParticipation(pool),
  ])
  const now = Date.now()
  return {
    corridors: corridors.rows.map((row) => ({
      bridgeId: row.bridge_id,
      sourceChain: row.source_chain,
      destinationChain: row.destination_chain,
      slaMs: options.slaMs.get(row.bridge_id) ?? options.defaultSlaMs,
      pending: row.pending,
      pastSla: row.past_sla,
      withinSla: row.pending - row.past_sla,
      oldestPendingAt: row.oldest_at?.toISOString() ?? null,
      oldestPendingAgeMs: row.oldest_at ? Math.max(0, now - row.oldest_at.getTime()) : null,
    })),
    guardians,
    generatedAt: new Date().toISOString(),
  }
}
