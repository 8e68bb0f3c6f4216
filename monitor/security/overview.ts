import type { Pool } from '../../core/db/pool.ts'

/**
 * What the security page shows, read from the bridge guard's read models
 * (infra/postgres/migrations/0011_bridge_guard.sql) and nothing else: incidents with their
 * lifecycle, the newest proof-of-reserves check per token, and guardian participation. The
 * guard writes these tables; the monitor only reads them, so the page keeps showing the last
 * findings when the guard itself is down.
 */
interface IncidentView {
  alertId: string
  detection: string
  kind: string
  severity: string
  /** The last record's lifecycle status: RAISED, UPDATED, CONFIRMED or WITHDRAWN. */
  status: string
  open: boolean
  occurrences: number
  /** Offending events still on the canonical chain. */
  standing: number
  confirmed: boolean
  revision: number
  scope: string
  summary: string
  chains: string[]
  firstAt: number
  lastAt: number
}

interface ReserveView {
  bridgeId: string
  token: string
  custodyChain: string
  custodyBlock: number
  custody: string
  wrappedSupply: string
  inFlight: string
  shortfall: string
  /** custody / (wrapped supply + in flight), or null when nothing is bridged out. */
  ratio: number | null
  checkedAt: number
}

interface GuardianView {
  chain: string
  gateway: string
  guardian: string
  operator: string | null
  signed: number
  eligible: number
  /** signed / eligible, or null before the guardian was eligible for any release. */
  participation: number | null
  meanLatencyMs: number | null
  lastSignedAt: number | null
}

export interface SecurityOverview {
  generatedAt: number
  openBySeverity: Record<string, number>
  incidents: IncidentView[]
  reserves: ReserveView[]
  guardians: GuardianView[]
}

/** Open incidents first, then the most recent others; enough for a page, bounded. */
const INCIDENT_LIMIT = 200
const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO']

/** custody / owed to four decimals, computed on the exact integers (token amounts exceed 2^53). */
function reserveRatio(custody: bigint, owed: bigint): number | null {
  if (owed <= 0n) return null
  return Number((custody * 10_000n) / owed) / 10_000
}

const millis = (value: Date | null) => (value ? value.getTime() : null)

export async function readSecurityOverview(pool: Pool): Promise<SecurityOverview> {
  const [incidents, open, reserves, guardians] = await Promise.all([
    pool.query<{
      alert_id: string
      detection: string
      kind: string
      severity: string
      status: string | null
      withdrawn: boolean
      confirmed: boolean
      occurrences: number
      active: number
      revision: number
      scope: string
      summary: string | null
      chains: string[] | null
      first_at: Date
      last_at: Date
    }>(
      `SELECT alert_id, detection, kind, severity, record->>'status' AS status, withdrawn, confirmed, occurrences,
         active, revision, scope, record->>'summary' AS summary,
         ARRAY(SELECT jsonb_array_elements_text(coalesce(record->'chains', '[]'::jsonb))) AS chains, first_at, last_at
       FROM bridge_incidents ORDER BY withdrawn, last_at DESC, alert_id LIMIT ${INCIDENT_LIMIT}`,
    ),
    pool.query<{ severity: string; open: number }>(
      'SELECT severity, count(*)::int AS open FROM bridge_incidents WHERE NOT withdrawn GROUP BY severity',
    ),
    pool.query<{
      bridge_id: string
      token: string
      custody_chain: string
      custody_block: number
      custody: string
      wrapped_supply: string
      in_flight: string
      shortfall: string
      checked_at: Date
    }>(
      `SELECT DISTINCT ON (bridge_id, token) bridge_id, token, custody_chain, custody_block, custody::text,
         wrapped_supply::text, in_flight::text, shortfall::text, checked_at
       FROM bridge_reserve_checks ORDER BY bridge_id, token, checked_at DESC, id DESC`,
    ),
    pool.query<{
      chain: string
      gateway: string
      guardian: string
      operator: string | null
      signed: number
      eligible: number
      latency_ms_total: number
      latency_samples: number
      last_signed_at: Date | null
    }>(
      `SELECT chain, gateway, guardian, operator, signed, eligible, latency_ms_total, latency_samples, last_signed_at
       FROM bridge_guardian_activity ORDER BY chain, gateway, guardian`,
    ),
  ])

  const openBySeverity = Object.fromEntries(SEVERITY_ORDER.map((severity) => [severity, 0]))
  for (const row of open.rows) openBySeverity[row.severity] = row.open

  return {
    generatedAt: Date.now(),
    openBySeverity,
    incidents: incidents.rows.map((row) => ({
      alertId: row.alert_id,
      detection: row.detection,
      kind: row.kind,
      severity: row.severity,
      status: row.withdrawn ? 'WITHDRAWN' : (row.status ?? 'RAISED'),
      open: !row.withdrawn,
      occurrences: row.occurrences,
      standing: row.active,
      confirmed: row.confirmed,
      revision: row.revision,
      scope: row.scope,
      summary: row.summary ?? '',
      chains: row.chains ?? [],
      firstAt: row.first_at.getTime(),
      lastAt: row.last_at.getTime(),
    })),
    reserves: reserves.rows.map((row) => {
      const custody = BigInt(row.custody)
      const owed = BigInt(row.wrapped_supply) + BigInt(row.in_flight)
      return {
        bridgeId: row.bridge_id,
        token: row.token,
        custodyChain: row.custody_chain,
        custodyBlock: row.custody_block,
        custody: row.custody,
        wrappedSupply: row.wrapped_supply,
        inFlight: row.in_flight,
        shortfall: row.shortfall,
        ratio: reserveRatio(custody, owed),
        checkedAt: row.checked_at.getTime(),
      }
    }),
    guardians: guardians.rows.map((row) => ({
      chain: row.chain,
      gateway: row.gateway,
      guardian: row.guardian,
      operator: row.operator,
      signed: Number(row.signed),
      eligible: Number(row.eligible),
      participation: Number(row.eligible) > 0 ? Number(row.signed) / Number(row.eligible) : null,
      // Latency is known only for releases whose source lock the guard saw (migration 0013).
      meanLatencyMs:
        Number(row.latency_samples) > 0 ? row.latency_ms_total / Number(row.latency_samples) : null,
      lastSignedAt: millis(row.last_signed_at),
    })),
  }
}
