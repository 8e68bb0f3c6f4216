/**
 * Solana's part of `bin/veridis bench chains`: N nullifier uses on a solana-test-validator of
 * the bench's own, then, in the same run over the same slot range:
 *   listener  a fresh in-process listener engine catching the finalized range up: RPC →
 *             normalise → Avro → Kafka (acks=all) → cursor committed;
 *   raw       the same range read through web3.js: getSignaturesForAddress pages, then
 *             getParsedBlock per slot holding one, nothing decoded into records or published.
 * Propagation latency per direction against an anvil, through the real listeners and the
 * real `veridis consume nullifiers`: a use confirmed on the source → the target's registry
 * answers "used".
 */
import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { createBusProducer } from '../../core/bus/producer.ts'
import { chainMetrics } from '../../core/metrics/protocol.ts'
import { createChainFollower } from '../../producers/chains/common/engine.ts'
import { createChainEventPublisher } from '../../producers/chains/common/publisher.ts'
import { createCursorStore } from '../../producers/chains/common/store/cursor-store.ts'
import { createListenerStateWriter } from '../../producers/chains/common/store/listener-state.ts'
import { resolveSolanaChain } from '../../producers/chains/solana/config.ts'
import { solanaFamily } from '../../producers/chains/solana/family.ts'
import {
  chainEntry,
  cleanListenerRows,
  startListener,
  startTestChain,
  writeEvmConfig,
} from '../../test/evm/support.ts'
import {
  relayerKeyEnv,
  startSolanaListener,
  startTestValidator,
  validatorEntry,
  writeSolanaConfig,
} from '../../test/solana/support.ts'
import { startConsumerProcess } from '../../test/support/consumer-process.ts'
import { eventually, openTestBus } from '../../test/support/harness.ts'
import { type FamilyBench, percentile } from './family-bench.ts'

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

