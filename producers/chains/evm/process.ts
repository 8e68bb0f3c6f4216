import { connectBus } from '../../../core/bus/connect.ts'
import { createBusProducer } from '../../../core/bus/producer.ts'
import type { Common } from '../../../core/context.ts'
import { createPool } from '../../../core/db/pool.ts'
import { chainMetrics } from '../../../core/metrics/protocol.ts'
import { startOpsServer } from '../../../core/ops/server.ts'
import { waitFor } from '../../../core/service/wait.ts'
import { createChainEventPublisher } from '../common/publisher.ts'
import { type ChainListener, createChainListener } from './chain-listener.ts'
import { type EvmChainEntry, loadEvmChains, resolveChain } from './config.ts'
import { loadVeridisAbi } from './normalise/abi.ts'
import { createCursorStore } from './store/cursor-store.ts'
import { createListenerStateWriter } from './store/listener-state.ts'

/**
 * `veridis listen evm [--chain <caip2>...]`: one process following every selected EVM
 * chain, each in its own loop. A chain that is down or misconfigured is reported (logs,
 * metrics, chain_listener_state) and left behind; the others keep going.
 */
export const LISTENER_EVM_OPS_PORT = 9472

/** Chains to follow: the ones asked for, or every configured chain that has RPC URLs. */
export function selectChains(
  entries: ReadonlyMap<string, EvmChainEntry>,
  requested: readonly string[],
): string[] {
  if (requested.length > 0) return [...new Set(requested)]
  return [...entries.values()].filter((entry) => (entry.rpcUrls ?? []).length > 0).map((entry) => entry.chain)
}

export async function runEvmListener(
  common: Common,
  options: { chains?: readonly string[]; opsPort?: number; misconfiguredRetryMs?: number },
) {
  const { logger, config } = common
  const entries = loadEvmChains(config.home)
  const selected = selectChains(entries, options.chains ?? [])
  const metrics = chainMetrics(common.metrics.registry)
  const bus = connectBus(common)
  const pool = createPool(config.database, logger, 'veridis-listener-evm')
  common.shutdown.onShutdown('database pool', () => pool.end())
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: 'listener-evm',
    topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
  })
  const publisher = createChainEventPublisher({ bus, producer })
  const store = createCursorStore(pool, config.namespace ?? 'default')
  const state = createListenerStateWriter(pool)
  const abi = loadVeridisAbi()

  const listeners: ChainListener[] = []
  const unusable: { chain: string; problem: string }[] = []
  for (const chain of selected) {
    const entry = entries.get(chain)
    const resolved = entry
      ? resolveChain(entry)
      : { problem: `no configuration entry for ${chain}; add one to VERIDIS_EVM_CONFIG` }
    if ('problem' in resolved) {
      unusable.push({ chain, problem: resolved.problem })
      continue
    }
    listeners.push(
      createChainListener({
        common,
        config: resolved.config,
        abi,
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
    port: options.opsPort ?? LISTENER_EVM_OPS_PORT,
    checks: listeners.map((listener) => ({ name: listener.chain, check: () => listener.ready() })),
  })
  await waitFor('database', () => pool.query('SELECT 1'), { logger, signal: common.shutdown.signal })
  for (const { chain, problem } of unusable) {
    logger.error({ chain, error: problem }, 'chain not started: misconfigured; other chains continue')
    await state.error(chain, problem, null).catch(() => undefined)
  }
  await waitFor('schema registry and Kafka', () => producer.connect(), {
    logger,
    signal: common.shutdown.signal,
  })
  common.shutdown.onShutdown('producer', () => producer.disconnect())

  const controller = new AbortController()
  common.shutdown.signal.addEventListener('abort', () => controller.abort(), { once: true })
  const loops = listeners.map((listener) => listener.run(controller.signal))
  common.shutdown.onShutdown('chain loops', async () => {
    controller.abort()
    await Promise.allSettled(loops)
  })
  logger.info(
    { chains: listeners.map((listener) => listener.chain), unusable: unusable.map((u) => u.chain) },
    'EVM listener started',
  )
  return { listeners, unusable, loops }
}
