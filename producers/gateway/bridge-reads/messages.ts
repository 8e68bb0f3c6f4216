import type { Pool } from '../../../core/db/pool.ts'
import { findingsAbout } from './findings.ts'

/**
 * Bridge messages as the guard has seen them (bridge_locks, bridge_releases): a message's
 * lock, its release(s) and whether the value is backed; a bridge's totals; every bridge event
 * of a transaction. Rows of events that left the canonical chain are gone from these tables
 * (the guard deletes them on RETRACTED), so what is answered is the current canonical view.
 */
interface LockRow {
  event_id: string
  message_id: string
  bridge_id: string
  chain: string
  gateway: string
  block_number: number
  tx_hash: string
  finality: string
  mode: string
  token: string
  amount: string
  recipient: string
  destination_chain: string
  observed_at: Date
}

interface ReleaseRow extends Omit<LockRow, 'destination_chain'> {
  source_chain: string
  signers: string[]
  threshold: number
  backed: boolean
}

const LOCK_COLUMNS = `event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode, token,
  amount, recipient, destination_chain, observed_at`
const RELEASE_COLUMNS = `event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode, token,
  amount, recipient, source_chain, signers, threshold, backed, observed_at`

const lockView = (row: LockRow) => ({
  eventId: row.event_id,
  bridgeId: row.bridge_id,
  chain: row.chain,
  gateway: row.gateway,
  blockNumber: row.block_number,
  txHash: row.tx_hash,
  finality: row.finality,
  mode: row.mode,
  token: row.token,
  amount: row.amount,
  recipient: row.recipient,
  destinationChain: row.destination_chain,
  observedAt: row.observed_at.toISOString(),
})

const releaseView = (row: ReleaseRow) => ({
  eventId: row.event_id,
  bridgeId: row.bridge_id,
  chain: row.chain,
  gateway: row.gateway,
  blockNumber: row.block_number,
  txHash: row.tx_hash,
  finality: row.finality,
  mode: row.mode,
  token: row.token,
  amount: row.amount,
  recipient: row.recipient,
  sourceChain: row.source_chain,
  signers: row.signers,
  threshold: row.threshold,
  backed: row.backed,
  observedAt: row.observed_at.toISOString(),
})

/** Message ids with a lock or release in this transaction (on one chain, or any). */
export async function messageIdsOfTransaction(pool: Pool, txHash: string, chain: string | null) {
  const { rows } = await pool.query<{ message_id: string }>(
    `SELECT message_id FROM bridge_locks WHERE tx_hash = $1 AND ($2::text IS NULL OR chain = $2)
     UNION SELECT message_id FROM bridge_releases WHERE tx_hash = $1 AND ($2::text IS NULL OR chain = $2)
     ORDER BY 1 LIMIT 256`,
    [txHash, chain],
  )
  return rows.map((row) => row.message_id)
}

/**
 * One message: its lock, its releases, and what backs them — `pending` (locked, not released),
 * `released`, `unbacked` (released with no lock known: the guard's release-without-source
 * case), `replayed` (released more than once); plus every finding about its events.
 */
export async function analyzeMessage(pool: Pool, messageId: string) {
  const [locks, releases] = await Promise.all([
    pool.query<LockRow>(
      `SELECT ${LOCK_COLUMNS} FROM bridge_locks WHERE message_id = $1 ORDER BY observed_at`,
      [messageId],
    ),
    pool.query<ReleaseRow>(
      `SELECT ${RELEASE_COLUMNS} FROM bridge_releases WHERE message_id = $1 ORDER BY observed_at`,
      [messageId],
    ),
  ])
  if (locks.rows.length === 0 && releases.rows.length === 0) return undefined
  const lock = locks.rows[0]
  const released = releases.rows.reduce((sum, row) => sum + BigInt(row.amount), 0n)
  const status =
    releases.rows.length === 0
      ? 'pending'
      : releases.rows.length > 1
        ? 'replayed'
        : !lock
          ? 'unbacked'
          : 'released'
  const { findings, truncated } = await findingsAbout(pool, [
    ...locks.rows.map((row) => row.event_id),
    ...releases.rows.map((row) => row.event_id),
  ])
  return {
    messageId,
    bridgeId: (lock ?? releases.rows[0])!.bridge_id,
    status,
    lock: lock ? lockView(lock) : null,
    // A second lock row for one message id would itself be an anomaly; it is shown, not hidden.
    otherLocks: locks.rows.slice(1).map(lockView),
    releases: releases.rows.map(releaseView),
    backing: {
      locked: lock?.amount ?? null,
      released: released.toString(),
      // Released beyond what was locked (or with no lock at all): value nothing backs.
      unbacked: (lock
        ? released > BigInt(lock.amount)
          ? released - BigInt(lock.amount)
          : 0n
        : released
      ).toString(),
      sourceConfirmed: releases.rows.length > 0 && releases.rows.every((row) => row.backed),
    },
    findings,
    findingsTruncated: truncated,
  }
}

