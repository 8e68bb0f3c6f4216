import type { BridgeConfig } from '../../../core/bridge/config.ts'
import { jsonRows } from '../../../core/db/json-rows.ts'
import type { PoolClient } from '../../../core/db/pool.ts'
import type { BridgeFact } from '../facts.ts'
import { type Finding, lower } from './finding.ts'
import { operatorOf } from './quorum-health.ts'

/**
 * Invariants (bridge-detections.md #8):
 * - pending SLA: every lock is released on its destination within the bridge's `pendingSlaMs`.
 *   A lock past it with no release the guard has seen — and none on the destination gateway
 *   itself (`released(messageId)` read from the chain, so a guard that lags is not a finding)
 *   — is a finding whose subject is the lock: one incident per corridor (bridge, source chain,
 *   destination chain) whose occurrences count the stuck messages, withdrawn for a lock that
 *   leaves the canonical chain, resolved by the monitor once nothing is stuck.
 *   (Multichain 2023: service degraded for weeks before the vaults were drained.)
 * - guardian participation: each guardian signs at least `participation.floor` of the releases
 *   it was eligible for — every release its gateway accepted while it was in the guardian set
 *   read at that release's block — once it has `minSample` of them. Counts are halved when
 *   eligibility reaches 2 × `window`, so a guardian that stops signing shows within about one
 *   window however long its record. Signing latency is the release's observation minus its
 *   source lock's (the chain does not say when each guardian signed; all signers of a release
 *   share it).
 */
type ReleaseFact = Extract<BridgeFact, { type: 'release' }>

/** A lock with no release, as the monitor found it. */
export interface PendingLock {
  readonly eventId: string
  readonly messageId: string
  readonly chain: string
  readonly destinationChain: string
  readonly txHash: string
  readonly blockNumber: number
  readonly amount: string
  readonly token: string
  readonly observedAt: number
}

export const corridorScope = (bridge: BridgeConfig, source: string, destination: string) =>
  `${bridge.id}:${source}->${destination}`

export function pendingFinding(bridge: BridgeConfig, lock: PendingLock, now: number): Finding {
  const waitedMin = Math.round((now - lock.observedAt) / 60_000)
  return {
    detection: 'liveness',
    kind: 'LIVENESS',
    severity: 'MEDIUM',
    scope: corridorScope(bridge, lock.chain, lock.destinationChain),
    key: 'pending-sla',
    subject: { eventId: lock.eventId, chain: lock.chain },
    summary: `message ${lock.messageId} locked on ${lock.chain} (tx ${lock.txHash}) has waited ${waitedMin} min for its release on ${lock.destinationChain}, past the ${bridge.pendingSlaMs / 60_000} min SLA`,
    evidence: [
      {
        eventId: lock.eventId,
        chain: lock.chain,
        txHash: lock.txHash,
        blockNumber: lock.blockNumber,
        role: 'pending lock',
      },
    ],
    details: {
      messageId: lock.messageId,
      amount: lock.amount,
      token: lock.token,
      lockedAt: new Date(lock.observedAt).toISOString(),
      slaMs: String(bridge.pendingSlaMs),
      destinationChain: lock.destinationChain,
    },
    chains: [lock.chain, lock.destinationChain],
  }
}

/** Locks of a bridge past its SLA with no release in the read model, oldest first, not yet flagged. */
export async function pendingLocks(
  client: Pick<PoolClient, 'query'>,
  bridge: BridgeConfig,
  now: number,
  limit: number,
): Promise<PendingLock[]> {
  const { rows } = await client.query<PendingLock>(
    `SELECT l.event_id AS "eventId", l.message_id AS "messageId", l.chain, l.destination_chain AS "destinationChain",
       l.tx_hash AS "txHash", l.block_number::int AS "blockNumber", l.amount::text AS amount, l.token,
       (extract(epoch FROM l.observed_at) * 1000)::float8 AS "observedAt"
     FROM bridge_locks l
     WHERE l.bridge_id = $1
       AND l.observed_at < to_timestamp(($2::float8 - $3::float8) / 1000.0)
       AND l.observed_at >= to_timestamp(($2::float8 - $4::float8) / 1000.0)
       AND NOT EXISTS (SELECT 1 FROM bridge_releases r WHERE r.message_id = l.message_id)
       AND NOT EXISTS (SELECT 1 FROM bridge_findings f WHERE f.subject_event_id = l.event_id AND f.detection = 'liveness')
     ORDER BY l.observed_at LIMIT $5`,
    [bridge.id, now, bridge.pendingSlaMs, bridge.pendingLookbackMs, limit],
  )
  return rows
}