export const benchFamily: FamilyBench = async (options) => {
  const validator = await startTestValidator()
  const testBus = await openTestBus()
  try {
    // The uses, a few hundred transactions in flight at a time.
    const sent: { slot: number }[] = []
    for (let i = 0; i < options.events; i += 50) {
      const batch = Array.from({ length: Math.min(50, options.events - i) }, (_, j) =>
        validator.use(91n, BigInt(i + j + 1)),
      )
      sent.push(...(await Promise.all(batch)))
    }
    const firstSlot = Math.min(...sent.map((use) => use.slot))
    const lastSlot = Math.max(...sent.map((use) => use.slot))
    await eventually(
      async () => ((await validator.connection.getSlot('finalized')) >= lastSlot ? true : undefined),
      120_000,
      'the uses finalized',
    )

    const { common, bus, pool } = testBus
    const producer = createBusProducer(common, {
      kafka: bus.kafka,
      codec: bus.codec,
      producerName: 'bench-solana',
      topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
    })
    await producer.connect()
    const publisher = createChainEventPublisher({ bus, producer })
    const state = createListenerStateWriter(pool)
    const metrics = chainMetrics(common.metrics.registry)

    const timeListener = async (label: string) => {
      const store = createCursorStore(pool, `${testBus.namespace}-${label}`)
      const resolved = resolveSolanaChain(
        validatorEntry(validator, { startBlock: firstSlot, maxBlockRange: lastSlot - firstSlot + 1 }),
      )
      if (!('config' in resolved)) throw new Error(resolved.problem)
      let published = 0
      const listener = createChainFollower({
        common,
        source: solanaFamily.createSource(resolved.config, {
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
      while (((await store.cursor(validator.chain))?.cursorBlock ?? -1) < lastSlot) {
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      const elapsed = performance.now() - started
      controller.abort()
      await loop
      await store.clear(validator.chain)
      if (published < options.events)
        throw new Error(`bench: ${label} published ${published} of ${options.events} events`)
      return elapsed
    }

    const raw = async () => {
      const started = performance.now()
      const slots = new Set<number>()
      let before: string | undefined
      for (;;) {
        const page = await validator.connection.getSignaturesForAddress(
          validator.authority.publicKey,
          { limit: 1_000, ...(before ? { before } : {}) },
          'finalized',
        )
        for (const info of page) if (info.slot >= firstSlot && info.slot <= lastSlot) slots.add(info.slot)
        if (page.length < 1_000 || page.at(-1)!.slot < firstSlot) break
        before = page.at(-1)!.signature
      }
      let transactions = 0
      for (const slot of slots) {
        const block = await validator.connection.getParsedBlock(slot, {
          commitment: 'finalized',
          maxSupportedTransactionVersion: 0,
          rewards: false,
          transactionDetails: 'full',
        })
        transactions += block.transactions.length
      }
      const elapsed = performance.now() - started
      if (transactions < options.events) throw new Error(`bench: raw read ${transactions} transactions`)
      return elapsed
    }

    await timeListener('warmup')
    const listenerMs: number[] = []
    const rawMs: number[] = []
    for (let round = 0; round < options.rounds; round++) {
      rawMs.push(await raw())
      listenerMs.push(await timeListener(`round${round}`))
    }
    await producer.disconnect()
    await pool.query('DELETE FROM chain_listener_state WHERE chain = $1', [validator.chain])

    const propagation = await propagationLatency(validator, testBus, options.uses)
    return {
      family: 'solana',
      chain: validator.chain,
      events: options.events,
      listenerEventsPerSecond: options.events / (median(listenerMs) / 1000),
      rawEventsPerSecond: options.events / (median(rawMs) / 1000),
      propagation,
    }
  } finally {
    await testBus.close()
    await validator.stop()
  }
}

async function propagationLatency(
  validator: Awaited<ReturnType<typeof startTestValidator>>,
  testBus: Awaited<ReturnType<typeof openTestBus>>,
  uses: number,
) {
  const anvil = await startTestChain()
  const evmConfig = writeEvmConfig([chainEntry(anvil)])
  const latest = await validator.connection.getSlot('finalized')
  const solanaConfig = writeSolanaConfig([validatorEntry(validator, { startBlock: latest })])
  const evmListener = await startListener({
    namespace: testBus.namespace,
    configFile: evmConfig,
    chains: [anvil.chain],
  })
  const solanaListener = await startSolanaListener({
    namespace: testBus.namespace,
    configFile: solanaConfig,
    chains: [validator.chain],
  })
  const consumer = await startConsumerProcess({
    name: 'nullifiers',
    namespace: testBus.namespace,
    env: {
      VERIDIS_EVM_CONFIG: evmConfig,
      VERIDIS_SOLANA_CONFIG: solanaConfig,
      VERIDIS_RELAYER_CHAINS: `${anvil.chain},${validator.chain}`,
      VERIDIS_RELAYER_SOLANA_SECRET_KEY: relayerKeyEnv(validator),
    },
  })
  const scope = BigInt(randomInt(1, 2 ** 47))
  const registry = new Contract(
    anvil.deployment.contracts.NullifierRegistry,
    loadArtifact('NullifierRegistry').abi as InterfaceAbi,
    anvil.signer(DEV_ACCOUNT.protocol),
  )
  try {
    for (const listener of [evmListener, solanaListener]) {
      await eventually(async () => ((await listener.ready()) ? true : undefined), 90_000, 'listener ready')
    }
    const toAnvil: number[] = []
    const toSolana: number[] = []
    for (let i = 0; i < uses; i++) {
      const fromSolana = BigInt(10_000 + i)
      await validator.use(scope, fromSolana)
      const startedS = performance.now()
      await eventually(
        async () => ((await registry.getFunction('isUsed')(scope, fromSolana)) ? true : undefined),
        120_000,
        'relayed to the anvil',
      )
      toAnvil.push(performance.now() - startedS)

      const fromAnvil = BigInt(20_000 + i)
      await (await registry.getFunction('recordUse')(scope, fromAnvil, 9n)).wait()
      const startedA = performance.now()
      await eventually(
        async () => ((await validator.isUsed(scope, fromAnvil)) ? true : undefined),
        120_000,
        'relayed to Solana',
      )
      toSolana.push(performance.now() - startedA)
    }
    const figure = (from: string, to: string, samples: number[]) => ({
      from,
      to,
      samples: samples.length,
      p50Ms: percentile(samples, 50),
      p99Ms: percentile(samples, 99),
    })
    return [figure(validator.chain, anvil.chain, toAnvil), figure(anvil.chain, validator.chain, toSolana)]
  } finally {
    await consumer.kill('SIGKILL')
    await evmListener.kill('SIGKILL')
    await solanaListener.kill('SIGKILL')
    for (const table of [
      'nullifier_propagations',
      'nullifier_alerts',
      'nullifier_status',
      'nullifier_uses',
    ]) {
      await testBus.pool.query(`DELETE FROM ${table} WHERE scope = $1`, [scope.toString()])
    }
    await cleanListenerRows(testBus, [anvil.chain, validator.chain])
    await anvil.stop()
  }
}
