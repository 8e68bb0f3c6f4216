import { connectBus } from '../../../core/bus/connect.ts'
import { createBusProducer } from '../../../core/bus/producer.ts'
import type { Common } from '../../../core/context.ts'
import { createPool } from '../../../core/db/pool.ts'
import { chainMetrics } from '../../../core/metrics/protocol.ts'
import { startOpsServer } from '../../../core/ops/server.ts'
import { waitFor } from '../../../core/service/wait.ts'
import { type ChainFollower, createChainFollower } from './engine.ts'
import type { ChainFamilyModule, FamilyChain } from './family.ts'
import { createChainEventPublisher } from './publisher.ts'
import { createCursorStore } from './store/cursor-store.ts'
import { createListenerStateWriter } from './store/listener-state.ts'

/**
 * `veridis listen <family> [--chain <caip2>...]`: one process following every selected
 * chain of a family, each in its own loop. A chain that is down or misconfigured is
 * reported (logs, metrics, chain_listener_state) and left behind; the others keep going.
 */

/** Chains to follow: the ones asked for, or every configured chain that has endpoints. */
export function selectChains(
  chains: ReadonlyMap<string, FamilyChain<unknown>>,
  requested: readonly string[],
): string[] {
  if (requested.length > 0) return [...new Set(requested)]
  return [...chains.values()].filter((chain) => chain.enabled).map((chain) => chain.chain)
}

export async function runChainListener(
  common: Common,
  module: ChainFamilyModule,
  options: { chains?: readonly string[]; opsPort?: number; misconfiguredRetryMs?: number },
) {
  const { logger, config } = common
  const { family } = module
  const chains = module.loadChains(config.home)
  const selected = selectChains(chains, options.chains ?? [])
  const metrics = chainMetrics(common.metrics.registry)
  const bus = connectBus(common)
  const pool = createPool(config.database, logger, `veridis-listener-${family}`)
  common.shutdown.onShutdown('database pool', () => pool.end())
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: `listener-${family}`,
    topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
  })
  const publisher = createChainEventPublisher({ bus, producer })
  const store = createCursorStore(pool, config.namespace ?? 'default')
  const state = createListenerStateWriter(pool)

  const followers: ChainFollower[] = []
  const unusable: { chain: string; problem: string }[] = []
  for (const chain of selected) {
    const resolved = chains.get(chain)?.resolved ?? {
      problem: `no configuration entry for ${chain} in the ${family} family; see docs/chains.md`,
    }
    if ('problem' in resolved) {
      unusable.push({ chain, problem: resolved.problem })
      continue
    }
    const source = module.createSource(resolved.config, {
      logger: logger.child({ chain }),
      onRpcError: (url) => metrics.rpcErrors.inc({ chain, url }),
    })
    followers.push(
      createChainFollower({
        common,
        source,
        settings: resolved.config,
        store,
        state,
        metrics,
        publish: (events) => publisher.publish(events),
        ...(options.misconfiguredRetryMs === undefined
          ? {}
          : { misconfiguredRetryMs: options.misconfiguredRetryMs }),
      }),
    )
  }

  await startOpsServer(common, {
    port: options.opsPort ?? module.listenerOpsPort,
    checks: followers.map((follower) => ({ name: follower.chain, check: () => follower.ready() })),
  })
  await waitFor('database', () => pool.query('SELECT 1'), { logger, signal: common.shutdown.signal })
  for (const { chain, problem } of unusable) {
    logger.error({ chain, error: problem }, 'chain not started: misconfigured; other chains continue')
    await state.error(chain, family, problem, null).catch(() => undefined)
  }
  await waitFor('schema registry and Kafka', () => producer.connect(), {
    logger,
    signal: common.shutdown.signal,
  })
  common.shutdown.onShutdown('producer', () => producer.disconnect())

  const controller = new AbortController()
  common.shutdown.signal.addEventListener('abort', () => controller.abort(), { once: true })
  const loops = followers.map((follower) => follower.run(controller.signal))
  common.shutdown.onShutdown('chain loops', async () => {
    controller.abort()
    await Promise.allSettled(loops)
  })
  logger.info(
    { family, chains: followers.map((follower) => follower.chain), unusable: unusable.map((u) => u.chain) },
    'chain listener started',
  )
  return { followers, unusable, loops }
}
