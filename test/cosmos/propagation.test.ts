import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import {
  chainEntry,
  cleanListenerRows,
  type ListenerProcess,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from '../evm/support.ts'
import { type ConsumerProcess, startConsumerProcess } from '../support/consumer-process.ts'
import { eventually, openTestBus, type TestBus } from '../support/harness.ts'
import {
  cosmosRelayerEnv,
  startCosmosListener,
  startTestWasmd,
  type TestWasmd,
  wasmdEntry,
  writeCosmosConfig,
} from './support.ts'

/**
 * Nullifier propagation between the Cosmos and EVM families through the real `veridis consume
 * nullifiers`: an anvil and a wasmd chain of this file's own, both listeners, the consumer
 * writing with the EVM relayer (anvil account 8) and the Cosmos relayer (dev account 8, RELAYER
 * on the registry).
 */
let testBus: TestBus
let anvil: TestChain
let node: TestWasmd
let evmListener: ListenerProcess
let cosmosListener: ListenerProcess
let consumer: ConsumerProcess | undefined
let alerts: { key: string; value: Alert }[]
let stopAlerts: () => Promise<void>
let startConsumer: () => Promise<ConsumerProcess>
const scope = BigInt(randomInt(1, 2 ** 47))

beforeAll(async () => {
  testBus = await openTestBus()
  ;[anvil, node] = await Promise.all([startTestChain(), startTestWasmd()])
  const evmConfig = writeEvmConfig([chainEntry(anvil)])
  const cosmosConfig = writeCosmosConfig([wasmdEntry(node)])
  evmListener = await startListener({
    namespace: testBus.namespace,
    configFile: evmConfig,
    chains: [anvil.chain],
  })
  cosmosListener = await startCosmosListener({
    namespace: testBus.namespace,
    configFile: cosmosConfig,
    chains: [node.chain],
  })
  const env = {
    VERIDIS_EVM_CONFIG: evmConfig,
    VERIDIS_COSMOS_CONFIG: cosmosConfig,
    VERIDIS_RELAYER_CHAINS: `${anvil.chain},${node.chain}`,
    ...cosmosRelayerEnv(node),
  }
  const { bus } = testBus
  const collector = bus.kafka.consumer({ groupId: `${testBus.namespace}.alerts-${randomInt(1e9)}` })
  await collector.connect()
  await collector.subscribe({ topics: [bus.topics.alert.name], fromBeginning: true })
  alerts = []
  await collector.run({
    eachMessage: async ({ message }) => {
      alerts.push({
        key: (await bus.codec.decodeKey(message.key)) ?? '',
        value: (await bus.codec.decodeValue(bus.topics.alert.name, message.value)) as Alert,
      })
    },
  })
  stopAlerts = () => collector.disconnect()
  for (const listener of [evmListener, cosmosListener]) {
    await eventually(async () => ((await listener.ready()) ? true : undefined), 90_000, 'listener ready')
  }
  startConsumer = () => startConsumerProcess({ name: 'nullifiers', namespace: testBus.namespace, env })
}, 300_000)

afterAll(async () => {
  await consumer?.kill('SIGKILL')
  await evmListener?.kill('SIGKILL')
  await cosmosListener?.kill('SIGKILL')
  await stopAlerts?.()
  await Promise.all([anvil?.stop(), node?.stop()])
  if (testBus) {
    for (const table of [
      'nullifier_propagations',
      'nullifier_alerts',
      'nullifier_status',
      'nullifier_uses',
    ]) {
      await testBus.pool.query(`DELETE FROM ${table} WHERE scope = $1`, [scope.toString()])
    }
    await cleanListenerRows(testBus, [anvil?.chain, node?.chain].filter(Boolean) as string[])
    await testBus.close()
  }
})

const evmRegistry = (signer = DEV_ACCOUNT.protocol) =>
  new Contract(
    anvil.deployment.contracts.NullifierRegistry,
    loadArtifact('NullifierRegistry').abi as InterfaceAbi,
    anvil.signer(signer),
  )
const useOnAnvil = async (nullifier: bigint) =>
  (await (await evmRegistry().getFunction('recordUse')(scope, nullifier, 9n)).wait())!
const usedOnAnvil = async (nullifier: bigint) =>
  (await evmRegistry().getFunction('isUsed')(scope, nullifier)) as boolean

describe('nullifiers across Cosmos and EVM', () => {
  test('behavior: used on both before propagation → exactly one double-use alert naming both chains', async () => {
    // The consumer is not running yet: propagation cannot come between the two uses.
    const nullifier = 8_000_001n
    const onAnvil = await useOnAnvil(nullifier)
    const onCosmos = await node.recordUse(scope, nullifier, 9n)
    await anvil.mine(4)
    consumer = await startConsumer()
    const alertsFor = () => alerts.filter((alert) => alert.value.details.nullifier === nullifier.toString())
    const alert = await eventually(async () => alertsFor()[0], 180_000, 'double-use alert')
    expect(alert.value).toMatchObject({ kind: 'DOUBLE_NULLIFIER_USE', severity: 'CRITICAL' })
    expect(new Set(alert.value.evidence.map((item) => item.chain))).toEqual(
      new Set([anvil.chain, node.chain]),
    )
    expect(new Set(alert.value.evidence.map((item) => item.txHash))).toEqual(
      new Set([onAnvil.hash, onCosmos.hash]),
    )
    expect(alert.value.summary).toContain(node.chain)
    expect(alert.value.summary).toContain(anvil.chain)
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(alertsFor()).toHaveLength(1)
  }, 300_000)

  test('behavior: a use on Cosmos is registered on the anvil, which then refuses it', async () => {
    const nullifier = 8_000_002n
    await node.recordUse(scope, nullifier)
    await eventually(
      async () => ((await usedOnAnvil(nullifier)) ? true : undefined),
      90_000,
      'relayed to the anvil',
    )
    await expect(evmRegistry().getFunction('recordUse').staticCall(scope, nullifier, 9n)).rejects.toThrow(
      /NullifierAlreadyUsed|reverted/,
    )
  }, 120_000)

  test('behavior: a use on the anvil is registered on Cosmos, where a second use is refused on-chain', async () => {
    const nullifier = 8_000_003n
    await useOnAnvil(nullifier)
    await eventually(
      async () => ((await node.isUsed(scope, nullifier)) ? true : undefined),
      90_000,
      'relayed to Cosmos',
    )
    await expect(node.recordUse(scope, nullifier)).rejects.toThrow(/nullifier already used/)
  }, 120_000)
})