/** Corridors of a bridge that still have a lock past the SLA with no release (flagged or not). */
export async function stuckCorridors(
  client: Pick<PoolClient, 'query'>,
  bridge: BridgeConfig,
  now: number,
): Promise<Map<string, number>> {
  const { rows } = await client.query<{ chain: string; destination: string; stuck: number }>(
    `SELECT l.chain, l.destination_chain AS destination, count(*)::int AS stuck
     FROM bridge_locks l
     WHERE l.bridge_id = $1
       AND l.observed_at < to_timestamp(($2::float8 - $3::float8) / 1000.0)
       AND l.observed_at >= to_timestamp(($2::float8 - $4::float8) / 1000.0)
       AND NOT EXISTS (SELECT 1 FROM bridge_releases r WHERE r.message_id = l.message_id)
     GROUP BY l.chain, l.destination_chain`,
    [bridge.id, now, bridge.pendingSlaMs, bridge.pendingLookbackMs],
  )
  return new Map(rows.map((row) => [corridorScope(bridge, row.chain, row.destination), row.stuck]))
}

/**
 * One release's signatures in bridge_guardian_activity: every guardian of the set at its block
 * was eligible, the ones the release names (and that are in that set) signed. Inside the
 * chunk's transaction. A release whose quorum could not be read (not a guardian-quorum bridge)
 * changes nothing.
 */
export async function recordGuardianActivity(
  client: PoolClient,
  options: {
    readonly bridge: BridgeConfig
    readonly fact: ReleaseFact
    readonly guardians: readonly string[] | undefined
  },
): Promise<void> {
  const { fact, guardians } = options
  if (!guardians || guardians.length === 0) return
  const { rows } = await client.query<{ locked: number | null }>(
    `SELECT (extract(epoch FROM min(observed_at)) * 1000)::float8 AS locked FROM bridge_locks WHERE message_id = $1`,
    [fact.messageId],
  )
  await recordGuardianActivities(client, [{ ...options, lockedAt: rows[0]?.locked ?? undefined }])
}

const GUARDIAN_ACTIVITY_ROWS = jsonRows({
  gateway: 'text',
  chain: 'text',
  guardian: 'text',
  operator: 'text',
  signed: 'bigint',
  eligible: 'bigint',
  latency_total: 'float8',
  latency_samples: 'bigint',
  last_signed: 'numeric',
})

/**
 * A chunk's releases into bridge_guardian_activity in one upsert, as recordGuardianActivity
 * would take them one by one. `lockedAt`: when the release's message was first locked (the
 * earliest of its locks in bridge_locks and earlier in the chunk), for the signing latency.
 */
export async function recordGuardianActivities(
  client: PoolClient,
  entries: readonly {
    readonly bridge: BridgeConfig
    readonly fact: ReleaseFact
    readonly guardians: readonly string[] | undefined
    readonly lockedAt: number | undefined
  }[],
): Promise<void> {
  const rows = new Map<
    string,
    {
      gateway: string
      chain: string
      guardian: string
      operator: string | null
      signed: number
      eligible: number
      latency_total: number
      latency_samples: number
      last_signed: number | null
    }
  >()
  for (const { bridge, fact, guardians, lockedAt } of entries) {
    if (!guardians || guardians.length === 0) continue
    const signers = new Set(fact.release.signers.map(lower))
    const latency = lockedAt === undefined ? null : Math.max(fact.envelope.observedAt - lockedAt, 0)
    const gateway = lower(fact.gateway)
    const chain = fact.envelope.chain
    for (const guardian of new Set(guardians.map(lower))) {
      const key = `${chain}\u0000${gateway}\u0000${guardian}`
      const row = rows.get(key) ?? {
        gateway,
        chain,
        guardian,
        operator: null,
        signed: 0,
        eligible: 0,
        latency_total: 0,
        latency_samples: 0,
        last_signed: null,
      }
      rows.set(key, row)
      const signed = signers.has(guardian)
      row.operator = operatorOf(bridge, guardian)
      row.eligible += 1
      if (signed) {
        row.signed += 1
        if (latency !== null) {
          row.latency_total += latency
          row.latency_samples += 1
        }
        row.last_signed = Math.max(row.last_signed ?? fact.envelope.observedAt, fact.envelope.observedAt)
      }
    }
  }
  if (rows.size === 0) return
  await client.query(
    `INSERT INTO bridge_guardian_activity AS a (gateway, chain, guardian, operator, signed, eligible,
       latency_ms_total, latency_samples, last_signed_at)
     SELECT g.gateway, g.chain, g.guardian, g.operator, g.signed, g.eligible, g.latency_total, g.latency_samples,
       to_timestamp(g.last_signed / 1000.0)
     FROM ${GUARDIAN_ACTIVITY_ROWS.from('$1')} AS g
     ON CONFLICT (chain, gateway, guardian) DO UPDATE SET
       operator = EXCLUDED.operator,
       signed = a.signed + EXCLUDED.signed,
       eligible = a.eligible + EXCLUDED.eligible,
       latency_ms_total = a.latency_ms_total + EXCLUDED.latency_ms_total,
       latency_samples = a.latency_samples + EXCLUDED.latency_samples,
       last_signed_at = greatest(a.last_signed_at, EXCLUDED.last_signed_at)`,
    // In key order: concurrent chunks (other partitions) upsert the same guardians without deadlocking.
    [
      GUARDIAN_ACTIVITY_ROWS.param(
        [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row),
      ),
    ],
  )
}

