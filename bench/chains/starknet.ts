/**
 * StarkNet's part of `bin/veridis bench chains`: a starknet-devnet of the bench's own.
 *
 * Throughput: N NullifierUsed events (`record_uses`, a few hundred per transaction, one
 * devnet block each), accepted on L1 so the whole range is final. The listener's catch-up
 * over the range — starknet_getEvents pages, normalise, Avro, Kafka (acks=all), cursor
 * committed — is timed next to a raw read of the same range through starknet.js
 * (`RpcProvider.getEvents`, every page), in the same run; the median of the rounds.
 *
 * Propagation: the devnet as a peer of bench/chains/propagation.ts (an anvil, both listeners
 * and `veridis consume nullifiers` as real processes), every block accepted on L1 as it comes.
 */
import { randomInt } from 'node:crypto'
import { CallData, cairo } from 'starknet'
import { resolveStarknetChain } from '../../producers/chains/starknet/config.ts'
import { starknetFamily } from '../../producers/chains/starknet/family.ts'
import { cleanListenerRows } from '../../test/evm/support.ts'
import { devnetEntry, devnetPeer, startTestDevnet, type TestDevnet } from '../../test/starknet/support.ts'
import { openTestBus, type TestBus } from '../../test/support/harness.ts'
import { median } from '../stats.ts'
import { timeCatchUp } from './catch-up.ts'
import type { FamilyBench } from './family-bench.ts'
import { measurePropagation } from './propagation.ts'

const USES_PER_TX = 250

export const benchFamily: FamilyBench = async ({ events, rounds, uses }) => {
  const testBus = await openTestBus()
  const devnet = await startTestDevnet()
  const scope = BigInt(randomInt(1, 2 ** 47))
  try {
    const range = await emitUses(devnet, scope, events)
    const listenerMs: number[] = []
    const rawMs: number[] = []
    await timeListener(testBus, devnet, range, 'warmup', events)
    for (let round = 0; round < rounds; round++) {
      rawMs.push(await timeRawRead(devnet, range, events))
      listenerMs.push(await timeListener(testBus, devnet, range, `round${round}`, events))
    }
    process.stderr.write(
      `starknet: ${events} events; listener ${listenerMs.map((ms) => ms.toFixed(0)).join('/')} ms, raw getEvents ${rawMs.map((ms) => ms.toFixed(0)).join('/')} ms\n`,
    )
    // The peer's listener from the block after the throughput half's range.
    const propagation = await measurePropagation(
      devnetPeer(devnet, { startBlock: range.lastBlock + 1 }),
      uses,
    )
    return {
      family: 'starknet',
      chain: devnet.chain,
      events,
      listenerEventsPerSecond: events / (median(listenerMs) / 1000),
      rawEventsPerSecond: events / (median(rawMs) / 1000),
      propagation,
    }
  } finally {
    await cleanListenerRows(testBus, [devnet.chain])
    await testBus.close()
    await devnet.stop()
  }
}

interface Range {
  readonly firstBlock: number
  readonly lastBlock: number
}

/** `events` uses of fresh nullifiers under `scope`, then every block accepted on L1 (final). */
async function emitUses(devnet: TestDevnet, scope: bigint, events: number): Promise<Range> {
  const firstBlock = (await devnet.blockNumber()) + 1
  for (let sent = 0; sent < events; sent += USES_PER_TX) {
    const nullifiers = Array.from({ length: Math.min(USES_PER_TX, events - sent) }, (_, i) =>
      cairo.uint256(BigInt(sent + i + 1)),
    )
    const receipt = await devnet.invoke({
      contractAddress: devnet.deployment.contracts.NullifierRegistry,
      entrypoint: 'record_uses',
      calldata: CallData.compile({ scope: cairo.uint256(scope), nullifiers, root: cairo.uint256(1n) }),
    })
    if (receipt.execution_status !== 'SUCCEEDED') throw new Error('bench: a record_uses transaction failed')
  }
  const lastBlock = await devnet.blockNumber()
  await devnet.rpc('devnet_acceptOnL1', { starting_block_id: 'latest' })
  return { firstBlock, lastBlock }
}

/** Every NullifierUsed event of the range through starknet.js, all pages: the node's floor. */
async function timeRawRead(devnet: TestDevnet, range: Range, events: number): Promise<number> {
  const started = performance.now()
  let seen = 0
  let continuationToken: string | undefined
  do {
    const page = await devnet.provider.getEvents({
      address: devnet.deployment.contracts.NullifierRegistry,
      from_block: { block_number: range.firstBlock },
      to_block: { block_number: range.lastBlock },
      chunk_size: 1_000,
      ...(continuationToken ? { continuation_token: continuationToken } : {}),
    })
    seen += page.events.length
    continuationToken = page.continuation_token
  } while (continuationToken)
  const elapsed = performance.now() - started
  if (seen !== events) throw new Error(`bench: starknet_getEvents returned ${seen} of ${events} events`)
  return elapsed
}

/** The listener engine's catch-up over the range (bench/chains/catch-up.ts). */
function timeListener(testBus: TestBus, devnet: TestDevnet, range: Range, label: string, events: number) {
  const resolved = resolveStarknetChain(
    devnetEntry(devnet, { startBlock: range.firstBlock, maxBlockRange: 10_000, eventsPageSize: 1_000 }),
  )
  if (!('config' in resolved)) throw new Error(resolved.problem)
  return timeCatchUp(
    testBus,
    { family: starknetFamily, config: resolved.config, lastBlock: range.lastBlock, events },
    label,
  )
}
