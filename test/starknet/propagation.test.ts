import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { CallData, cairo } from 'starknet'
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
  devnetEntry,
  STARKNET_DEV_ACCOUNT,
  startStarknetListener,
  startTestDevnet,
  type TestDevnet,
  writeStarknetConfig,
} from './support.ts'

/**
 * Nullifier propagation across the two families through the real `veridis consume
 * nullifiers`: two anvils and a starknet-devnet of this file's own, both listeners, the
 * consumer writing with the EVM relayer (anvil account 8) and the StarkNet relayer (devnet
 * account 8).
 */
let testBus: TestBus
let anvil: TestChain
let anvilB: TestChain
let devnet: TestDevnet
let evmListener: ListenerProcess
let starknetListener: ListenerProcess
let consumer: ConsumerProcess | undefined
let alerts: { key: string; value: Alert }[]
let stopAlerts: () => Promise<void>
const scope = BigInt(randomInt(1, 2 ** 47))

beforeAll(async () => {
  testBus = await openTestBus()
  ;[anvil, anvilB, devnet] = await Promise.all([startTestChain(), startTestChain(), startTestDevnet()])
  const evmConfig = writeEvmConfig([chainEntry(anvil), chainEntry(anvilB)])
  const starknetConfig = writeStarknetConfig([devnetEntry(devnet)])
  evmListener = await startListener({
    namespace: testBus.namespace,
    configFile: evmConfig,
    chains: [anvil.chain, anvilB.chain],
  })
  starknetListener = await startStarknetListener({
    namespace: testBus.namespace,
    configFile: starknetConfig,
    chains: [devnet.chain],
  })
  const relayer = devnet.accounts[STARKNET_DEV_ACCOUNT.relayer]!
  const env = {
    VERIDIS_EVM_CONFIG: evmConfig,
    VERIDIS_STARKNET_CONFIG: starknetConfig,
    VERIDIS_RELAYER_CHAINS: `${anvil.chain},${anvilB.chain},${devnet.chain}`,
    VERIDIS_RELAYER_STARKNET_ACCOUNT: relayer.address,
    VERIDIS_RELAYER_STARKNET_PRIVATE_KEY: relayer.privateKey,
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
  for (const listener of [evmListener, starknetListener]) {
    await eventually(async () => ((await listener.ready()) ? true : undefined), 90_000, 'listener ready')
  }
  startConsumer = () => startConsumerProcess({ name: 'nullifiers', namespace: testBus.namespace, env })
}, 300_000)

let startConsumer: () => Promise<ConsumerProcess>

afterAll(async () => {
  await consumer?.kill('SIGKILL')
  await evmListener?.kill('SIGKILL')
  await starknetListener?.kill('SIGKILL')
  await stopAlerts?.()
  await Promise.all([anvil?.stop(), anvilB?.stop(), devnet?.stop()])
  if (testBus) {
    for (const table of [
      'nullifier_propagations',
      'nullifier_alerts',
      'nullifier_status',
      'nullifier_uses',
    ]) {
      await testBus.pool.query(`DELETE FROM ${table} WHERE scope = $1`, [scope.toString()])
    }
    await cleanListenerRows(testBus, [anvil?.chain, anvilB?.chain, devnet?.chain].filter(Boolean) as string[])
    await testBus.close()
  }
})

const evmRegistry = (chain = anvil, signer = DEV_ACCOUNT.protocol) =>
  new Contract(
    chain.deployment.contracts.NullifierRegistry,
    loadArtifact('NullifierRegistry').abi as InterfaceAbi,
    chain.signer(signer),
  )
const useOnAnvil = async (nullifier: bigint) =>
  (await (await evmRegistry().getFunction('recordUse')(scope, nullifier, 9n)).wait())!
const useOnDevnet = (nullifier: bigint) =>
  devnet.invoke({
    contractAddress: devnet.deployment.contracts.NullifierRegistry,
    entrypoint: 'record_use',
    calldata: CallData.compile({
      scope: cairo.uint256(scope),
      nullifier: cairo.uint256(nullifier),
      root: cairo.uint256(9n),
    }),
  })
const usedOnDevnet = async (nullifier: bigint) => {
  const [flag] = await devnet.provider.callContract({
    contractAddress: devnet.deployment.contracts.NullifierRegistry,
    entrypoint: 'is_used',
    calldata: CallData.compile({ scope: cairo.uint256(scope), nullifier: cairo.uint256(nullifier) }),
  })
  return BigInt(flag ?? 0) === 1n
}
const usedOnAnvil = async (nullifier: bigint, chain = anvil) =>
  (await evmRegistry(chain).getFunction('isUsed')(scope, nullifier)) as boolean

describe('nullifiers across EVM and StarkNet', () => {
  test('behavior: used on both before propagation → exactly one double-use alert naming both chains', async () => {
    // The consumer is not running yet: propagation cannot come between the two uses.
    const nullifier = 7_000_001n
    const onAnvil = await useOnAnvil(nullifier)
    const onDevnet = await useOnDevnet(nullifier)
    await anvil.mine(4)
    await devnet.rpc('devnet_acceptOnL1', { starting_block_id: 'latest' })
    consumer = await startConsumer()
    const alertsFor = () => alerts.filter((alert) => alert.value.details.nullifier === nullifier.toString())
    const alert = await eventually(async () => alertsFor()[0], 90_000, 'double-use alert')
    expect(alert.value).toMatchObject({ kind: 'DOUBLE_NULLIFIER_USE', severity: 'CRITICAL' })
    expect(new Set(alert.value.evidence.map((item) => item.chain))).toEqual(
      new Set([anvil.chain, devnet.chain]),
    )
    expect(new Set(alert.value.evidence.map((item) => BigInt(item.txHash ?? 0)))).toEqual(
      new Set([BigInt(onAnvil.hash), BigInt(onDevnet.transaction_hash)]),
    )
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(alertsFor()).toHaveLength(1)
  }, 180_000)

  test('behavior: a use on StarkNet is registered on both anvils, which then refuse it', async () => {
    const nullifier = 7_000_002n
    await useOnDevnet(nullifier)
    for (const chain of [anvil, anvilB]) {
      await eventually(
        async () => ((await usedOnAnvil(nullifier, chain)) ? true : undefined),
        90_000,
        `relayed to ${chain.chain}`,
      )
      // Refused by the registry (a call, so no nonce is spent on a transaction that reverts).
      await expect(
        evmRegistry(chain).getFunction('recordUse').staticCall(scope, nullifier, 9n),
      ).rejects.toThrow(/NullifierAlreadyUsed|reverted/)
    }
  }, 120_000)

  test('behavior: a use on the anvil is registered on StarkNet, where a second use is refused on-chain', async () => {
    const nullifier = 7_000_003n
    await useOnAnvil(nullifier)
    await eventually(
      async () => ((await usedOnDevnet(nullifier)) ? true : undefined),
      90_000,
      'relayed to StarkNet',
    )
    await expect(useOnDevnet(nullifier)).rejects.toThrow(
      /nullifier already used|6e756c6c696669657220616c7265616479207573656/,
    )
  }, 120_000)
})
