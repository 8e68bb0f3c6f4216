/**
 * Chain listeners, per family: listener events/s into Kafka against a raw read of the same
 * range through the family's own client in the same run, and nullifier propagation latency
 * per pair of chains (p50/p99).
 *
 *   bin/veridis bench chains [--family cosmos] [--events 2000] [--rounds 3] [--uses 20]
 */
import type { FamilyBenchResult } from './chains/family-bench.ts'
import { FAMILY_BENCHES } from './chains/index.ts'

export async function benchChains(options: {
  family?: string
  events: number
  rounds: number
  uses: number
}): Promise<FamilyBenchResult[]> {
  const families = options.family ? [options.family] : Object.keys(FAMILY_BENCHES)
  const results: FamilyBenchResult[] = []
  for (const family of families) {
    const load = FAMILY_BENCHES[family]
    if (!load) {
      throw new Error(`no chain bench for '${family}'; known: ${Object.keys(FAMILY_BENCHES).join(', ')}`)
    }
    const { benchFamily } = await load()
    results.push(await benchFamily(options))
  }
  return results
}

export function printChainsBench(results: readonly FamilyBenchResult[]) {
  const line = (cells: readonly string[]) => process.stdout.write(`${cells.join('  ')}\n`)
  line([
    'family'.padEnd(10),
    'chain'.padEnd(44),
    'events'.padStart(7),
    'listener/s'.padStart(11),
    'raw/s'.padStart(9),
    'ratio'.padStart(6),
  ])
  for (const r of results) {
    line([
      r.family.padEnd(10),
      r.chain.padEnd(44),
      String(r.events).padStart(7),
      r.listenerEventsPerSecond.toFixed(0).padStart(11),
      r.rawEventsPerSecond.toFixed(0).padStart(9),
      (r.listenerEventsPerSecond / r.rawEventsPerSecond).toFixed(3).padStart(6),
    ])
  }
  process.stdout.write('\npropagation (use recorded on the source → recorded on the target)\n')
  for (const r of results) {
    for (const p of r.propagation) {
      line([
        `${p.from} → ${p.to}`.padEnd(70),
        `n=${p.samples}`.padStart(6),
        `p50 ${p.p50Ms.toFixed(0)} ms`.padStart(12),
        `p99 ${p.p99Ms.toFixed(0)} ms`.padStart(12),
      ])
    }
  }
}
