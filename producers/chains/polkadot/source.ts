import type { Finality } from '../../../core/bus/types.ts'
import type { Logger } from '../../../core/logging/logger.ts'
import { MisconfiguredChainError } from '../common/errors.ts'
import type { ChainEvent } from '../common/publisher.ts'
import type { ChainSource } from '../common/source.ts'
import { type PolkadotChainConfig, PolkadotFinalityRule, polkadotChainOf } from './config.ts'
import { normalisePolkadotBlock, writerRemarks } from './normalise/records.ts'
import { accountHex, registryAccount } from './normalise/remark.ts'
import { createPolkadotRpc, type PolkadotRpc } from './rpc/client.ts'

/**
 * A Polkadot-family chain as the listener engine sees it: heads from chain_getHeader,
 * headers by chain_getBlockHash + chain_getHeader, finality from chain_getFinalizedHead
 * (GRANDPA) or a confirmations depth (chopsticks, whose finalized head is its best head),
 * the Veridis records of each block from its `system.events` (and the block's extrinsics
 * when a writer remarked in it), new heads by chain_subscribeNewHeads.
 */
export async function readBlockEvents(
  rpc: PolkadotRpc,
  context: { chain: string; writers: ReadonlySet<string>; registry: string; logger: Logger },
  from: number,
  to: number,
  finality: Finality,
): Promise<ChainEvent[]> {
  const numbers = Array.from({ length: to - from + 1 }, (_, offset) => from + offset)
  const perBlock = await mapBounded(numbers, 8, async (number) => {
    const header = await rpc.header(number)
    // The engine asked for blocks it saw; a node without one now is behind or reorging:
    // the engine's hash check on the events' blocks catches the latter.
    if (!header) return []
    const events = await rpc.events(header.hash)
    if (writerRemarks(context, events).length === 0) return []
    const extrinsics = await rpc.extrinsics(header.hash)
    return normalisePolkadotBlock(
      {
        chain: context.chain,
        writers: context.writers,
        registry: context.registry,
        observedAt: Date.now(),
        onSkipped: (reason, details) => context.logger.warn({ chain: context.chain, ...details }, reason),
      },
      header,
      events,
      extrinsics,
      finality,
    )
  })
  return perBlock.flat()
}

async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await map(items[index]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

export function createPolkadotSource(options: {
  readonly config: PolkadotChainConfig
  readonly logger: Logger
  readonly onRpcError: (redactedUrl: string) => void
}): ChainSource {
  const { config, logger } = options
  const chain = config.chain
  const rpc = createPolkadotRpc({
    chain,
    urls: config.rpcUrls,
    timeoutMs: config.requestTimeoutMs,
    logger,
    onError: options.onRpcError,
  })
  const writers = new Set(config.writers.map(accountHex))
  const registry = registryAccount(config.writers)
  const context = { chain, writers, registry, logger }

  return {
    chain,
    family: 'polkadot',
    activeEndpoint: rpc.activeUrl,

    /** The endpoint serves the configured genesis, and its runtime has the calls Veridis records use. */
    async preflight() {
      const genesis = await rpc.genesisHash()
      if (polkadotChainOf(genesis) !== chain) {
        throw new MisconfiguredChainError(
          `${chain}: RPC ${rpc.activeUrl()} serves the chain with genesis ${genesis} (${polkadotChainOf(genesis)}); fix its RPC URLs`,
        )
      }
      const runtime = await rpc.runtime()
      const missing = Object.entries(runtime.pallets)
        .filter(([, present]) => !present)
        .map(([call]) => call)
      if (missing.length > 0) {
        throw new MisconfiguredChainError(
          `${chain}: the runtime ${runtime.specName} ${runtime.specVersion} lacks ${missing.join(', ')}, which Veridis records need`,
        )
      }
      return {
        rpc: rpc.endpoints.map((endpoint) => endpoint.redacted),
        runtime: `${runtime.specName} ${runtime.specVersion}`,
        registry,
        writers: [...writers],
      }
    },

    head: () => rpc.head(),

    async finalizedTarget(head) {
      if (config.finality.rule === PolkadotFinalityRule.confirmations)
        return head - config.finality.confirmations
      return Math.min(await rpc.finalizedHead(), head)
    },

    async header(number) {
      const header = await rpc.header(number)
      return header && { number: header.number, hash: header.hash, parentHash: header.parentHash }
    },

    events: (from, to, finality) => readBlockEvents(rpc, context, from, to, finality),

    watchHeads(onHead, signal) {
      let unsubscribe: (() => void) | undefined
      let stopped = false
      const subscribe = async () => {
        while (!stopped && !signal.aborted) {
          try {
            unsubscribe = await rpc.subscribeHeads(onHead)
            return
          } catch {
            // Polling goes on; try the subscription again later.
            await new Promise((resolve) => setTimeout(resolve, 5_000))
          }
        }
      }
      void subscribe()
      return {
        async stop() {
          stopped = true
          unsubscribe?.()
        },
      }
    },

    destroy: () => rpc.close(),
  }
}
