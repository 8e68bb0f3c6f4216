import type { Finality } from '../../../core/bus/types.ts'
import { NonRetryableError } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logging/logger.ts'
import { MisconfiguredChainError } from '../common/errors.ts'
import type { ChainEvent } from '../common/publisher.ts'
import type { BlockRef, ChainSource } from '../common/source.ts'
import type { CosmosChainConfig } from './config.ts'
import { normaliseCosmosTx } from './normalise/events.ts'
import { type CometRpc, createCometRpc, isHeightAboveHead } from './rpc/client.ts'
import { watchCometHeads } from './rpc/heads.ts'
import { contractInfoRequest } from './rpc/proto.ts'
import {
  abciQuerySchema,
  type BlockMeta,
  blockchainSchema,
  statusSchema,
  type TxResult,
  txSearchSchema,
} from './rpc/schemas.ts'

/**
 * A Cosmos (CometBFT) chain as the listener engine sees it: the head from `status`, block ids
 * from `blockchain` (20 metas a call), the registry's transactions by `tx_search` on
 * `execute._contract_address` over a height range, page by page, and new blocks by a websocket
 * subscription where configured.
 *
 * Finality: CometBFT is instantly final — a block exists only once more than two thirds of the
 * voting power committed it, and a committed block is never replaced — so the final target is
 * the head and the engine publishes every event once, FINALIZED, with no PENDING before it (a
 * PENDING record would be followed by its FINALIZED twin within the same step and could never
 * be RETRACTED: twice the records, no information). Should a node ever answer another hash at
 * a published height, the engine stops the chain with DeepReorgError instead of guessing.
 */
const METAS_PER_CALL = 20

/** The block metas of heights from..to (at most 20), ascending; absent heights are missing. */
async function blockMetas(rpc: CometRpc, from: number, to: number): Promise<BlockMeta[]> {
  try {
    const answer = await rpc.call(
      'blockchain',
      { minHeight: String(from), maxHeight: String(to) },
      blockchainSchema,
    )
    return answer.block_metas
      .filter((meta) => meta.header.height >= from && meta.header.height <= to)
      .reverse()
  } catch (error) {
    if (isHeightAboveHead(error)) return []
    throw error
  }
}

/** Every transaction that executed the registry in heights from..to, in chain order. */
export async function searchRegistryTxs(
  rpc: CometRpc,
  request: { registry: string; from: number; to: number; pageSize: number },
): Promise<{ txs: TxResult[]; pages: number }> {
  const query = `execute._contract_address='${request.registry}' AND tx.height>=${request.from} AND tx.height<=${request.to}`
  const txs: TxResult[] = []
  let pages = 0
  for (let page = 1; ; page++) {
    const answer = await rpc.call(
      'tx_search',
      { query, prove: false, page: String(page), per_page: String(request.pageSize), order_by: 'asc' },
      txSearchSchema,
    )
    pages++
    txs.push(...answer.txs)
    if (answer.txs.length === 0 || txs.length >= answer.total_count) break
  }
  txs.sort((a, b) => a.height - b.height || a.index - b.index)
  return { txs, pages }
}

/**
 * The highest height whose transactions tx_search finds, given the node's latest height and
 * the transaction counts of the blocks just below it. CometBFT indexes a committed block's
 * transactions afterwards, on a goroutine of its own: for a moment `latest_block_height` names
 * a block tx_search knows nothing of yet, and a range read up to it would pass its
 * transactions by for good (the cursor moves on). A block's transactions are indexed in one
 * batch and blocks in order, so the first recent block (from the top) whose transactions are
 * all found vouches for every height up to it; a block with none has nothing to miss.
 */
export async function searchableHeight(
  latest: number,
  recentBlocks: readonly { readonly height: number; readonly txs: number }[],
  indexedTxs: (height: number) => Promise<number>,
): Promise<number> {
  let searchable = latest
  const newestFirst = [...recentBlocks]
    .filter((block) => block.height <= latest)
    .sort((a, b) => b.height - a.height)
  for (const block of newestFirst) {
    if (block.txs === 0) continue
    if ((await indexedTxs(block.height)) >= block.txs) return searchable
    searchable = block.height - 1
  }
  return searchable
}