/** Per bridge: messages locked / released / pending, value per chain and token, findings, incidents. */
export async function bridgeMetrics(pool: Pool, bridgeId: string) {
  const [counts, locked, released, pendingValue, findings, incidents] = await Promise.all([
    pool.query<{ locked: number; released: number; pending: number; unbacked: number }>(
      `SELECT
         (SELECT count(*) FROM bridge_locks WHERE bridge_id = $1) AS locked,
         (SELECT count(*) FROM bridge_releases WHERE bridge_id = $1) AS released,
         (SELECT count(*) FROM bridge_locks l WHERE l.bridge_id = $1
            AND NOT EXISTS (SELECT 1 FROM bridge_releases r WHERE r.message_id = l.message_id)) AS pending,
         (SELECT count(*) FROM bridge_releases r WHERE r.bridge_id = $1
            AND NOT EXISTS (SELECT 1 FROM bridge_locks l WHERE l.message_id = r.message_id)) AS unbacked`,
      [bridgeId],
    ),
    pool.query<{ chain: string; token: string; amount: string; messages: number }>(
      `SELECT chain, token, sum(amount)::text AS amount, count(*) AS messages FROM bridge_locks
       WHERE bridge_id = $1 GROUP BY chain, token ORDER BY chain, token`,
      [bridgeId],
    ),
    pool.query<{ chain: string; token: string; amount: string; messages: number }>(
      `SELECT chain, token, sum(amount)::text AS amount, count(*) AS messages FROM bridge_releases
       WHERE bridge_id = $1 GROUP BY chain, token ORDER BY chain, token`,
      [bridgeId],
    ),
    pool.query<{ chain: string; token: string; amount: string; messages: number }>(
      `SELECT chain, token, sum(amount)::text AS amount, count(*) AS messages FROM bridge_locks l
       WHERE bridge_id = $1 AND NOT EXISTS (SELECT 1 FROM bridge_releases r WHERE r.message_id = l.message_id)
       GROUP BY chain, token ORDER BY chain, token`,
      [bridgeId],
    ),
    // An incident's scope starts with its bridge id (consumers/bridge-guard/detections).
    pool.query<{ detection: string; findings: number; active: number }>(
      `SELECT f.detection, count(*) AS findings, count(*) FILTER (WHERE f.active) AS active
       FROM bridge_findings f JOIN bridge_incidents i ON i.alert_id = f.alert_id
       WHERE left(i.scope, length($1) + 1) = $1 || ':'
       GROUP BY f.detection ORDER BY f.detection`,
      [bridgeId],
    ),
    pool.query<{ open: number; total: number }>(
      `SELECT count(*) FILTER (WHERE NOT withdrawn) AS open, count(*) AS total FROM bridge_incidents
       WHERE left(scope, length($1) + 1) = $1 || ':'`,
      [bridgeId],
    ),
  ])
  const value = (rows: { chain: string; token: string; amount: string; messages: number }[]) =>
    rows.map((row) => ({ chain: row.chain, token: row.token, amount: row.amount, messages: row.messages }))
  const messages = counts.rows[0]!
  return {
    bridgeId,
    messages: {
      locked: messages.locked,
      released: messages.released,
      pending: messages.pending,
      releasedWithoutLock: messages.unbacked,
    },
    value: { locked: value(locked.rows), released: value(released.rows), pending: value(pendingValue.rows) },
    findingsByDetection: findings.rows,
    incidents: { open: incidents.rows[0]?.open ?? 0, total: incidents.rows[0]?.total ?? 0 },
    generatedAt: new Date().toISOString(),
  }
}

