import { createHash } from 'node:crypto'
import { type GatewayIndex, type GuardConfig, indexGateways } from '../../core/bridge/config.ts'
import type { Common } from '../../core/context.ts'
import { inTransaction, type Pool } from '../../core/db/pool.ts'
import { describeError } from '../../core/errors.ts'
import { guardMetrics } from '../../core/metrics/protocol.ts'
import { type ChainReader, createChainReaders } from '../../producers/chains/evm/bridge/chain-reader.ts'
import { type ChainState, createChainStates } from './chain-state.ts'
import { anomalyFinding, type Corridor, scoreWindow, windowsOf } from './detections/anomaly.ts'
import type { Finding } from './detections/finding.ts'
import { pruneFlowBuckets } from './detections/flow-limits.ts'
import {
  corridorScope,
  decayGuardianActivity,
  guardianRecords,
  meanLatencyMs,
  participationFindings,
  participationOf,
  pendingFinding,
  pendingLocks,
  stuckCorridors,
} from './detections/liveness.ts'
import {
  assessReserves,
  readReserves,
  reserveFinding,
  reservesScope,
  writeReserveCheck,
} from './detections/reserves.ts'
import { recordFindings, resolveIncidents } from './incidents.ts'

/**
 * The guard's periodic checks, beside the event-driven ones: proof of reserves, liveness
 * (locks pending past the SLA, guardian participation) and the anomaly detector, every
 * `monitorIntervalMs`. Their findings have no chain event to confirm or withdraw them: each
 * is recorded in a transaction of its own, published through the same outbox, and its
 * incident is resolved (WITHDRAWN with `details.resolvedBy`) by the first check that passes.
 *
 * One guard instance runs them at a time (a Postgres advisory lock), so two instances do not
 * write every reserves check twice. Each check fails alone: an unreadable chain skips that
 * check this round (counted as an error) and the others run. Nothing is kept in memory
 * between rounds.
 */
/** One lock per alert topic: guards of other namespaces run their own checks. */
const monitorLock = (topic: string) =>
  createHash('sha256').update(`bridge-guard-monitors:${topic}`).digest().readInt32BE(0)
const PENDING_BATCH = 200
const PRUNE_EVERY_MS = 60_000

type Check = 'reserves' | 'liveness' | 'participation' | 'anomaly' | 'prune'