export function createCosmosSource(options: {
  readonly config: CosmosChainConfig
  readonly logger: Logger
  readonly onRpcError: (redactedUrl: string) => void
}): ChainSource {
  const { config, logger } = options
  const chain = config.chain
  const registry = config.contracts.registry
  const rpc = createCometRpc({
    chain,
    urls: config.rpcUrls,
    timeoutMs: config.requestTimeoutMs,
    logger,
    onError: options.onRpcError,
  })

  return {
    chain,
    family: 'cosmos',
    activeEndpoint: rpc.activeUrl,

    /** The node serves the configured chain id, and the registry contract exists there. */
    async preflight() {
      const status = await rpc.call('status', {}, statusSchema)
      if (status.node_info.network !== config.chainId) {
        throw new MisconfiguredChainError(
          `${chain}: RPC ${rpc.activeUrl()} serves chain id ${status.node_info.network}, not ${config.chainId}; fix its RPC URLs`,
        )
      }
      const info = await rpc.call(
        'abci_query',
        {
          path: '/cosmwasm.wasm.v1.Query/ContractInfo',
          data: Buffer.from(contractInfoRequest(registry)).toString('hex'),
          prove: false,
        },
        abciQuerySchema,
      )
      if (info.response.code !== 0 || !info.response.value) {
        throw new MisconfiguredChainError(
          `${chain}: no contract at ${registry} (configured as the Veridis registry); wrong address, or not deployed on this chain`,
        )
      }
      return {
        rpc: rpc.endpoints.map((endpoint) => endpoint.redacted),
        cometbft: status.node_info.version,
        registry,
        finality: 'instant (CometBFT commit)',
      }
    },

    async head() {
      const latest = (await rpc.call('status', {}, statusSchema)).sync_info.latest_block_height
      const recent = await blockMetas(rpc, Math.max(1, latest - METAS_PER_CALL + 1), latest)
      return searchableHeight(
        latest,
        recent.map((meta) => ({ height: meta.header.height, txs: meta.num_txs })),
        async (height) =>
          (
            await rpc.call(
              'tx_search',
              { query: `tx.height=${height}`, prove: false, page: '1', per_page: '1', order_by: 'asc' },
              txSearchSchema,
            )
          ).total_count,
      )
    },

    // Instant finality: every committed block is final.
    finalizedTarget: async (head) => head,

    async header(number): Promise<BlockRef | null> {
      const [meta] = await blockMetas(rpc, number, number)
      if (!meta) return null
      return { number, hash: meta.block_id.hash, parentHash: meta.header.last_block_id.hash }
    },

    async events(from, to, finality: Finality): Promise<ChainEvent[]> {
      const { txs } = await searchRegistryTxs(rpc, {
        registry,
        from,
        to,
        pageSize: config.txSearchPageSize,
      })
      for (const tx of txs) {
        if (tx.height < from || tx.height > to) {
          throw new NonRetryableError(`${chain}: tx_search returned a transaction outside ${from}–${to}`, {
            details: { height: tx.height, tx: tx.hash },
          })
        }
      }
      // The block hash of every height with a transaction, 20 heights a call.
      const hashes = new Map<number, string>()
      const heights = [...new Set(txs.map((tx) => tx.height))]
      for (let i = 0; i < heights.length; ) {
        const start = heights[i]!
        const metas = await blockMetas(rpc, start, Math.min(to, start + METAS_PER_CALL - 1))
        for (const meta of metas) hashes.set(meta.header.height, meta.block_id.hash)
        while (i < heights.length && heights[i]! < start + METAS_PER_CALL) i++
      }
      const context = { chain, registry, observedAt: Date.now() }
      const events: ChainEvent[] = []
      for (const tx of txs) {
        const blockHash = hashes.get(tx.height)
        if (!blockHash) {
          throw new NonRetryableError(`${chain}: no block id for height ${tx.height} of tx ${tx.hash}`)
        }
        events.push(...normaliseCosmosTx(context, tx, blockHash, finality))
      }
      return events
    },

    ...(config.wsUrl === undefined
      ? {}
      : {
          watchHeads: (onHead: () => void, signal: AbortSignal) =>
            watchCometHeads({ url: config.wsUrl!, logger, signal, onHead }),
        }),

    destroy() {},
  }
}