/** Whether the read models know anything of this bridge. */
export async function bridgeSeen(pool: Pool, bridgeId: string): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT 1 FROM bridge_locks WHERE bridge_id = $1
     UNION ALL SELECT 1 FROM bridge_releases WHERE bridge_id = $1
     UNION ALL SELECT 1 FROM bridge_reserve_checks WHERE bridge_id = $1
     LIMIT 1`,
    [bridgeId],
  )
  return rows.length > 0
}

interface TransactionEvent {
  readonly eventId: string
  readonly kind: string
  readonly chain: string
  readonly blockNumber: number
  /** null for an event only the guard holds (the ledger has not projected it). */
  readonly blockHash: string | null
  readonly logIndex: number | null
  readonly emitter: string
  readonly finality: string
  readonly observedAt: string
  readonly lock: ReturnType<typeof lockView> | null
  readonly release: ReturnType<typeof releaseView> | null
}

interface ChainEventRow {
  event_id: string
  kind: string
  chain: string
  block_number: number
  block_hash: string
  log_index: number
  emitter: string
  finality: string
  observed_at: Date
}

/**
 * Every bridge event of a transaction: the ledger's record of each (chain_events, the bridge
 * topic), with the guard's lock or release row where it has one; and every finding about them.
 */
export async function transactionAnalysis(
  pool: Pool,
  options: { txHash: string; chain: string | null; bridgeTopic: string },
) {
  const { txHash, chain, bridgeTopic } = options
  const [ledger, locks, releases] = await Promise.all([
    pool.query<ChainEventRow>(
      `SELECT event_id, kind, chain, block_number, block_hash, log_index, emitter, finality, observed_at
       FROM chain_events WHERE tx_hash = $1 AND topic = $2 AND ($3::text IS NULL OR chain = $3)
       ORDER BY chain, block_number, log_index LIMIT 256`,
      [txHash, bridgeTopic, chain],
    ),
    pool.query<LockRow>(
      `SELECT ${LOCK_COLUMNS} FROM bridge_locks WHERE tx_hash = $1 AND ($2::text IS NULL OR chain = $2) LIMIT 256`,
      [txHash, chain],
    ),
    pool.query<ReleaseRow>(
      `SELECT ${RELEASE_COLUMNS} FROM bridge_releases WHERE tx_hash = $1 AND ($2::text IS NULL OR chain = $2) LIMIT 256`,
      [txHash, chain],
    ),
  ])
  const lockOf = new Map(locks.rows.map((row) => [row.event_id, row]))
  const releaseOf = new Map(releases.rows.map((row) => [row.event_id, row]))
  const events: TransactionEvent[] = ledger.rows.map((row) => ({
    eventId: row.event_id,
    kind: row.kind,
    chain: row.chain,
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    logIndex: row.log_index,
    emitter: row.emitter,
    finality: row.finality,
    observedAt: row.observed_at.toISOString(),
    lock: lockOf.has(row.event_id) ? lockView(lockOf.get(row.event_id)!) : null,
    release: releaseOf.has(row.event_id) ? releaseView(releaseOf.get(row.event_id)!) : null,
  }))
  // Rows the guard holds that the ledger has not projected (yet, or not in this namespace).
  const seen = new Set(events.map((event) => event.eventId))
  for (const row of locks.rows) {
    if (seen.has(row.event_id)) continue
    events.push({
      eventId: row.event_id,
      kind: 'BridgeLocked',
      chain: row.chain,
      blockNumber: row.block_number,
      blockHash: null,
      logIndex: null,
      emitter: row.gateway,
      finality: row.finality,
      observedAt: row.observed_at.toISOString(),
      lock: lockView(row),
      release: null,
    })
  }
  for (const row of releases.rows) {
    if (seen.has(row.event_id)) continue
    events.push({
      eventId: row.event_id,
      kind: 'BridgeReleased',
      chain: row.chain,
      blockNumber: row.block_number,
      blockHash: null,
      logIndex: null,
      emitter: row.gateway,
      finality: row.finality,
      observedAt: row.observed_at.toISOString(),
      lock: null,
      release: releaseView(row),
    })
  }
  return { events, messageIds: [...new Set([...locks.rows, ...releases.rows].map((row) => row.message_id))] }
}
