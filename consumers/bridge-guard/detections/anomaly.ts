import type { BridgeConfig, TokenConfig } from '../../../core/bridge/config.ts'
import type { Finding } from './finding.ts'

/**
 * Invariant (statistical, not a proof): per corridor — bridge, chain, token and direction
 * (value entering the bridge on that chain: locks and burns; value leaving it: mints and
 * unlocks) — the number of transfers and the value moved in one window stay within what the
 * corridor's own recent past makes plausible. The score is a robust z-score, one-sided (only
 * spikes): (x − median) / (1.4826 · MAD) over a rolling baseline of the previous windows.
 *
 * - count: the baseline is every window since the corridor's first transfer, empty ones
 *   included; the scale never falls below √median (the Poisson noise of a count) or 1.
 * - volume: on a log scale (one whale transfer is not an attack), against the baseline's
 *   non-empty windows only (a sparse corridor's typical window is "nothing happened", which
 *   says nothing about how big its transfers are); the scale never falls below 0.25 (e^0.25).
 * - A window is only scored once the baseline holds `minBaselineWindows` windows (and, for
 *   volume, half as many non-empty ones), and a volume spike below the token's
 *   `anomalyMinVolume` is not reported.
 *
 * What it catches, what it cannot, and its measured precision and recall on a generated
 * labelled set: docs/bridge-anomaly.md (`bin/veridis bench anomaly`). Forta's "anomalous
 * volume" detector in its Bridge Threat Detection Kit is the prior art.
 */
export interface WindowStat {
  /** Window start, ms since the epoch. */
  readonly start: number
  readonly count: number
  /** Value moved in the window, in token base units (a float is precise enough for statistics). */
  readonly volume: number
}

export interface AnomalyParams {
  readonly minBaselineWindows: number
  readonly threshold: number
  /**
   * Effect size, besides significance: the window must also hold at least this many times the
   * baseline median (transfers, or value for volume). On a busy corridor a z-score alone calls
   * a benign doubling significant; this keeps such bursts out.
   */
  readonly minRatio: number
  /** Volume spikes below this (token base units) are not reported. */
  readonly minVolume: number
}

export interface Score {
  readonly value: number
  readonly median: number
  readonly mad: number
  readonly scale: number
  readonly z: number
}

export interface WindowScore {
  readonly count: Score | undefined
  readonly volume: Score | undefined
  readonly anomalous: boolean
  /** Which measures crossed the threshold. */
  readonly measures: readonly ('count' | 'volume')[]
}

const MAD_TO_SIGMA = 1.4826
const VOLUME_SCALE_FLOOR = 0.25

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function robust(values: readonly number[], value: number, floor: (median: number) => number): Score {
  const m = median(values)
  const mad = median(values.map((entry) => Math.abs(entry - m)))
  const scale = Math.max(MAD_TO_SIGMA * mad, floor(m))
  return { value, median: m, mad, scale, z: (value - m) / scale }
}

const logVolume = (volume: number) => Math.log1p(volume)

/** Scores one window against the windows before it (oldest first, consecutive, empty ones included). */
export function scoreWindow(
  baseline: readonly WindowStat[],
  current: WindowStat,
  params: AnomalyParams,
): WindowScore {
  if (baseline.length < params.minBaselineWindows) {
    return { count: undefined, volume: undefined, anomalous: false, measures: [] }
  }
  const count = robust(
    baseline.map((window) => window.count),
    current.count,
    (m) => Math.max(Math.sqrt(m), 1),
  )
  const active = baseline.filter((window) => window.count > 0).map((window) => logVolume(window.volume))
  const volume =
    current.count > 0 && active.length >= Math.ceil(params.minBaselineWindows / 2)
      ? robust(active, logVolume(current.volume), () => VOLUME_SCALE_FLOOR)
      : undefined
  const measures: ('count' | 'volume')[] = []
  const ratio = Math.log(params.minRatio)
  if (count.z >= params.threshold && current.count >= params.minRatio * Math.max(count.median, 1))
    measures.push('count')
  if (
    volume &&
    volume.z >= params.threshold &&
    volume.value - volume.median >= ratio &&
    current.volume >= params.minVolume
  )
    measures.push('volume')
  return { count, volume, anomalous: measures.length > 0, measures }
}

