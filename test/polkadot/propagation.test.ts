import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { POLKADOT_DEV_WRITERS } from '../../infra/stack/chopsticks.ts'
import { registryAccount, useKey } from '../../producers/chains/polkadot/normalise/remark.ts'
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
  chopsticksEntry,
  startPolkadotListener,
  startTestChopsticks,
  type TestChopsticks,
  writePolkadotConfig,
} from './support.ts'

/**
 * Nullifier propagation between Polkadot and EVM through the real `veridis consume
 * nullifiers`: an anvil and a chopsticks chain of this file's own, both listeners, the
 * consumer writing with the EVM relayer (anvil account 8) and the Polkadot relayer (a dev
 * writer). Blocks come on demand on chopsticks, so the test builds the two confirmations.
 */
let testBus: TestBus
let anvil: TestChain
let node: TestChopsticks
let evmListener: ListenerProcess
let polkadotListener: ListenerProcess
let consumer: ConsumerProcess | undefined
let alerts: { key: string; value: Alert }[]
let stopAlerts: () => Promise<void>
let startConsumer: () => Promise<ConsumerProcess>
let clock: NodeJS.Timeout | undefined
let ticking = true
const scope = BigInt(randomInt(1, 2 ** 47))

beforeAll(async () => {
  testBus = await openTestBus()
  ;[anvil, node] = await Promise.all([startTestChain(), startTestChopsticks()])
  const evmConfig = writeEvmConfig([chainEntry(anvil)])
  const polkadotConfig = writePolkadotConfig([chopsticksEntry(node)])
  evmListener = await startListener({
    namespace: testBus.namespace,
    configFile: evmConfig,
    chains: [anvil.chain],
  })
  polkadotListener = await startPolkadotListener({
    namespace: testBus.namespace,
    configFile: polkadotConfig,
    chains: [node.chain],
  })
  const env = {
    VERIDIS_EVM_CONFIG: evmConfig,
    VERIDIS_POLKADOT_CONFIG: polkadotConfig,
    VERIDIS_RELAYER_CHAINS: `${anvil.chain},${node.chain}`,
    VERIDIS_RELAYER_POLKADOT_SECRET_URI: POLKADOT_DEV_WRITERS.relayer,
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
  for (const listener of [evmListener, polkadotListener]) {
    await eventually(async () => ((await listener.ready()) ? true : undefined), 240_000, 'listener ready')
  }
  startConsumer = () => startConsumerProcess({ name: 'nullifiers', namespace: testBus.namespace, env })
  // Both chains make blocks so that uses become final: anvil by the test's mining, chopsticks
  // a block every 2 s — one at a time: on a loaded machine a block can take longer than that.
  const tick = async () => {
    await Promise.all([node.newBlocks(1), anvil.mine(1)]).catch(() => {})
    if (ticking) clock = setTimeout(tick, 2_000)
  }
  clock = setTimeout(tick, 2_000)
}, 480_000)

afterAll(async () => {
  ticking = false
  if (clock) clearTimeout(clock)
  await consumer?.kill('SIGKILL')
  await evmListener?.kill('SIGKILL')
  await polkadotListener?.kill('SIGKILL')
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

const evmRegistry = () =>
  new Contract(
    anvil.deployment.contracts.NullifierRegistry,
    loadArtifact('NullifierRegistry').abi as InterfaceAbi,
    anvil.signer(DEV_ACCOUNT.protocol),
  )
const useOnAnvil = async (nullifier: bigint) =>
  (await (await evmRegistry().getFunction('recordUse')(scope, nullifier, 9n)).wait())!
const useOnPolkadot = (nullifier: bigint) =>
  node.record({ t: 'NullifierUsed', scope: scope.toString(), nullifier: nullifier.toString(), root: '9' })
const usedOnPolkadot = async (nullifier: bigint) =>
  (
    (await node.api.query.multisig!.multisigs!(
      registryAccount([node.writers.relayer, node.writers.attester]),
      useKey(scope.toString(), nullifier.toString()),
    )) as unknown as { isSome: boolean }
  ).isSome
const usedOnAnvil = async (nullifier: bigint) =>
  (await evmRegistry().getFunction('isUsed')(scope, nullifier)) as boolean

describe('nullifiers across EVM and Polkadot', () => {
  test('behavior: used on both before propagation → exactly one double-use alert naming both chains and their guarantees', async () => {
    // The consumer is not running yet: propagation cannot come between the two uses.
    const nullifier = 8_000_001n
    const onAnvil = await useOnAnvil(nullifier)
    const onPolkadot = await useOnPolkadot(nullifier)
    expect(onPolkadot.ok).toBe(true)
    consumer = await startConsumer()
    const alertsFor = () => alerts.filter((alert) => alert.value.details.nullifier === nullifier.toString())
    const alert = await eventually(async () => alertsFor()[0], 240_000, 'double-use alert')
    expect(alert.value).toMatchObject({ kind: 'DOUBLE_NULLIFIER_USE', severity: 'CRITICAL' })
    expect(new Set(alert.value.evidence.map((item) => item.chain))).toEqual(
      new Set([anvil.chain, node.chain]),
    )
    expect(new Set(alert.value.evidence.map((item) => item.txHash))).toEqual(
      new Set([onAnvil.hash, onPolkadot.txHash]),
    )
    expect(JSON.stringify(alert.value)).toContain('multisig pallet refuses a second use key')
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    expect(alertsFor()).toHaveLength(1)
  }, 360_000)

  test('behavior: a use on Polkadot is registered on the anvil, which then refuses it', async () => {
    const nullifier = 8_000_002n
    expect((await useOnPolkadot(nullifier)).ok).toBe(true)
    await eventually(
      async () => ((await usedOnAnvil(nullifier)) ? true : undefined),
      240_000,
      'relayed to the anvil',
    )
    await expect(evmRegistry().getFunction('recordUse').staticCall(scope, nullifier, 9n)).rejects.toThrow(
      /NullifierAlreadyUsed|reverted/,
    )
  }, 360_000)

  test('behavior: a use on the anvil is registered on Polkadot, where a second use is refused on-chain', async () => {
    const nullifier = 8_000_003n
    await useOnAnvil(nullifier)
    await eventually(
      async () => ((await usedOnPolkadot(nullifier)) ? true : undefined),
      240_000,
      'relayed to Polkadot',
    )
    const again = await useOnPolkadot(nullifier)
    expect(again.ok).toBe(false)
  }, 360_000)
})
