import type { Registry } from 'prom-client'
import { type BridgeConfig, type GuardConfig, kindOf } from '../../core/bridge/config.ts'
import { sleep } from '../../core/bus/retry.ts'
import type { Pool } from '../../core/db/pool.ts'
import { describeError } from '../../core/errors.ts'
import type { Logger } from '../../core/logging/logger.ts'
import { guardOperationsMetrics } from '../../core/metrics/protocol.ts'
import type { ChainReader } from '../../producers/chains/evm/bridge/chain-reader.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import type { Finding } from './detections/finding.ts'
import { operatorsToForge } from './detections/quorum-health.ts'

/**
 * The guard's own metrics (docs/bridge-guard.md "Operations"): counted where the guard decides
 * and publishes, plus two read on a cadence — open incidents from bridge_incidents (so every
 * instance of the guard exports the same number, whoever wrote the rows) and each guardian
 * quorum's diversity, from the chain at its head and from every quorum a chunk read or changed.
 * Nothing here decides anything; a failing refresh is logged and tried again next time.
 */
const OPERATIONS_REFRESH_MS = 15_000

export function createGuardOperations(options: {
  readonly registry: Registry
  readonly pool: Pool
  readonly logger: Logger
  readonly config: GuardConfig
}) {
  const { pool, logger, config } = options
  const metrics = guardOperationsMetrics(options.registry)
  // The newest quorum seen per bridge and chain wins; an older block's never overwrites it.
  const quorumBlocks = new Map<string, number>()

  const setDiversity = (
    bridge: BridgeConfig,
    chain: string,
    block: number,
    guardians: readonly string[],
    threshold: number,
  ) => {
    const key = `${bridge.id}\u0000${chain}`
    if ((quorumBlocks.get(key) ?? -1) > block) return
    quorumBlocks.set(key, block)
    metrics.guardianDiversity.set(
      { bridge: bridge.id, chain },
      threshold <= 0 ? 1 : operatorsToForge(bridge, guardians, threshold),
    )
  }

  const refreshOpenIncidents = async (): Promise<void> => {
    const { rows } = await pool.query<{ detection: string; severity: string; open: number }>(
      `SELECT detection, severity, count(*)::int AS open FROM bridge_incidents WHERE NOT withdrawn
       GROUP BY detection, severity`,
    )
    // Reset first: a detection whose last incident was withdrawn drops to no series, not a stale count.
    metrics.openIncidents.reset()
    for (const row of rows)
      metrics.openIncidents.set({ detection: row.detection, severity: row.severity }, row.open)
  }

  const refreshDiversity = async (readers: ReadonlyMap<string, ChainReader>): Promise<void> => {
    for (const bridge of config.bridges) {
      for (const [chain, gateway] of Object.entries(bridge.gateways)) {
        if (kindOf(bridge, chain) !== 'guardian-quorum') continue
        const reader = readers.get(chain)
        if (!reader) continue
        try {
          const block = await reader.blockNumber()
          const { guardians, threshold } = await reader.quorumAt(gateway, block)
          setDiversity(bridge, chain, block, guardians, threshold)
        } catch (error) {
          logger.debug({ err: describeError(error), bridge: bridge.id, chain }, 'reading the quorum failed')
        }
      }
    }
  }

  return {
    /** For createChainReaders: every evidence request, and every failed one, per endpoint. */
    rpc: {
      request: (chain: string, endpoint: string) => metrics.evidenceRequests.inc({ chain, endpoint }),
      error: (chain: string, endpoint: string) => metrics.evidenceErrors.inc({ chain, endpoint }),
    },

    /** Times one stage of a chunk. */
    async stage<T>(stage: 'evidence' | 'judge' | 'publish', work: () => Promise<T>): Promise<T> {
      const end = metrics.chunkDuration.startTimer({ stage })
      try {
        return await work()
      } finally {
        end()
      }
    },

    /** Findings a chunk recorded, counted once its transaction committed. */
    findingsCommitted(findings: readonly Finding[]) {
      for (const finding of findings)
        metrics.findings.inc({ detection: finding.detection, severity: finding.severity })
    },

    /**
     * An alert record is on the topic. `observedAt` is when its incident's first offending event
     * was observed (ms): a RAISED record's detection latency.
     */
    published(alert: Alert, observedAt: number | undefined) {
      metrics.alertRecords.inc({ status: alert.status })
      if (alert.status === 'RAISED' && observedAt !== undefined && Number.isFinite(observedAt)) {
        metrics.detectionLatency.observe(
          { detection: alert.detection || 'unknown' },
          Math.max(0, (Date.now() - observedAt) / 1000),
        )
      }
    },

    /** A quorum in force at `block` (read for a release, or set by a configuration change). */
    quorumSeen: setDiversity,
    refreshOpenIncidents,
    refreshDiversity,

    /** Refreshes both on a cadence until `signal` aborts; resolves when the loop has stopped. */
    async run(
      readers: ReadonlyMap<string, ChainReader>,
      signal: AbortSignal,
      everyMs = OPERATIONS_REFRESH_MS,
    ) {
      while (!signal.aborted) {
        await refreshOpenIncidents().catch((error: unknown) =>
          logger.warn({ err: describeError(error) }, 'counting open incidents failed'),
        )
        await refreshDiversity(readers)
        await sleep(everyMs, signal)
      }
    },
  }
}