/**
 * Every window of a series scored against the `baselineWindows` before it: what the monitor
 * does window by window, and what the benchmark measures precision and recall on.
 */
export function scoreSeries(
  series: readonly WindowStat[],
  params: AnomalyParams & { readonly baselineWindows: number },
): WindowScore[] {
  return series.map((window, index) =>
    scoreWindow(series.slice(Math.max(0, index - params.baselineWindows), index), window, params),
  )
}

/**
 * A corridor's buckets (any granularity finer than the window) as consecutive windows from
 * `from` to `until` (both window boundaries), empty windows included.
 */
export function windowsOf(
  buckets: readonly { readonly at: number; readonly count: number; readonly volume: number }[],
  windowMs: number,
  from: number,
  until: number,
): WindowStat[] {
  const windows = Math.max(0, Math.floor((until - from) / windowMs))
  const stats = Array.from({ length: windows }, (_, index) => ({
    start: from + index * windowMs,
    count: 0,
    volume: 0,
  }))
  for (const bucket of buckets) {
    if (bucket.at < from) continue
    const stat = stats[Math.floor((bucket.at - from) / windowMs)]
    if (!stat) continue
    stat.count += bucket.count
    stat.volume += bucket.volume
  }
  return stats
}

export interface Corridor {
  readonly bridge: BridgeConfig
  readonly token: TokenConfig
  readonly chain: string
  /** in: locks and burns on `chain` (value entering the bridge); out: mints and unlocks. */
  readonly direction: 'in' | 'out'
}

export const corridorScope = (corridor: Corridor) =>
  `${corridor.bridge.id}:${corridor.chain}:${corridor.token.symbol}:${corridor.direction}`

const fixed = (value: number | undefined) => (value === undefined ? '' : value.toPrecision(6))

export function anomalyFinding(
  corridor: Corridor,
  window: WindowStat,
  windowMs: number,
  score: WindowScore,
): Finding {
  const scope = corridorScope(corridor)
  const subject = `anomaly:${scope}:${window.start}`
  const what = score.measures
    .map((measure) =>
      measure === 'count'
        ? `${window.count} transfers (median ${fixed(score.count?.median)}, z ${fixed(score.count?.z)})`
        : `${window.volume.toPrecision(6)} moved (log-median ${fixed(score.volume?.median)}, z ${fixed(score.volume?.z)})`,
    )
    .join(' and ')
  const span = `${new Date(window.start).toISOString()} + ${windowMs / 1000} s`
  return {
    detection: 'anomaly',
    kind: 'ABNORMAL_FLOW',
    severity: 'MEDIUM',
    scope,
    key: score.measures.join('+'),
    subject: { eventId: subject, chain: corridor.chain },
    summary: `abnormal ${corridor.direction === 'in' ? 'inflow' : 'outflow'} of ${corridor.token.symbol} on ${corridor.chain} (bridge ${corridor.bridge.id}) in ${span}: ${what}`,
    evidence: [
      { eventId: subject, chain: corridor.chain, txHash: null, blockNumber: null, role: `window ${span}` },
    ],
    details: {
      windowStart: String(window.start),
      windowMs: String(windowMs),
      count: String(window.count),
      volume: window.volume.toPrecision(12),
      countMedian: fixed(score.count?.median),
      countMad: fixed(score.count?.mad),
      countZ: fixed(score.count?.z),
      logVolumeMedian: fixed(score.volume?.median),
      logVolumeMad: fixed(score.volume?.mad),
      volumeZ: fixed(score.volume?.z),
      measures: score.measures.join(','),
    },
    chains: [corridor.chain],
  }
}
