/**
 * Polkadot's part of `bin/veridis bench chains`: a chopsticks chain of the bench's own.
 *
 * Throughput: N NullifierUsed records (`utility.batchAll` of USES_PER_TX use keys and
 * remarks per extrinsic, signed by the attester), then two more blocks so the whole range is
 * final under the local 2-confirmation rule. The listener's catch-up over the range —
 * system.events per block, the block's extrinsics where a writer remarked, normalise, Avro,
 * Kafka (acks=all), cursor committed — is timed next to a raw read of the same range through
 * @polkadot/api (block hash, system.events and the block per height, Remarked events
 * counted), in the same run; the median of the rounds.
 *
 * Propagation: chopsticks as a peer of bench/chains/propagation.ts (an anvil, both listeners
 * and `veridis consume nullifiers` as real processes), building a block every second (the
 * local stack's clock is 12 s).
 */
import { randomInt } from 'node:crypto'
import { sleep } from '../../core/bus/retry.ts'
import { resolvePolkadotChain } from '../../producers/chains/polkadot/config.ts'
import { polkadotFamily } from '../../producers/chains/polkadot/family.ts'
import {
  encodeRemark,
  otherSignatories,
  registryAccount,
  useKey,
} from '../../producers/chains/polkadot/normalise/remark.ts'
import { cleanListenerRows } from '../../test/evm/support.ts'
import {
  chopsticksEntry,
  chopsticksPeer,
  startTestChopsticks,
  type TestChopsticks,
} from '../../test/polkadot/support.ts'
import { openTestBus, type TestBus } from '../../test/support/harness.ts'
import { median } from '../stats.ts'
import { timeCatchUp } from './catch-up.ts'
import type { FamilyBench } from './family-bench.ts'
import { measurePropagation } from './propagation.ts'

const USES_PER_TX = 40

export const benchFamily: FamilyBench = async ({ events, rounds, uses }) => {
  const testBus = await openTestBus()
  const node = await startTestChopsticks()
  const scope = BigInt(randomInt(1, 2 ** 47))
  try {
    const range = await emitUses(node, scope, events)
    const listenerMs: number[] = []
    const rawMs: number[] = []
    await timeListener(testBus, node, range, 'warmup', events)
    for (let round = 0; round < rounds; round++) {
      rawMs.push(await timeRawRead(node, range, events))
      listenerMs.push(await timeListener(testBus, node, range, `round${round}`, events))
    }
    process.stderr.write(
      `polkadot: ${events} events in blocks ${range.firstBlock}–${range.lastBlock}; listener ${listenerMs.map((ms) => ms.toFixed(0)).join('/')} ms, raw @polkadot/api ${rawMs.map((ms) => ms.toFixed(0)).join('/')} ms\n`,
    )
    // The peer's listener from the next block, a block built every second.
    const propagation = await measurePropagation(
      chopsticksPeer(node, { startBlock: (await node.head()) + 1, blockEveryMs: 1_000 }),
      uses,
    )
    return {
      family: 'polkadot',
      chain: node.chain,
      events,
      listenerEventsPerSecond: events / (median(listenerMs) / 1000),
      rawEventsPerSecond: events / (median(rawMs) / 1000),
      propagation,
    }
  } finally {
    await cleanListenerRows(testBus, [node.chain])
    await testBus.close()
    await node.stop()
  }
}

interface Range {
  readonly firstBlock: number
  readonly lastBlock: number
}

/** `events` uses of fresh nullifiers under `scope`, then two blocks more (final locally). */
async function emitUses(node: TestChopsticks, scope: bigint, events: number): Promise<Range> {
  const { api } = node
  const pair = node.pair('attester')
  const writers = [node.writers.relayer, node.writers.attester]
  const others = otherSignatories(writers, pair.address, api.registry.chainSS58 ?? 42)
  const firstBlock = (await node.head()) + 1
  let nonce = (await api.rpc.system.accountNextIndex(pair.address)).toNumber()
  for (let sent = 0; sent < events; sent += USES_PER_TX) {
    const calls = []
    for (let i = sent; i < Math.min(sent + USES_PER_TX, events); i++) {
      const nullifier = String(i + 1)
      calls.push(
        api.tx.multisig!.approveAsMulti!(2, others, null, useKey(scope.toString(), nullifier), 0 as never),
        api.tx.system!.remarkWithEvent!(
          encodeRemark({ t: 'NullifierUsed', scope: scope.toString(), nullifier, root: '1' }),
        ),
      )
    }
    const signed = await api.tx.utility!.batchAll!(calls).signAsync(pair, { nonce: nonce++, era: 0 })
    await api.rpc.author.submitExtrinsic(signed.toHex())
  }
  // The last use's key records the block that created it (its multisig timepoint).
  const registry = registryAccount(writers)
  const lastKey = useKey(scope.toString(), String(events))
  let lastBlock: number | undefined
  const deadline = Date.now() + 600_000
  while (lastBlock === undefined) {
    if (Date.now() > deadline) throw new Error('bench: the last use did not land within 10 minutes')
    const entry = (
      (await api.query.multisig!.multisigs!(registry, lastKey)) as unknown as { toJSON(): unknown }
    ).toJSON() as { when?: { height: number } } | null
    if (entry?.when) lastBlock = entry.when.height
    else await sleep(500)
  }
  await node.newBlocks(2)
  return { firstBlock, lastBlock }
}

/** Every Remarked event of the range through @polkadot/api: the node's floor. */
async function timeRawRead(node: TestChopsticks, range: Range, events: number): Promise<number> {
  const { api } = node
  const started = performance.now()
  let seen = 0
  for (let number = range.firstBlock; number <= range.lastBlock; number++) {
    const hash = await api.rpc.chain.getBlockHash(number)
    const [records] = await Promise.all([
      (await api.at(hash)).query.system!.events!(),
      api.rpc.chain.getBlock(hash),
    ])
    for (const record of records as unknown as Iterable<{ event: { section: string; method: string } }>) {
      if (record.event.section === 'system' && record.event.method === 'Remarked') seen++
    }
  }
  const elapsed = performance.now() - started
  if (seen !== events) throw new Error(`bench: the raw read saw ${seen} of ${events} remarks`)
  return elapsed
}

/** The listener engine's catch-up over the range (bench/chains/catch-up.ts). */
function timeListener(testBus: TestBus, node: TestChopsticks, range: Range, label: string, events: number) {
  const resolved = resolvePolkadotChain(
    chopsticksEntry(node, { startBlock: range.firstBlock, maxBlockRange: 1_000 }),
  )
  if (!('config' in resolved)) throw new Error(resolved.problem)
  return timeCatchUp(
    testBus,
    { family: polkadotFamily, config: resolved.config, lastBlock: range.lastBlock, events },
    label,
  )
}
