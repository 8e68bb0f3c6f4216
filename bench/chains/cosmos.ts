/**
 * Cosmos's part of `bin/veridis bench chains`: N nullifier uses on a wasmd chain of the bench's
 * own (record_use messages, 50 per transaction), then, in the same run over the same height range:
 *   listener  a fresh in-process listener engine catching the range up: tx_search pages →
 *             block ids → normalise → Avro → Kafka (acks=all) → cursor committed;
 *   raw       the same range read through cosmjs's own CometBFT client (@cosmjs/tendermint-rpc
 *             `connectComet` → txSearchAll), its events decoded, nothing published.
 * Propagation latency per direction against an anvil, through the real listeners and the real
 * `veridis consume nullifiers`: a use committed on the source → the target's registry answers
 * "used".
 */
import { randomInt } from 'node:crypto'
import { connectComet } from '@cosmjs/tendermint-rpc'
import { Contract, type InterfaceAbi } from 'ethers'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { createBusProducer } from '../../core/bus/producer.ts'
import { chainMetrics } from '../../core/metrics/protocol.ts'
import { createChainFollower } from '../../producers/chains/common/engine.ts'
import { createChainEventPublisher } from '../../producers/chains/common/publisher.ts'
import { createCursorStore } from '../../producers/chains/common/store/cursor-store.ts'
import { createListenerStateWriter } from '../../producers/chains/common/store/listener-state.ts'
import { resolveCosmosChain } from '../../producers/chains/cosmos/config.ts'
import { cosmosFamily } from '../../producers/chains/cosmos/family.ts'
import {
  cosmosRelayerEnv,
  recordManyUses,
  startCosmosListener,
  startTestWasmd,
  type TestWasmd,
  wasmdEntry,
  writeCosmosConfig,
} from '../../test/cosmos/support.ts'
import {
  chainEntry,
  cleanListenerRows,
  startListener,
  startTestChain,
  writeEvmConfig,
} from '../../test/evm/support.ts'
import { startConsumerProcess } from '../../test/support/consumer-process.ts'
import { eventually, openTestBus } from '../../test/support/harness.ts'
import { type FamilyBench, percentile } from './family-bench.ts'

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

export const benchFamily: FamilyBench = async (options) => {
  const node = await startTestWasmd()
  const testBus = await openTestBus()
  try {
    const nullifiers = Array.from({ length: options.events }, (_, i) => BigInt(i + 1))
    const txs = await recordManyUses(node, 91n, nullifiers)
    const firstHeight = Math.min(...txs.map((tx) => tx.height))
    const lastHeight = Math.max(...txs.map((tx) => tx.height))

    const { common, bus, pool } = testBus
    const producer = createBusProducer(common, {
      kafka: bus.kafka,
      codec: bus.codec,
      producerName: 'bench-cosmos',
      topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
    })
    await producer.connect()
    const publisher = createChainEventPublisher({ bus, producer })
    const state = createListenerStateWriter(pool)
    const metrics = chainMetrics(common.metrics.registry)

    const timeListener = async (label: string) => {
      const store = createCursorStore(pool, `${testBus.namespace}-${label}`)
      const resolved = resolveCosmosChain(
        wasmdEntry(node, { startBlock: firstHeight, maxBlockRange: lastHeight - firstHeight + 1 }),
      )
      if (!('config' in resolved)) throw new Error(resolved.problem)
      let published = 0
      const listener = createChainFollower({
        common,
        source: cosmosFamily.createSource(resolved.config, {
          logger: common.logger,
          onRpcError: () => undefined,
        }),
        settings: resolved.config,
        store,
        state,
        metrics,
        publish: async (batch) => {
          await publisher.publish(batch)
          published += batch.length
        },
      })
      const controller = new AbortController()
      const started = performance.now()
      const loop = listener.run(controller.signal)
      while (((await store.cursor(node.chain))?.cursorBlock ?? -1) < lastHeight) {
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      const elapsed = performance.now() - started
      controller.abort()
      await loop
      await store.clear(node.chain)
      if (published < options.events)
        throw new Error(`bench: ${label} published ${published} of ${options.events} events`)
      return elapsed
    }

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
    await producer.disconnect()
    await pool.query('DELETE FROM chain_listener_state WHERE chain = $1', [node.chain])

    const propagation = await propagationLatency(node, testBus, options.uses)
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

async function propagationLatency(
  node: TestWasmd,
  testBus: Awaited<ReturnType<typeof openTestBus>>,
  uses: number,
) {
  const anvil = await startTestChain()
  const evmConfig = writeEvmConfig([chainEntry(anvil)])
  const cosmosConfig = writeCosmosConfig([wasmdEntry(node, { startBlock: await node.height() })])
  const evmListener = await startListener({
    namespace: testBus.namespace,
    configFile: evmConfig,
    chains: [anvil.chain],
  })
  const cosmosListener = await startCosmosListener({
    namespace: testBus.namespace,
    configFile: cosmosConfig,
    chains: [node.chain],
  })
  const consumer = await startConsumerProcess({
    name: 'nullifiers',
    namespace: testBus.namespace,
    env: {
      VERIDIS_EVM_CONFIG: evmConfig,
      VERIDIS_COSMOS_CONFIG: cosmosConfig,
      VERIDIS_RELAYER_CHAINS: `${anvil.chain},${node.chain}`,
      ...cosmosRelayerEnv(node),
    },
  })
  const scope = BigInt(randomInt(1, 2 ** 47))
  const registry = new Contract(
    anvil.deployment.contracts.NullifierRegistry,
    loadArtifact('NullifierRegistry').abi as InterfaceAbi,
    anvil.signer(DEV_ACCOUNT.protocol),
  )
  try {
    for (const listener of [evmListener, cosmosListener]) {
      await eventually(async () => ((await listener.ready()) ? true : undefined), 90_000, 'listener ready')
    }
    const toAnvil: number[] = []
    const toCosmos: number[] = []
    for (let i = 0; i < uses; i++) {
      const fromCosmos = BigInt(10_000 + i)
      await node.recordUse(scope, fromCosmos)
      const startedC = performance.now()
      await eventually(
        async () => ((await registry.getFunction('isUsed')(scope, fromCosmos)) ? true : undefined),
        120_000,
        'relayed to the anvil',
      )
      toAnvil.push(performance.now() - startedC)

      const fromAnvil = BigInt(20_000 + i)
      await (await registry.getFunction('recordUse')(scope, fromAnvil, 9n)).wait()
      const startedA = performance.now()
      await eventually(
        async () => ((await node.isUsed(scope, fromAnvil)) ? true : undefined),
        120_000,
        'relayed to Cosmos',
      )
      toCosmos.push(performance.now() - startedA)
    }
    const figure = (from: string, to: string, samples: number[]) => ({
      from,
      to,
      samples: samples.length,
      p50Ms: percentile(samples, 50),
      p99Ms: percentile(samples, 99),
    })
    return [figure(node.chain, anvil.chain, toAnvil), figure(anvil.chain, node.chain, toCosmos)]
  } finally {
    await consumer.kill('SIGKILL')
    await evmListener.kill('SIGKILL')
    await cosmosListener.kill('SIGKILL')
    for (const table of [
      'nullifier_propagations',
      'nullifier_alerts',
      'nullifier_status',
      'nullifier_uses',
    ]) {
      await testBus.pool.query(`DELETE FROM ${table} WHERE scope = $1`, [scope.toString()])
    }
    await cleanListenerRows(testBus, [anvil.chain, node.chain])
    await anvil.stop()
  }
}
