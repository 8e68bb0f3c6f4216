/**
 * Nullifier propagation latency: from a use mined on one chain to its registration mined
 * on the other, through the whole path — listener (websocket new heads) → Kafka → the
 * nullifier consumer (record, isUsed, sign, broadcast) → the target chain's next block.
 *
 *   bin/veridis bench nullifiers [--events 40]
 *
 * Two anvils of the bench's own with 1-second blocks, a real `veridis listen evm` and a real
 * `veridis consume nullifiers` in a namespace of their own. Uses alternate between the two
 * chains, a quarter second apart. The clock starts when the bench sees the use's receipt and
 * stops when it sees the target registry answer `isUsed` = true (both polled every 50 ms), so
 * each figure is a wall-clock latency as a user of the second chain would see it. Next to it,
 * the consumer's own figure from the outcome records (the listener's observed-at of the use to
 * the consumer seeing the relayed transaction's receipt).
 */
import { sleep } from '../core/bus/retry.ts'
import type { TestChain } from '../test/evm/support.ts'
import { startNullifierWorld } from '../test/nullifiers/support.ts'
import { eventually } from '../test/support/harness.ts'
import { percentile } from './stats.ts'

const SPACING_MS = 250
const POLL_MS = 50

interface Sample {
  readonly pair: string
  readonly wallMs: number
  readonly consumerMs: number | null
}

export async function benchNullifiers(events: number) {
  const world = await startNullifierWorld({ blockTime: 1 })
  try {
    await world.startConsumer()
    const registries = new Map(
      [world.a, world.b].map((chain) => [chain.chain, world.protocolRegistry(chain)] as const),
    )
    const used = async (chain: TestChain, nullifier: bigint) =>
      (await registries.get(chain.chain)!.getFunction('isUsed')(world.scope, nullifier)) as boolean

    const one = async (index: number): Promise<Sample> => {
      const [source, target] = index % 2 === 0 ? [world.a, world.b] : [world.b, world.a]
      const nullifier = BigInt(10_000_000 + index)
      const registry = registries.get(source.chain)!
      const receipt = await (await registry.getFunction('recordUse')(world.scope, nullifier, 1n)).wait(
        1,
        120_000,
      )
      if (receipt?.status !== 1) throw new Error(`bench: use ${index} failed on ${source.chain}`)
      const minedSeen = Date.now()
      while (!(await used(target, nullifier))) await sleep(POLL_MS)
      const wallMs = Date.now() - minedSeen
      const outcome = await eventually(
        async () => world.outcomes.records.find((record) => record.value.nullifier === nullifier.toString()),
        60_000,
        `outcome of use ${index}`,
      )
      if (outcome.value.outcome !== 'PROPAGATED')
        throw new Error(`bench: use ${index} ended ${outcome.value.outcome} (${outcome.value.reason ?? ''})`)
      return { pair: `${source.chain} → ${target.chain}`, wallMs, consumerMs: outcome.value.latencyMs }
    }

    // Each chain's uses come from its PROTOCOL account's NonceManager: sends are issued in
    // order, a quarter second apart, and followed concurrently.
    const samples: Promise<Sample>[] = []
    for (let index = 0; index < events; index++) {
      samples.push(one(index))
      await sleep(SPACING_MS)
    }
    const results = await Promise.all(samples)
    return { events, chains: [world.a.chain, world.b.chain], samples: results }
  } finally {
    await world.close()
  }
}

export function printNullifiersBench(result: Awaited<ReturnType<typeof benchNullifiers>>) {
  const line = (label: string, values: readonly number[]) =>
    `  ${label.padEnd(44)} p50 ${percentile(values, 50).toFixed(0).padStart(5)} ms   p99 ${percentile(
      values,
      99,
    )
      .toFixed(0)
      .padStart(5)} ms   max ${Math.max(...values)
      .toFixed(0)
      .padStart(5)} ms   (n=${values.length})`
  const wall = result.samples.map((sample) => sample.wallMs)
  const consumer = result.samples.flatMap((sample) => (sample.consumerMs === null ? [] : [sample.consumerMs]))
  const pairs = [...new Set(result.samples.map((sample) => sample.pair))]
  const lines = [
    `Nullifier propagation: ${result.events} uses alternating between ${result.chains.join(' and ')} (anvil, 1-second blocks)`,
    line('use mined → registered on the other chain', wall),
    ...pairs.map((pair) =>
      line(
        `  ${pair}`,
        result.samples.filter((sample) => sample.pair === pair).map((sample) => sample.wallMs),
      ),
    ),
    line('consumer: use observed → relay receipt seen', consumer),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}
