import {
  type AnomalyParams,
  scoreSeries,
  type WindowStat,
} from '../consumers/bridge-guard/detections/anomaly.ts'

/**
 * `bin/veridis bench anomaly`: precision and recall of the bridge guard's anomaly detector
 * (consumers/bridge-guard/detections/anomaly.ts) on a labelled set this file generates —
 * seeded, so every run of one seed is the same set. docs/bridge-anomaly.md reports the numbers.
 *
 * Benign traffic per corridor: a base rate drawn log-uniformly (1–60 transfers per 5-minute
 * window), a diurnal swing (±30–80 % around it, random phase), benign bursts (1 % of windows
 * start one: 1–6 windows at 1.3–2.5 × the rate) and transfer sizes drawn log-uniformly over
 * five orders of magnitude (0.01–1,000 tokens). Injected into 0.4 % of windows after a warm-up
 * day, each window labelled:
 *   - count: 2–10 × the window's expected transfers on top, of ordinary sizes (a bot draining
 *     in small pieces, Nomad's copy-paste releases);
 *   - volume: 1–3 extra transfers that together carry 3–30 × the window's expected value
 *     (a few large forged releases);
 *   - drain: both at once.
 */
export type AnomalyType = 'count' | 'volume' | 'drain'

export interface LabelledCorridor {
  readonly windows: WindowStat[]
  /** Per window: the anomaly injected in it, if any. */
  readonly labels: (AnomalyType | undefined)[]
}

export interface GeneratorOptions {
  readonly seed: number
  readonly corridors: number
  readonly days: number
  readonly windowMs?: number
  /** Share of windows (after the first day) that carry an injected anomaly. */
  readonly anomalyShare?: number
}

const DAY_MS = 86_400_000
const UNIT = 1e18

/** mulberry32: small, seeded, good enough for traffic shapes. */
function random(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function generateLabelledCorridors(options: GeneratorOptions): LabelledCorridor[] {
  const rand = random(options.seed)
  const windowMs = options.windowMs ?? 300_000
  const anomalyShare = options.anomalyShare ?? 0.004
  const perDay = Math.round(DAY_MS / windowMs)
  const total = perDay * options.days
  const between = (low: number, high: number) => low + (high - low) * rand()
  const logUniform = (low: number, high: number) => Math.exp(between(Math.log(low), Math.log(high)))
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const poisson = (lambda: number) => {
    if (lambda <= 0) return 0
    if (lambda > 40) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian()))
    const limit = Math.exp(-lambda)
    let k = 0
    let p = rand()
    while (p > limit) {
      k++
      p *= rand()
    }
    return k
  }
  const transfer = () => logUniform(0.01, 1_000) * UNIT
  // Mean of the log-uniform transfer size, for "the window's expected value".
  const meanTransfer = ((1_000 - 0.01) / Math.log(1_000 / 0.01)) * UNIT
  const start = Date.UTC(2026, 0, 5)

  return Array.from({ length: options.corridors }, () => {
    const base = logUniform(1, 60)
    const swing = between(0.3, 0.8)
    const phase = between(0, 2 * Math.PI)
    const windows: WindowStat[] = []
    const labels: (AnomalyType | undefined)[] = []
    let burstLeft = 0
    let burstFactor = 1
    for (let index = 0; index < total; index++) {
      const diurnal = 1 + swing * Math.sin((2 * Math.PI * index) / perDay + phase)
      if (burstLeft === 0 && rand() < 0.01) {
        burstLeft = 1 + Math.floor(rand() * 6)
        burstFactor = between(1.3, 2.5)
      }
      const expected = base * diurnal * (burstLeft > 0 ? burstFactor : 1)
      if (burstLeft > 0) burstLeft--
      let count = poisson(expected)
      let volume = 0
      for (let i = 0; i < count; i++) volume += transfer()
      let label: AnomalyType | undefined
      if (index >= perDay && rand() < anomalyShare) {
        label = (['count', 'volume', 'drain'] as const)[Math.floor(rand() * 3)]!
        if (label === 'count' || label === 'drain') {
          const extra = Math.max(1, poisson(between(2, 10) * expected))
          for (let i = 0; i < extra; i++) volume += transfer()
          count += extra
        }
        if (label === 'volume' || label === 'drain') {
          const pieces = 1 + Math.floor(rand() * 3)
          volume += between(3, 30) * Math.max(expected, 1) * meanTransfer
          count += pieces
        }
      }
      windows.push({ start: start + index * windowMs, count, volume })
      labels.push(label)
    }
    return { windows, labels }
  })
}

