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
 * Propagation: an anvil beside the chain, both listeners and `veridis consume nullifiers` as
 * real processes in a namespace of the bench's own, chopsticks building a block every second
 * (the local stack's clock is 6 s, a Polkadot slot). The clock starts when the bench has the
 * use in a block and stops when the other chain answers "used" (polled every 50 ms).
 */
import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { createBusProducer } from '../../core/bus/producer.ts'
import { sleep } from '../../core/bus/retry.ts'
import { chainMetrics } from '../../core/metrics/protocol.ts'
import { POLKADOT_DEV_WRITERS } from '../../infra/stack/chopsticks.ts'
import { createChainFollower } from '../../producers/chains/common/engine.ts'
import { createChainEventPublisher } from '../../producers/chains/common/publisher.ts'
import { createCursorStore } from '../../producers/chains/common/store/cursor-store.ts'
import { createListenerStateWriter } from '../../producers/chains/common/store/listener-state.ts'
import { resolvePolkadotChain } from '../../producers/chains/polkadot/config.ts'
import { polkadotFamily } from '../../producers/chains/polkadot/family.ts'
import {
  encodeRemark,
  otherSignatories,
  registryAccount,
  useKey,
} from '../../producers/chains/polkadot/normalise/remark.ts'
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
  chopsticksEntry,
  startPolkadotListener,
  startTestChopsticks,
  type TestChopsticks,
  writePolkadotConfig,
} from '../../test/polkadot/support.ts'
import { type ConsumerProcess, startConsumerProcess } from '../../test/support/consumer-process.ts'
import { openTestBus, type TestBus } from '../../test/support/harness.ts'
import { type FamilyBench, type PropagationFigure, percentile } from './family-bench.ts'

const USES_PER_TX = 40
const POLL_MS = 50

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

export const benchFamily: FamilyBench = async ({ events, rounds, uses }) => {
  const testBus = await openTestBus()
  const [node, anvil] = await Promise.all([startTestChopsticks(), startTestChain({ blockTime: 1 })])
  const scope = BigInt(randomInt(1, 2 ** 47))
  try {
    const range = await emitUses(node, scope, events)
    const listenerMs: number[] = []
    const rawMs: number[] = []
    await timeListener(testBus, node, range, 'warmup')
    for (let round = 0; round < rounds; round++) {
      rawMs.push(await timeRawRead(node, range, events))
      listenerMs.push(await timeListener(testBus, node, range, `round${round}`))
    }
    process.stderr.write(
      `polkadot: ${events} events in blocks ${range.firstBlock}–${range.lastBlock}; listener ${listenerMs.map((ms) => ms.toFixed(0)).join('/')} ms, raw @polkadot/api ${rawMs.map((ms) => ms.toFixed(0)).join('/')} ms\n`,
    )
    const propagation = await measurePropagation(testBus, node, anvil, scope, uses)
    return {
      family: 'polkadot',
      chain: node.chain,
      events,
      listenerEventsPerSecond: events / (median(listenerMs) / 1000),
      rawEventsPerSecond: events / (median(rawMs) / 1000),
      propagation,
    }
  } finally {
    await cleanListenerRows(testBus, [node.chain, anvil.chain])
    await testBus.close()
    await Promise.all([node.stop(), anvil.stop()])
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

/** A fresh listener (its own cursor) from the range's first block until its cursor passes the last. */
async function timeListener(testBus: TestBus, node: TestChopsticks, range: Range, label: string) {
  const { common, bus, pool } = testBus
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: `bench-polkadot-${label}`,
    topics: [bus.topics.attestation.name, bus.topics.nullifier.name],
  })
  await producer.connect()
  const publisher = createChainEventPublisher({ bus, producer })
  const store = createCursorStore(pool, `${testBus.namespace}-${label}`)
  const resolved = resolvePolkadotChain(
    chopsticksEntry(node, { startBlock: range.firstBlock, maxBlockRange: 1_000 }),
  )
  if (!('config' in resolved)) throw new Error(resolved.problem)
  const source = polkadotFamily.createSource(resolved.config, { logger: common.logger, onRpcError: () => {} })
  const follower = createChainFollower({
    common,
    source,
    settings: resolved.config,
    store,
    state: createListenerStateWriter(pool),
    metrics: chainMetrics(common.metrics.registry),
    publish: (batch) => publisher.publish(batch),
  })
  const controller = new AbortController()
  const started = performance.now()
  const loop = follower.run(controller.signal)
  while (((await store.cursor(node.chain))?.cursorBlock ?? -1) < range.lastBlock) await sleep(2)
  const elapsed = performance.now() - started
  controller.abort()
  await loop
  source.destroy()
  await store.clear(node.chain)
  await producer.disconnect()
  return elapsed
}

