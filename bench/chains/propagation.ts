import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import {
  chainEntry,
  cleanListenerRows,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from '../../test/evm/support.ts'
import type { ListenerProcess } from '../../test/support/chain-listener.ts'
import { type ConsumerProcess, startConsumerProcess } from '../../test/support/consumer-process.ts'
import { eventually, openTestBus, untilReady } from '../../test/support/harness.ts'
import { percentile } from '../stats.ts'
import type { PropagationFigure } from './family-bench.ts'

/** The most one use may take to reach the other chain before the bench gives up (chopsticks' blocks are slow). */
const PROPAGATION_CAP_MS = 180_000

/** What the propagation half of a family's bench needs of that family's node. */
export interface PropagationPeer {
  readonly chain: string
  /** The nullifier consumer's environment for this chain: configuration file, relayer key. */
  readonly consumerEnv: NodeJS.ProcessEnv
  /** The family's listener as a real process in `namespace`, from the node's current head. */
  startListener(namespace: string): Promise<ListenerProcess>
  /** Records a use and resolves once the chain has included it. */
  use(scope: bigint, nullifier: bigint): Promise<void>
  isUsed(scope: bigint, nullifier: bigint): Promise<boolean>
  /** Work that makes uses final while the bench runs (L1 acceptance, block production); returns its stop. */
  keepFinalising?(anvil: TestChain): () => void
}

/**
 * Nullifier propagation latency between a family's node and an anvil, per direction, through
 * the real processes: both listeners and `veridis consume nullifiers`. Uses alternate between
 * the two chains; each is timed from its inclusion to the other chain's registry answering
 * "used".
 *
 * It runs in a namespace of its own: the throughput half published thousands of uses onto its
 * namespace's nullifier topic, and a consumer there would relay all of them before the first
 * timed one.
 */
export async function measurePropagation(peer: PropagationPeer, uses: number): Promise<PropagationFigure[]> {
  const testBus = await openTestBus()
  const anvil = await startTestChain({ blockTime: 1 })
  const evmConfig = writeEvmConfig([
    chainEntry(anvil, { finality: { rule: 'confirmations', confirmations: 1 } }),
  ])
  const scope = BigInt(randomInt(1, 2 ** 47))
  const processes: (ListenerProcess | ConsumerProcess)[] = []
  const stopFinalising = peer.keepFinalising?.(anvil)
  try {
    const listeners = [
      await startListener({ namespace: testBus.namespace, configFile: evmConfig, chains: [anvil.chain] }),
      await peer.startListener(testBus.namespace),
    ]
    processes.push(...listeners)
    for (const listener of listeners) await untilReady(listener, 'listener')
    processes.push(
      await startConsumerProcess({
        name: 'nullifiers',
        namespace: testBus.namespace,
        env: {
          VERIDIS_EVM_CONFIG: evmConfig,
          VERIDIS_RELAYER_CHAINS: `${anvil.chain},${peer.chain}`,
          ...peer.consumerEnv,
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
    const toAnvil: number[] = []
    const fromAnvil: number[] = []
    for (let index = 0; index < uses; index++) {
      const onPeer = BigInt(50_000_000 + 2 * index)
      await peer.use(scope, onPeer)
      toAnvil.push(await timeUntil(() => usedOnAnvil(onPeer), `relayed to ${anvil.chain}`))

      const onAnvil = onPeer + 1n
      const receipt = await (await registry.getFunction('recordUse')(scope, onAnvil, 9n)).wait()
      if (receipt?.status !== 1) throw new Error('bench: a recordUse on the anvil failed')
      fromAnvil.push(await timeUntil(() => peer.isUsed(scope, onAnvil), `relayed to ${peer.chain}`))
    }
    const figure = (from: string, to: string, samples: number[]): PropagationFigure => ({
      from,
      to,
      samples: samples.length,
      p50Ms: percentile(samples, 50),
      p99Ms: percentile(samples, 99),
    })
    return [figure(peer.chain, anvil.chain, toAnvil), figure(anvil.chain, peer.chain, fromAnvil)]
  } catch (error) {
    // What the processes said last is what tells a stuck relay from a slow one.
    for (const started of processes) {
      const lines = started.output().trim().split('\n').slice(-15).join('\n')
      process.stderr.write(`--- last output of ${started.child.spawnargs.slice(-6).join(' ')}\n${lines}\n`)
    }
    throw error
  } finally {
    stopFinalising?.()
    for (const started of processes.reverse()) await started.kill('SIGTERM')
    for (const table of [
      'nullifier_propagations',
      'nullifier_alerts',
      'nullifier_status',
      'nullifier_uses',
    ]) {
      await testBus.pool.query(`DELETE FROM ${table} WHERE scope = $1`, [scope.toString()])
    }
    await cleanListenerRows(testBus, [anvil.chain, peer.chain])
    await testBus.close()
    await anvil.stop()
  }
}

async function timeUntil(done: () => Promise<boolean>, what: string): Promise<number> {
  const started = performance.now()
  await eventually(async () => ((await done()) ? true : undefined), PROPAGATION_CAP_MS, what)
  return performance.now() - started
}
