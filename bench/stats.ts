/** Order statistics shared by the benches. */

/** The nearest-rank percentile (p in 0–100) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** The middle value (the upper one of an even count), as the rounds' medians have always been taken. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
}
