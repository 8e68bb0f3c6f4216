import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import {
  chainEntry,
  cleanListenerRows,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { type ConsumerProcess, startConsumerProcess } from '../support/consumer-process.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import type { FamilyPeer } from './family-peer.ts'
import { type Collected, collect } from './support.ts'

/** The longest a use may take to reach the other family (a cap: chopsticks' blocks are slow under load). */
const RELAY_WAIT_MS = 240_000
/** Time for a second, wrong alert to show up after the first before the test says there is none. */
const QUIET_MS = 5_000

interface World {
  readonly testBus: TestBus
  readonly anvils: readonly TestChain[]
  readonly peer: FamilyPeer
  readonly listeners: readonly ListenerProcess[]
  readonly alerts: Collected<Alert>
  readonly consumerEnv: NodeJS.ProcessEnv
  readonly stopBlocks?: () => void
}

/**
 * The cross-family propagation suite every non-EVM family runs against real anvils, through
 * the real listeners and the real `veridis consume nullifiers`:
 *   - used on both families before the consumer runs → exactly one double-use alert naming
 *     both chains and both transactions;
 *   - a use on the family's chain is registered on every anvil, which then refuses it;
 *   - a use on an anvil is registered on the family's chain, which refuses a second use on-chain.
 * Each family's file supplies its node as a FamilyPeer (its support.ts builds it, for the bench
 * too); everything else is shared here.
 */
export function describeCrossFamilyPropagation(options: {
  readonly family: string
  /** Anvils beside the family's chain: two show a use reaches every other chain. */
  readonly anvils?: 1 | 2
  /** The first nullifier the suite uses, distinct per family file. */
  readonly nullifierBase: bigint
  startPeer(): Promise<FamilyPeer>
}): void {
  const scope = BigInt(randomInt(1, 2 ** 47))
  let world: World | undefined
  let consumer: ConsumerProcess | undefined
  const need = () => {
    if (!world) throw new Error('the cross-family world did not start')
    return world
  }

  beforeAll(async () => {
    const testBus = await openTestBus()
    const [peer, ...anvils] = await Promise.all([
      options.startPeer(),
      ...Array.from({ length: options.anvils ?? 1 }, () => startTestChain()),
    ])
    const evmConfig = writeEvmConfig(anvils.map((anvil) => chainEntry(anvil)))
    const listeners = [
      await startListener({
        namespace: testBus.namespace,
        configFile: evmConfig,
        chains: anvils.map((a) => a.chain),
      }),
      await peer.startListener(testBus.namespace),
    ]
    const alerts = await collect<Alert>(testBus, testBus.bus.topics.alert.name)
    world = {
      testBus,
      anvils,
      peer,
      listeners,
      alerts,
      consumerEnv: {
        VERIDIS_EVM_CONFIG: evmConfig,
        VERIDIS_RELAYER_CHAINS: [...anvils.map((anvil) => anvil.chain), peer.chain].join(','),
        ...peer.consumerEnv,
      },
      stopBlocks: peer.keepProducingBlocks?.(anvils),
    }
    for (const listener of listeners) await untilReady(listener, 'listener')
  }, 600_000)

  afterAll(async () => {
    if (!world) return
    const { testBus, anvils, peer, listeners, alerts, stopBlocks } = world
    stopBlocks?.()
    await consumer?.kill('SIGKILL')
    for (const listener of listeners) await listener.kill('SIGKILL')
    await alerts.stop()
    await Promise.all([peer.stop(), ...anvils.map((anvil) => anvil.stop())])
    for (const table of [
      'nullifier_propagations',
      'nullifier_alerts',
      'nullifier_status',
      'nullifier_uses',
    ]) {
      await testBus.pool.query(`DELETE FROM ${table} WHERE scope = $1`, [scope.toString()])
    }
    await cleanListenerRows(testBus, [...anvils.map((anvil) => anvil.chain), peer.chain])
    await testBus.close()
  })

  const registry = (anvil: TestChain) =>
    new Contract(
      anvil.deployment.contracts.NullifierRegistry,
      loadArtifact('NullifierRegistry').abi as InterfaceAbi,
      anvil.signer(DEV_ACCOUNT.protocol),
    )
  const useOnAnvil = async (anvil: TestChain, nullifier: bigint) =>
    (await (await registry(anvil).getFunction('recordUse')(scope, nullifier, 9n)).wait())!
  const until = (what: string, done: () => Promise<boolean>) =>
    eventually(async () => ((await done()) ? true : undefined), RELAY_WAIT_MS, what)

  describe(`nullifiers across EVM and ${options.family}`, () => {
    test('behavior: used on both before propagation → exactly one double-use alert naming both chains', async () => {
      const { anvils, peer, alerts, testBus, consumerEnv } = need()
      const [anvil] = anvils as [TestChain]
      // The consumer is not running yet: propagation cannot come between the two uses.
      const nullifier = options.nullifierBase + 1n
      const onAnvil = await useOnAnvil(anvil, nullifier)
      const onPeer = await peer.use(scope, nullifier)
      await anvil.mine(6)
      await peer.finalise?.()
      consumer = await startConsumerProcess({
        name: 'nullifiers',
        namespace: testBus.namespace,
        env: consumerEnv,
      })
      const alertsFor = () =>
        alerts.records.filter((alert) => alert.value.details.nullifier === nullifier.toString())
      const alert = await eventually(async () => alertsFor()[0], RELAY_WAIT_MS, 'double-use alert')
      expect(alert.value).toMatchObject({ kind: 'DOUBLE_NULLIFIER_USE', severity: 'CRITICAL' })
      expect(new Set(alert.value.evidence.map((item) => item.chain))).toEqual(
        new Set([anvil.chain, peer.chain]),
      )
      const txId = (id: string) => peer.normaliseTxId?.(id) ?? id
      expect(alert.value.evidence.map((item) => txId(item.txHash ?? '')).sort()).toEqual(
        [txId(onAnvil.hash), txId(onPeer)].sort(),
      )
      expect(alert.value.summary).toContain(peer.chain)
      expect(alert.value.summary).toContain(anvil.chain)
      if (peer.guarantee) expect(JSON.stringify(alert.value)).toContain(peer.guarantee)
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
      expect(alertsFor()).toHaveLength(1)
    }, 600_000)

    test(`behavior: a use on ${options.family} is registered on every anvil, which then refuses it`, async () => {
      const { anvils, peer } = need()
      const nullifier = options.nullifierBase + 2n
      await peer.use(scope, nullifier)
      for (const anvil of anvils) {
        await until(
          `relayed to ${anvil.chain}`,
          async () => (await registry(anvil).getFunction('isUsed')(scope, nullifier)) as boolean,
        )
        // Refused by the registry (a call, so no nonce is spent on a transaction that reverts).
        await expect(
          registry(anvil).getFunction('recordUse').staticCall(scope, nullifier, 9n),
        ).rejects.toThrow(/NullifierAlreadyUsed|reverted/)
      }
    }, 600_000)

    test(`behavior: a use on the anvil is registered on ${options.family}, where a second use is refused on-chain`, async () => {
      const { anvils, peer } = need()
      const nullifier = options.nullifierBase + 3n
      await useOnAnvil(anvils[0]!, nullifier)
      await until(`relayed to ${peer.chain}`, () => peer.isUsed(scope, nullifier))
      await peer.expectSecondUseRefused(scope, nullifier)
    }, 600_000)
  })
}