/** Uses alternate between chopsticks and the anvil; each is timed until the other chain has it. */
async function measurePropagation(
  testBus: TestBus,
  node: TestChopsticks,
  anvil: TestChain,
  scope: bigint,
  uses: number,
): Promise<PropagationFigure[]> {
  const evmConfig = writeEvmConfig([
    chainEntry(anvil, { finality: { rule: 'confirmations', confirmations: 1 } }),
  ])
  const polkadotConfig = writePolkadotConfig([chopsticksEntry(node)])
  const processes: (ListenerProcess | ConsumerProcess)[] = []
  const clock = setInterval(() => {
    node.newBlocks(1).catch(() => {})
  }, 1_000)
  try {
    processes.push(
      await startListener({ namespace: testBus.namespace, configFile: evmConfig, chains: [anvil.chain] }),
      await startPolkadotListener({
        namespace: testBus.namespace,
        configFile: polkadotConfig,
        chains: [node.chain],
      }),
      await startConsumerProcess({
        name: 'nullifiers',
        namespace: testBus.namespace,
        env: {
          VERIDIS_EVM_CONFIG: evmConfig,
          VERIDIS_POLKADOT_CONFIG: polkadotConfig,
          VERIDIS_RELAYER_CHAINS: `${anvil.chain},${node.chain}`,
          VERIDIS_RELAYER_POLKADOT_SECRET_URI: POLKADOT_DEV_WRITERS.relayer,
        },
      }),
    )
    const registry = new Contract(
      anvil.deployment.contracts.NullifierRegistry,
      loadArtifact('NullifierRegistry').abi as InterfaceAbi,
      anvil.signer(DEV_ACCOUNT.protocol),
    )
    const multisig = registryAccount([node.writers.relayer, node.writers.attester])
    const usedOnAnvil = async (nullifier: bigint) =>
      (await registry.getFunction('isUsed')(scope, nullifier)) as boolean
    const usedOnPolkadot = async (nullifier: bigint) =>
      (
        (await node.api.query.multisig!.multisigs!(
          multisig,
          useKey(scope.toString(), nullifier.toString()),
        )) as unknown as {
          isSome: boolean
        }
      ).isSome
    const samples = { toAnvil: [] as number[], toPolkadot: [] as number[] }
    for (let index = 0; index < 2 * uses; index++) {
      const nullifier = BigInt(60_000_000 + index)
      if (index % 2 === 0) {
        const included = await node.record({
          t: 'NullifierUsed',
          scope: scope.toString(),
          nullifier: nullifier.toString(),
          root: '1',
        })
        if (!included.ok) throw new Error('bench: a use on chopsticks failed')
        samples.toAnvil.push(await timeUntil(() => usedOnAnvil(nullifier)))
      } else {
        const receipt = await (await registry.getFunction('recordUse')(scope, nullifier, 1n)).wait()
        if (receipt?.status !== 1) throw new Error('bench: a recordUse on the anvil failed')
        samples.toPolkadot.push(await timeUntil(() => usedOnPolkadot(nullifier)))
      }
    }
    const figure = (from: string, to: string, values: number[]): PropagationFigure => ({
      from,
      to,
      samples: values.length,
      p50Ms: percentile(values, 50),
      p99Ms: percentile(values, 99),
    })
    return [
      figure(node.chain, anvil.chain, samples.toAnvil),
      figure(anvil.chain, node.chain, samples.toPolkadot),
    ]
  } finally {
    clearInterval(clock)
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
  const deadline = started + 180_000
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('bench: a use was not propagated within 180 s')
    await sleep(POLL_MS)
  }
  return Date.now() - started
}
