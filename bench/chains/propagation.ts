import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { DEV_ACCOUNT } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import {
  chainEntry,
  cleanListenerRows,
  startListener,
  startTestChain,
  writeEvmConfig,
} from '../../test/evm/support.ts'
import type { FamilyPeer } from '../../test/nullifiers/family-peer.ts'
import type { ListenerProcess } from '../../test/support/chain-listener.ts'
import { type ConsumerProcess, startConsumerProcess } from '../../test/support/consumer-process.ts'
import { eventually, openTestBus, untilReady } from '../../test/support/harness.ts'
import { percentile } from '../stats.ts'
import type { PropagationFigure } from './family-bench.ts'

/** The most one use may take to reach the other chain before the bench gives up (chopsticks' blocks are slow). */
const PROPAGATION_CAP_MS = 180_000

/** How often the peer's chain is finalised while the bench runs, where finality comes on request. */
const FINALISE_EVERY_MS = 200

/**
 * Nullifier propagation latency between a family's node (its test/<family>/support.ts peer,
 * its listener from the node's current head) and an anvil, per direction, through
 * the real processes: both listeners and `veridis consume nullifiers`. Uses alternate between
 * the two chains; each is timed from its inclusion to the other chain's registry answering
 * "used".
 *
 * It runs in a namespace of its own: the throughput half published thousands of uses onto its
 * namespace's nullifier topic, and a consumer there would relay all of them before the first
 * timed one.
 */
export async function measurePropagation(peer: FamilyPeer, uses: number): Promise<PropagationFigure[]> {
  const testBus = await openTestBus()
  const anvil = await startTestChain({ blockTime: 1 })
  const evmConfig = writeEvmConfig([
    chainEntry(anvil, { finality: { rule: 'confirmations', confirmations: 1 } }),
  ])
  const scope = BigInt(randomInt(1, 2 ** 47))
  const processes: (ListenerProcess | ConsumerProcess)[] = []
  const stopMoving = keepMoving(peer)
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
    stopMoving()
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

/**
 * Keeps the peer's chain moving as a live one would while the bench runs: blocks built on its
 * clock where it makes them only on demand (none mined on the anvil: it makes one a second
 * itself), and its blocks made final as they come where finality is given on request.
 */
function keepMoving(peer: FamilyPeer): () => void {
  const stopBlocks = peer.keepProducingBlocks?.([])
  const finaliser = peer.finalise
    ? setInterval(() => {
        peer.finalise?.().catch(() => {})
      }, FINALISE_EVERY_MS)
    : undefined
  return () => {
    stopBlocks?.()
    clearInterval(finaliser)
  }
}

async function timeUntil(done: () => Promise<boolean>, what: string): Promise<number> {
  const started = performance.now()
  await eventually(async () => ((await done()) ? true : undefined), PROPAGATION_CAP_MS, what)
  return performance.now() - started
}