export interface AnomalyEvaluation {
  readonly windows: number
  readonly injected: number
  readonly flagged: number
  readonly truePositives: number
  readonly falsePositives: number
  readonly precision: number
  readonly recall: number
  readonly recallByType: Readonly<Record<AnomalyType, number>>
}

export function evaluateAnomalyDetector(
  corridors: readonly LabelledCorridor[],
  params: AnomalyParams & { readonly baselineWindows: number },
): AnomalyEvaluation {
  let windows = 0
  let flagged = 0
  let truePositives = 0
  const injected = { count: 0, volume: 0, drain: 0 }
  const caught = { count: 0, volume: 0, drain: 0 }
  for (const corridor of corridors) {
    const scores = scoreSeries(corridor.windows, params)
    scores.forEach((score, index) => {
      windows++
      const label = corridor.labels[index]
      if (label) injected[label]++
      if (!score.anomalous) return
      flagged++
      if (label) {
        truePositives++
        caught[label]++
      }
    })
  }
  const allInjected = injected.count + injected.volume + injected.drain
  const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b)
  return {
    windows,
    injected: allInjected,
    flagged,
    truePositives,
    falsePositives: flagged - truePositives,
    precision: ratio(truePositives, flagged),
    recall: ratio(truePositives, allInjected),
    recallByType: {
      count: ratio(caught.count, injected.count),
      volume: ratio(caught.volume, injected.volume),
      drain: ratio(caught.drain, injected.drain),
    },
  }
}

/** The detector's defaults (core/bridge/config.ts), in the units this bench works in. */
export const DEFAULT_ANOMALY_PARAMS = {
  baselineWindows: 48,
  minBaselineWindows: 24,
  threshold: 5,
  minRatio: 4,
  minVolume: 0,
} as const

export function benchAnomaly(options: { seed: number; corridors: number; days: number }) {
  const corridors = generateLabelledCorridors(options)
  return {
    options,
    params: DEFAULT_ANOMALY_PARAMS,
    result: evaluateAnomalyDetector(corridors, DEFAULT_ANOMALY_PARAMS),
    thresholds: [
      [3, 4],
      [4, 4],
      [5, 2],
      [5, 3],
      [5, 4],
      [6, 4],
      [8, 4],
    ].map(([threshold, minRatio]) => ({
      threshold: threshold!,
      minRatio: minRatio!,
      ...evaluateAnomalyDetector(corridors, {
        ...DEFAULT_ANOMALY_PARAMS,
        threshold: threshold!,
        minRatio: minRatio!,
      }),
    })),
  }
}

export function printAnomalyBench(bench: ReturnType<typeof benchAnomaly>) {
  const { options, params, result } = bench
  const pct = (value: number) => `${(value * 100).toFixed(1)} %`
  const lines = [
    `anomaly detector on a generated labelled set: seed ${options.seed}, ${options.corridors} corridors × ${options.days} days of 5-minute windows`,
    `parameters: baseline ${params.baselineWindows} windows (scored after ${params.minBaselineWindows}), z ≥ ${params.threshold} and ≥ ${params.minRatio} × the median`,
    `windows ${result.windows}, injected anomalies ${result.injected}, flagged ${result.flagged} (true ${result.truePositives}, false ${result.falsePositives})`,
    `precision ${pct(result.precision)}  recall ${pct(result.recall)}  (recall by type: count ${pct(result.recallByType.count)}, volume ${pct(result.recallByType.volume)}, drain ${pct(result.recallByType.drain)})`,
    '',
    '    z  ratio   precision   recall   false positives per 1,000 benign windows',
    ...bench.thresholds.map(
      (row) =>
        `${String(row.threshold).padStart(5)}  ${String(row.minRatio).padStart(5)}   ${pct(row.precision).padStart(9)}   ${pct(row.recall).padStart(6)}   ${(
          (row.falsePositives / (row.windows - row.injected)) * 1000
        ).toFixed(2)}`,
    ),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}