export function createGuardMonitors(options: {
  readonly common: Common
  readonly pool: Pool
  readonly config: GuardConfig
  /** The guard's alert topic: its outbox rows are addressed to it. */
  readonly topic: string
  /** Publishes the outbox (the guard's own publisher). */
  readonly publish: () => Promise<unknown>
  readonly readers?: ReadonlyMap<string, Pick<ChainReader, 'sourceLocks'>>
  readonly states?: ReadonlyMap<string, ChainState>
}) {
  const { common, pool, config, publish, topic } = options
  const logger = common.logger.child({ component: 'bridge-guard-monitors' })
  const metrics = guardMetrics(common.metrics.registry)
  const readers = options.readers ?? createChainReaders(config, logger)
  const states = options.states ?? createChainStates(config, logger)
  const index = indexGateways(config)
  const cooldown = new Map(config.bridges.map((bridge) => [bridge.id, bridge.cooldownMs]))
  const cooldownOf = (finding: Finding) => cooldown.get(finding.scope.split(':')[0]!) ?? 30 * 60_000
  let lastPrune = 0

  const record = (findings: readonly Finding[], now: number) =>
    findings.length === 0
      ? Promise.resolve([])
      : inTransaction(pool, (client) => recordFindings({ client, topic }, findings, now, cooldownOf))

  async function timed(check: Check, run: () => Promise<boolean>) {
    const end = metrics.monitorDuration.startTimer({ check })
    try {
      const found = await run()
      metrics.monitorRuns.inc({ check, outcome: found ? 'finding' : 'ok' })
    } catch (error) {
      metrics.monitorRuns.inc({ check, outcome: 'error' })
      logger.warn({ err: describeError(error), check }, 'bridge guard check failed; next round retries')
    } finally {
      end()
    }
  }

  async function checkReserves(now: number): Promise<boolean> {
    let found = false
    for (const bridge of config.bridges) {
      for (const token of bridge.tokens) {
        if (!token.reserves) continue
        const snapshot = await readReserves({ client: pool, config, bridge, token, states, readers, now })
        const assessment = assessReserves(snapshot, token.reserves.tolerance)
        const owed = assessment.wrappedSupply + assessment.inFlight
        if (owed > 0n) {
          metrics.reservesRatio.set(
            { bridge: bridge.id, token: token.symbol },
            Number((snapshot.custody * 1_000_000n) / owed) / 1_000_000,
          )
        }
        await inTransaction(pool, async (client) => {
          const checkId = await writeReserveCheck(client, bridge, token, snapshot, assessment)
          if (assessment.short) {
            found = true
            const finding = reserveFinding({
              bridge,
              token,
              checkId,
              snapshot,
              assessment,
              tolerance: token.reserves!.tolerance,
            })
            await recordFindings({ client, topic }, [finding], now, cooldownOf)
          } else {
            await resolveIncidents(
              { client, topic },
              'reserves',
              reservesScope(bridge, token),
              `reserves check ${checkId}`,
            )
          }
        })
      }
    }
    return found
  }

  async function checkPending(now: number): Promise<boolean> {
    let found = false
    for (const bridge of config.bridges) {
      const candidates = await pendingLocks(pool, bridge, now, PENDING_BATCH)
      const findings: Finding[] = []
      for (const lock of candidates) {
        const gateway = bridge.gateways[lock.destinationChain]
        const state = states.get(lock.destinationChain)
        if (!gateway || !state) continue
        // The guard may lag the chain: a release the destination has already made is no finding.
        if (await state.released(gateway, lock.messageId, 'latest')) continue
        findings.push(pendingFinding(bridge, lock, now))
      }
      if ((await record(findings, now)).length > 0) found = true
      const stuck = await stuckCorridors(pool, bridge, now)
      const chains = Object.keys(bridge.gateways)
      for (const source of chains) {
        for (const target of chains) {
          if (source === target) continue
          const scope = corridorScope(bridge, source, target)
          const count = stuck.get(scope) ?? 0
          metrics.pendingPastSla.set({ bridge: bridge.id, source_chain: source, target_chain: target }, count)
          if (count === 0) {
            await inTransaction(pool, (client) =>
              resolveIncidents(
                { client, topic },
                'liveness',
                scope,
                `liveness check at ${new Date(now).toISOString()}`,
              ),
            )
          }
        }
      }
    }
    return found
  }

  async function checkParticipation(now: number): Promise<boolean> {
    let found = false
    for (const bridge of config.bridges) {
      await decayGuardianActivity(pool, bridge)
      const records = await guardianRecords(pool, bridge)
      for (const record of records) {
        const labels = { bridge: bridge.id, chain: record.chain, guardian: record.guardian }
        const rate = participationOf(record)
        if (rate !== undefined) metrics.guardianParticipation.set(labels, rate)
        const latency = meanLatencyMs(record)
        if (latency !== undefined) metrics.guardianLatency.set(labels, latency / 1000)
      }
      const findings = participationFindings(bridge, records, now)
      if ((await record(findings, now)).length > 0) found = true
      const below = new Set(findings.map((finding) => finding.scope))
      for (const guardian of records) {
        const scope = `${bridge.id}:${guardian.chain}:guardian:${guardian.guardian}`
        if (below.has(scope) || guardian.eligible < bridge.participation.minSample) continue
        await inTransaction(pool, (client) =>
          resolveIncidents(
            { client, topic },
            'liveness',
            scope,
            `participation ${participationOf(guardian)?.toFixed(3)}`,
          ),
        )
      }
    }
    return found
  }

  async function checkAnomalies(now: number): Promise<boolean> {
    const findings: Finding[] = []
    for (const bridge of config.bridges) {
      const params = bridge.anomaly
      if (!params.enabled) continue
      const until = Math.floor(now / params.windowMs) * params.windowMs
      const since = until - (params.baselineWindows + 1) * params.windowMs
      const { rows } = await pool.query<{
        chain: string
        token: string
        direction: string
        at: number
        count: number
        volume: number
        first: number
      }>(
        `SELECT b.chain, b.token, b.direction, (extract(epoch FROM b.bucket) * 1000)::float8 AS at,
           b.transfers AS count, b.amount::float8 AS volume, (extract(epoch FROM f.first) * 1000)::float8 AS first
         FROM bridge_flow_buckets b
         JOIN (SELECT chain, token, min(bucket) AS first FROM bridge_flow_buckets WHERE bridge_id = $1
               GROUP BY chain, token) f ON f.chain = b.chain AND f.token = b.token
         WHERE b.bridge_id = $1 AND b.bucket >= to_timestamp($2 / 1000.0) AND b.bucket < to_timestamp($3 / 1000.0)`,
        [bridge.id, since, until],
      )
      const corridors = new Map<string, { corridor: Corridor; first: number; buckets: typeof rows }>()
      for (const row of rows) {
        const token = tokenByAddress(index, bridge, row.chain, row.token)
        if (!token) continue
        const direction = row.direction === 'LOCK' || row.direction === 'BURN' ? 'in' : 'out'
        const key = `${row.chain}:${row.token}:${direction}`
        const entry = corridors.get(key) ?? {
          corridor: { bridge, token, chain: row.chain, direction },
          first: row.first,
          buckets: [],
        }
        entry.buckets.push(row)
        corridors.set(key, entry)
      }
      for (const { corridor, first, buckets } of corridors.values()) {
        const from = Math.max(since, Math.floor(first / params.windowMs) * params.windowMs)
        const windows = windowsOf(buckets, params.windowMs, from, until)
        const current = windows.at(-1)
        if (!current) continue
        const score = scoreWindow(windows.slice(0, -1), current, {
          minBaselineWindows: params.minBaselineWindows,
          threshold: params.threshold,
          minRatio: params.minRatio,
          minVolume: Number(corridor.token.anomalyMinVolume),
        })
        const labels = {
          bridge: bridge.id,
          chain: corridor.chain,
          token: corridor.token.symbol,
          direction: corridor.direction,
        }
        if (score.count) metrics.anomalyScore.set({ ...labels, measure: 'count' }, score.count.z)
        if (score.volume) metrics.anomalyScore.set({ ...labels, measure: 'volume' }, score.volume.z)
        if (score.anomalous) findings.push(anomalyFinding(corridor, current, params.windowMs, score))
      }
    }
    return (await record(findings, now)).length > 0
  }

  async function prune(now: number): Promise<boolean> {
    if (now - lastPrune < PRUNE_EVERY_MS) return false
    lastPrune = now
    for (const bridge of config.bridges) await pruneFlowBuckets(pool, bridge)
    return false
  }

  /** One round of every check (if no other instance is running one), then the outbox. */
  async function runOnce(now = Date.now()): Promise<boolean> {
    const lock = await pool.connect()
    try {
      const { rows } = await lock.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [
        monitorLock(topic),
      ])
      if (!rows[0]?.got) return false
      try {
        await timed('reserves', () => checkReserves(now))
        await timed('liveness', () => checkPending(now))
        await timed('participation', () => checkParticipation(now))
        await timed('anomaly', () => checkAnomalies(now))
        await timed('prune', () => prune(now))
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [monitorLock(topic)])
      }
    } finally {
      lock.release()
    }
    await publish()
    return true
  }

  let timer: NodeJS.Timeout | undefined
  let running: Promise<unknown> | undefined
  let stopped = false
  const schedule = () => {
    if (stopped || common.shutdown.signal.aborted) return
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error) => logger.warn({ err: describeError(error) }, 'bridge guard checks failed'))
        .finally(() => {
          running = undefined
          schedule()
        })
    }, config.monitorIntervalMs)
  }

  return {
    runOnce,
    start: schedule,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}

function tokenByAddress(
  index: GatewayIndex,
  bridge: GuardConfig['bridges'][number],
  chain: string,
  token: string,
) {
  try {
    return index.tokenOf(bridge, chain, token)
  } catch {
    return undefined
  }
}
