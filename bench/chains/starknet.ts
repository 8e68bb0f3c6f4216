/**
 * StarkNet's part of `bin/veridis bench chains`: a starknet-devnet of the bench's own.
 *
 * Throughput: N NullifierUsed events (`record_uses`, a few hundred per transaction, one
 * devnet block each), accepted on L1 so the whole range is final. The listener's catch-up
 * over the range — starknet_getEvents pages, normalise, Avro, Kafka (acks=all), cursor
 * committed — is timed next to a raw read of the same range through starknet.js
 * (`RpcProvider.getEvents`, every page), in the same run; the median of the rounds.
 *
 * Propagation: an anvil beside the devnet, both listeners and `veridis consume nullifiers`
 * as real processes in a namespace of the bench's own. The clock starts when the bench has
 * the use's receipt and stops when the other chain's registry answers `isUsed` (polled every
 * 50 ms), so each sample is what a user of the second chain would see.
 */
import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { CallData, cairo } from 'starknet'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { createBusProducer } from '../../core/bus/producer.ts'
import { sleep } from '../../core/bus/retry.ts'
import { chainMetrics } from '../../core/metrics/protocol.ts'
import { createChainFollower } from '../../producers/chains/common/engine.ts'
import { createChainEventPublisher } from '../../producers/chains/common/publisher.ts'
import { createCursorStore } from '../../producers/chains/common/store/cursor-store.ts'
import { createListenerStateWriter } from '../../producers/chains/common/store/listener-state.ts'
import { resolveStarknetChain } from '../../producers/chains/starknet/config.ts'
import { starknetFamily } from '../../producers/chains/starknet/family.ts'
import {
  chainEntry,
  cleanListenerRows,
  type ListenerProcess,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from '../../test/evm/support.ts'
import {
  devnetEntry,
  STARKNET_DEV_ACCOUNT,
  startStarknetListener,
  startTestDevnet,
  type TestDevnet,
  writeStarknetConfig,
} from '../../test/starknet/support.ts'
import { type ConsumerProcess, startConsumerProcess } from '../../test/support/consumer-process.ts'
import { openTestBus, type TestBus } from '../../test/support/harness.ts'
import { type FamilyBench, type PropagationFigure, percentile } from './family-bench.ts'

const USES_PER_TX = 250
const POLL_MS = 50

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

export const benchFamily: FamilyBench = async ({ events, rounds, uses }) => {
  const testBus = await openTestBus()
  const [devnet, anvil] = await Promise.all([startTestDevnet(), startTestChain({ blockTime: 1 })])
  const scope = BigInt(randomInt(1, 2 ** 47))
  try {
    const range = await emitUses(devnet, scope, events)
    const listenerMs: number[] = []
    const rawMs: number[] = []
    await timeListener(testBus, devnet, range, 'warmup')
    for (let round = 0; round < rounds; round++) {
      rawMs.push(await timeRawRead(devnet, range, events))
      listenerMs.push(await timeListener(testBus, devnet, range, `round${round}`))
    }
    process.stderr.write(
      `starknet: ${events} events; listener ${listenerMs.map((ms) => ms.toFixed(0)).join('/')} ms, raw getEvents ${rawMs.map((ms) => ms.toFixed(0)).join('/')} ms\n`,
    )
    const propagation = await measurePropagation(testBus, devnet, anvil, scope, uses)
    return {
      family: 'starknet',
      chain: devnet.chain,
      events,
      listenerEventsPerSecond: events / (median(listenerMs) / 1000),
      rawEventsPerSecond: events / (median(rawMs) / 1000),
      propagation,
    }
  } finally {
    await cleanListenerRows(testBus, [devnet.chain, anvil.chain])
    await testBus.close()
    await Promise.all([devnet.stop(), anvil.stop()])
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

/** A fresh listener (its own cursor) from the range's first block until its cursor passes the last. */
async function timeListener(testBus: TestBus, devnet: TestDevnet, range: Range, label: string) {
  const { common, bus, pool } = testBus
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: `bench-starknet-${label}`,
    topics: [bus.topics.attestation.name, bus.topics.nullifier.name],
  })
  await producer.connect()
  const publisher = createChainEventPublisher({ bus, producer })
  const store = createCursorStore(pool, `${testBus.namespace}-${label}`)
  const resolved = resolveStarknetChain(
    devnetEntry(devnet, { startBlock: range.firstBlock, maxBlockRange: 10_000, eventsPageSize: 1_000 }),
  )
  if (!('config' in resolved)) throw new Error(resolved.problem)
  const follower = createChainFollower({
    common,
    source: starknetFamily.createSource(resolved.config, { logger: common.logger, onRpcError: () => {} }),
    settings: resolved.config,
    store,
    state: createListenerStateWriter(pool),
    metrics: chainMetrics(common.metrics.registry),
    publish: (batch) => publisher.publish(batch),
  })
  const controller = new AbortController()
  const started = performance.now()
  const loop = follower.run(controller.signal)
  while (((await store.cursor(devnet.chain))?.cursorBlock ?? -1) < range.lastBlock) await sleep(2)
  const elapsed = performance.now() - started
  controller.abort()
  await loop
  await store.clear(devnet.chain)
  await producer.disconnect()
  return elapsed
}

/** Uses alternate between the devnet and the anvil; each is timed until the other chain has it. */
async function measurePropagation(
  testBus: TestBus,
  devnet: TestDevnet,
  anvil: TestChain,
  scope: bigint,
  uses: number,
): Promise<PropagationFigure[]> {
  const evmConfig = writeEvmConfig([
    chainEntry(anvil, { finality: { rule: 'confirmations', confirmations: 1 } }),
  ])
  const starknetConfig = writeStarknetConfig([devnetEntry(devnet)])
  const relayer = devnet.accounts[STARKNET_DEV_ACCOUNT.relayer]!
  const processes: (ListenerProcess | ConsumerProcess)[] = []
  try {
    processes.push(
      await startListener({ namespace: testBus.namespace, configFile: evmConfig, chains: [anvil.chain] }),
      await startStarknetListener({
        namespace: testBus.namespace,
        configFile: starknetConfig,
        chains: [devnet.chain],
      }),
      await startConsumerProcess({
        name: 'nullifiers',
        namespace: testBus.namespace,
        env: {
          VERIDIS_EVM_CONFIG: evmConfig,
          VERIDIS_STARKNET_CONFIG: starknetConfig,
          VERIDIS_RELAYER_CHAINS: `${anvil.chain},${devnet.chain}`,
          VERIDIS_RELAYER_STARKNET_ACCOUNT: relayer.address,
          VERIDIS_RELAYER_STARKNET_PRIVATE_KEY: relayer.privateKey,
        },
      }),
    )
    const registry = new Contract(
      anvil.deployment.contracts.NullifierRegistry,
      loadArtifact('NullifierRegistry').abi as InterfaceAbi,
      anvil.signer(DEV_ACCOUNT.protocol),
    )
    const usedOnAnvil = async (nullifier: bigint) =>
      (await registry.getFunction('isUsed')(scope, nullifier)) as boolean
    const usedOnDevnet = async (nullifier: bigint) => {
      const [flag] = await devnet.provider.callContract({
        contractAddress: devnet.deployment.contracts.NullifierRegistry,
        entrypoint: 'is_used',
        calldata: CallData.compile({ scope: cairo.uint256(scope), nullifier: cairo.uint256(nullifier) }),
      })
      return BigInt(flag ?? 0) === 1n
    }
    const samples = { toAnvil: [] as number[], toDevnet: [] as number[] }
    // The devnet finalises on L1 acceptance only: accept every block as it comes, as L1 would.
    const acceptor = setInterval(() => {
      devnet.rpc('devnet_acceptOnL1', { starting_block_id: 'latest' }).catch(() => {})
    }, 200)
    try {
      for (let index = 0; index < 2 * uses; index++) {
        const nullifier = BigInt(50_000_000 + index)
        if (index % 2 === 0) {
          await devnet.invoke({
            contractAddress: devnet.deployment.contracts.NullifierRegistry,
            entrypoint: 'record_use',
            calldata: CallData.compile({
              scope: cairo.uint256(scope),
              nullifier: cairo.uint256(nullifier),
              root: cairo.uint256(1n),
            }),
          })
          samples.toAnvil.push(await timeUntil(() => usedOnAnvil(nullifier)))
        } else {
          const receipt = await (await registry.getFunction('recordUse')(scope, nullifier, 1n)).wait()
          if (receipt?.status !== 1) throw new Error('bench: a recordUse on the anvil failed')
          samples.toDevnet.push(await timeUntil(() => usedOnDevnet(nullifier)))
        }
      }
    } finally {
      clearInterval(acceptor)
    }
    const figure = (from: string, to: string, values: number[]): PropagationFigure => ({
      from,
      to,
      samples: values.length,
      p50Ms: percentile(values, 50),
      p99Ms: percentile(values, 99),
    })
    return [
      figure(devnet.chain, anvil.chain, samples.toAnvil),
      figure(anvil.chain, devnet.chain, samples.toDevnet),
    ]
  } finally {
    for (const process of processes.reverse()) await process.kill('SIGTERM')
    for (const table of [
      'nullifier_propagations',
      'nullifier_alerts',
      'nullifier_status',
      'nullifier_uses',
    ]) {
      await testBus.pool.query(`DELETE FROM ${table} WHERE scope = $1`, [scope.toString()])
    }
  }
}

async function timeUntil(done: () => Promise<boolean>): Promise<number> {
  const started = Date.now()
  const deadline = started + 120_000
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('bench: a use was not propagated within 120 s')
    await sleep(POLL_MS)
  }
  return Date.now() - started
}