export interface GuardianRecord {
  readonly chain: string
  readonly gateway: string
  readonly guardian: string
  readonly operator: string | null
  readonly signed: number
  readonly eligible: number
  readonly latencyMsTotal: number
  readonly latencySamples: number
}

export const participationOf = (record: GuardianRecord) =>
  record.eligible > 0 ? record.signed / record.eligible : undefined

export const meanLatencyMs = (record: GuardianRecord) =>
  record.latencySamples > 0 ? record.latencyMsTotal / record.latencySamples : undefined

/** Guardians of a bridge below the participation floor over at least the minimum sample. */
export function participationFindings(
  bridge: BridgeConfig,
  records: readonly GuardianRecord[],
  now: number,
): Finding[] {
  const { floor, minSample } = bridge.participation
  const day = new Date(now).toISOString().slice(0, 10)
  return records
    .filter((record) => bridge.gateways[record.chain]?.toLowerCase() === record.gateway.toLowerCase())
    .filter((record) => record.eligible >= minSample && record.signed < floor * record.eligible)
    .map((record) => {
      const rate = record.signed / record.eligible
      const subject = `liveness:guardian:${bridge.id}:${record.chain}:${record.guardian}:${day}`
      return {
        detection: 'liveness',
        kind: 'LIVENESS',
        severity: 'LOW',
        scope: `${bridge.id}:${record.chain}:guardian:${record.guardian}`,
        key: 'participation',
        subject: { eventId: subject, chain: record.chain },
        summary: `guardian ${record.guardian}${record.operator ? ` (${record.operator})` : ''} signed ${record.signed} of the last ${record.eligible} releases it was eligible for on ${record.chain} (${(rate * 100).toFixed(1)} %, floor ${floor * 100} %)`,
        evidence: [
          { eventId: subject, chain: record.chain, txHash: null, blockNumber: null, role: 'participation' },
        ],
        details: {
          guardian: record.guardian,
          operator: record.operator ?? '',
          gateway: record.gateway,
          signed: String(record.signed),
          eligible: String(record.eligible),
          participation: rate.toFixed(4),
          floor: String(floor),
          meanLatencyMs: String(meanLatencyMs(record) ?? ''),
        },
        chains: [record.chain],
      } satisfies Finding
    })
}

export async function guardianRecords(
  client: Pick<PoolClient, 'query'>,
  bridge: BridgeConfig,
): Promise<GuardianRecord[]> {
  const chains = Object.keys(bridge.gateways)
  const gateways = chains.map((chain) => bridge.gateways[chain]!.toLowerCase())
  const { rows } = await client.query<GuardianRecord>(
    `SELECT a.chain, a.gateway, a.guardian, a.operator, a.signed::float8 AS signed, a.eligible::float8 AS eligible,
       a.latency_ms_total AS "latencyMsTotal", a.latency_samples::float8 AS "latencySamples"
     FROM bridge_guardian_activity a JOIN unnest($1::text[], $2::text[]) AS g(chain, gateway)
       ON a.chain = g.chain AND a.gateway = g.gateway
     ORDER BY a.chain, a.guardian`,
    [chains, gateways],
  )
  return rows
}

/** Halves the counts of guardians whose eligibility reached 2 × window (a recent-behaviour rate). */
export async function decayGuardianActivity(client: Pick<PoolClient, 'query'>, bridge: BridgeConfig) {
  const chains = Object.keys(bridge.gateways)
  const gateways = chains.map((chain) => bridge.gateways[chain]!.toLowerCase())
  await client.query(
    `UPDATE bridge_guardian_activity a SET signed = a.signed / 2, eligible = a.eligible / 2,
       latency_ms_total = a.latency_ms_total / 2, latency_samples = a.latency_samples / 2
     FROM unnest($1::text[], $2::text[]) AS g(chain, gateway)
     WHERE a.chain = g.chain AND a.gateway = g.gateway AND a.eligible >= $3`,
    [chains, gateways, 2 * bridge.participation.window],
  )
}
