/**
 * Cosmos's part of `bin/veridis bench chains`: N nullifier uses on a wasmd chain of the bench's
 * own (record_use messages, 50 per transaction), then, in the same run over the same height range:
 *   listener  a fresh in-process listener engine catching the range up: tx_search pages →
 *             block ids → normalise → Avro → Kafka (acks=all) → cursor committed;
 *   raw       the same range read through cosmjs's own CometBFT client (@cosmjs/tendermint-rpc
 *             `connectComet` → txSearchAll), its events decoded, nothing published.
 * Propagation latency per direction against an anvil: the chain as a peer of
 * bench/chains/propagation.ts.
 */
import { connectComet } from '@cosmjs/tendermint-rpc'
import { resolveCosmosChain } from '../../producers/chains/cosmos/config.ts'
import { cosmosFamily } from '../../producers/chains/cosmos/family.ts'
import { recordManyUses, startTestWasmd, wasmdEntry, wasmdPeer } from '../../test/cosmos/support.ts'
import { openTestBus } from '../../test/support/harness.ts'
import { median } from '../stats.ts'
import { timeCatchUp } from './catch-up.ts'
import type { FamilyBench } from './family-bench.ts'
import { measurePropagation } from './propagation.ts'

export const benchFamily: FamilyBench = async (options) => {
  const node = await startTestWasmd()
  const testBus = await openTestBus()
  try {
    const nullifiers = Array.from({ length: options.events }, (_, i) => BigInt(i + 1))
    const txs = await recordManyUses(node, 91n, nullifiers)
    const firstHeight = Math.min(...txs.map((tx) => tx.height))
    const lastHeight = Math.max(...txs.map((tx) => tx.height))

    const resolved = resolveCosmosChain(
      wasmdEntry(node, { startBlock: firstHeight, maxBlockRange: lastHeight - firstHeight + 1 }),
    )
    if (!('config' in resolved)) throw new Error(resolved.problem)
    const range = {
      family: cosmosFamily,
      config: resolved.config,
      lastBlock: lastHeight,
      events: options.events,
    }
    const timeListener = (label: string) => timeCatchUp(testBus, range, label)

    const comet = await connectComet(node.url)
    const raw = async () => {
      const started = performance.now()
      const found = await comet.txSearchAll({
        query: `execute._contract_address='${node.deployment.registry}' AND tx.height>=${firstHeight} AND tx.height<=${lastHeight}`,
        per_page: 100,
      })
      let uses = 0
      for (const tx of found.txs) {
        for (const event of tx.result.events) if (event.type === 'wasm-veridis_nullifier_used') uses++
      }
      const elapsed = performance.now() - started
      if (uses < options.events) throw new Error(`bench: raw read ${uses} uses`)
      return elapsed
    }

    await timeListener('warmup')
    const listenerMs: number[] = []
    const rawMs: number[] = []
    for (let round = 0; round < options.rounds; round++) {
      rawMs.push(await raw())
      listenerMs.push(await timeListener(`round${round}`))
    }
    comet.disconnect()
    await testBus.pool.query('DELETE FROM chain_listener_state WHERE chain = $1', [node.chain])

    // The peer's listener from the current height: the range above is the throughput half's.
    const propagation = await measurePropagation(
      wasmdPeer(node, { startBlock: await node.height() }),
      options.uses,
    )
    return {
      family: 'cosmos',
      chain: node.chain,
      events: options.events,
      listenerEventsPerSecond: options.events / (median(listenerMs) / 1000),
      rawEventsPerSecond: options.events / (median(rawMs) / 1000),
      propagation,
    }
  } finally {
    await testBus.close()
    await node.stop()
  }
}
