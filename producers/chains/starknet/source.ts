import { hash } from 'starknet'
import type { Finality } from '../../../core/bus/types.ts'
import { NonRetryableError } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logging/logger.ts'
import { MisconfiguredChainError } from '../common/errors.ts'
import type { ChainEvent } from '../common/publisher.ts'
import type { ChainSource } from '../common/source.ts'
import { type StarknetChainConfig, StarknetFinalityRule } from './config.ts'
import { EVENT_SELECTORS, normaliseStarknetEvent, type StarknetContractRole } from './normalise/events.ts'
import { createStarknetRpc, hasCode, StarknetErrorCode, type StarknetRpc } from './rpc/client.ts'
import { watchStarknetHeads } from './rpc/heads.ts'
import {
  type BlockHeader,
  blockHeaderSchema,
  blockNumberSchema,
  type EmittedEvent,
  eventsPageSchema,
  felt,
  specVersionSchema,
} from './rpc/schemas.ts'

/**
 * A StarkNet chain as the listener engine sees it: heads by starknet_blockNumber, headers
 * and L1 acceptance by starknet_getBlockWithTxHashes (finality: a block ACCEPTED_ON_L1 is
 * final, ACCEPTED_ON_L2 is not yet), the Veridis contracts' events by starknet_getEvents per
 * contract in bounded ranges, page after page by continuation token, new heads by a
 * websocket subscription (starknet_subscribeNewHeads) where configured.
 */
const SPEC_MAJOR_MINOR = '0.10.'

/** Only blocks a node has accepted on L2 carry a hash; `latest` is the newest of them. */
const byNumber = (number: number) => ({ block_number: number })

/**
 * A block's identity under `block-and-content` (config.ts): the node's block hash with the
 * block's transaction and event commitments, so a block replaced at the same height with
 * other transactions is a different block even where the node reuses the hash.
 */
export function contentIdentity(
  block: Pick<BlockHeader, 'block_hash' | 'transaction_commitment' | 'event_commitment'>,
) {
  const combined = hash.computePoseidonHashOnElements([
    block.block_hash,
    block.transaction_commitment,
    block.event_commitment,
  ])
  return `0x${BigInt(combined).toString(16)}`
}

export async function readEvents(
  rpc: StarknetRpc,
  request: {
    readonly address: string
    readonly selectors: readonly string[]
    readonly from: number
    readonly to: number
    readonly pageSize: number
  },
): Promise<{ events: EmittedEvent[]; pages: number }> {
  const events: EmittedEvent[] = []
  let token: string | undefined
  let pages = 0
  do {
    const page = await rpc.call(
      'starknet_getEvents',
      {
        filter: {
          from_block: byNumber(request.from),
          to_block: byNumber(request.to),
          address: request.address,
          keys: [request.selectors],
          chunk_size: request.pageSize,
          ...(token === undefined ? {} : { continuation_token: token }),
        },
      },
      eventsPageSchema,
    )
    pages++
    for (const event of page.events) events.push(event)
    token = page.continuation_token
  } while (token !== undefined)
  return { events, pages }
}

export function createStarknetSource(options: {
  readonly config: StarknetChainConfig
  readonly logger: Logger
  readonly onRpcError: (redactedUrl: string) => void
}): ChainSource {
  const { config, logger } = options
  const chain = config.chain
  const rpc = createStarknetRpc({
    chain,
    urls: config.rpcUrls,
    timeoutMs: config.requestTimeoutMs,
    logger,
    onError: options.onRpcError,
  })
  const roles = new Map<string, StarknetContractRole>()
  for (const [role, address] of Object.entries(config.contracts) as [
    StarknetContractRole,
    string | undefined,
  ][]) {
    if (address) roles.set(`0x${BigInt(address).toString(16)}`, role)
  }

  const identityOf = (block: BlockHeader) =>
    config.blockIdentity === 'block-and-content' ? contentIdentity(block) : block.block_hash

  async function header(blockId: unknown) {
    try {
      const block = await rpc.call('starknet_getBlockWithTxHashes', { block_id: blockId }, blockHeaderSchema)
      return block
    } catch (error) {
      if (hasCode(error, StarknetErrorCode.blockNotFound)) return null
      throw error
    }
  }

  return {
    chain,
    family: 'starknet',
    activeEndpoint: rpc.activeUrl,

    /** The node speaks spec 0.10, serves the configured chain, and every configured contract exists there. */
    async preflight() {
      const spec = await rpc.call('starknet_specVersion', [], specVersionSchema)
      if (!spec.startsWith(SPEC_MAJOR_MINOR)) {
        throw new MisconfiguredChainError(
          `${chain}: RPC ${rpc.activeUrl()} serves JSON-RPC spec ${spec}; this listener speaks ${SPEC_MAJOR_MINOR}x (use the node's /rpc/v0_10 endpoint)`,
        )
      }
      const served = await rpc.call('starknet_chainId', [], felt)
      if (served !== config.chainId) {
        throw new MisconfiguredChainError(
          `${chain}: RPC ${rpc.activeUrl()} serves chain id ${served}, not ${config.chainId}; fix its RPC URLs`,
        )
      }
      for (const [address, role] of roles) {
        try {
          await rpc.call('starknet_getClassHashAt', { block_id: 'latest', contract_address: address }, felt)
        } catch (error) {
          if (!hasCode(error, StarknetErrorCode.contractNotFound)) throw error
          throw new MisconfiguredChainError(
            `${chain}: no contract at ${address} (configured as ${role}); wrong address, or not deployed on this chain`,
          )
        }
      }
      return {
        rpc: rpc.endpoints.map((endpoint) => endpoint.redacted),
        spec,
        contracts: Object.fromEntries(roles),
      }
    },

    head: () => rpc.call('starknet_blockNumber', [], blockNumberSchema),

    async finalizedTarget(head) {
      if (config.finality.rule === StarknetFinalityRule.confirmations)
        return head - config.finality.confirmations
      // The newest block whose state update is accepted on L1; none yet on a young chain.
      const accepted = await header('l1_accepted')
      return accepted ? Math.min(accepted.block_number, head) : -1
    },

    async header(number) {
      const block = await header(byNumber(number))
      if (!block) return null
      if (block.block_number !== number) {
        throw new NonRetryableError(
          `${chain}: asked for block ${number}, the node answered block ${block.block_number}`,
        )
      }
      if (config.blockIdentity === 'block-hash')
        return { number, hash: block.block_hash, parentHash: block.parent_hash }
      // The parent's identity needs the parent's commitments.
      const parent = number === 0 ? undefined : await header(byNumber(number - 1))
      if (number > 0 && (!parent || parent.block_hash !== block.parent_hash)) return null
      return { number, hash: identityOf(block), parentHash: parent ? identityOf(parent) : block.parent_hash }
    },

    async events(from, to, finality: Finality): Promise<ChainEvent[]> {
      const perContract = await Promise.all(
        [...roles].map(([address, role]) =>
          readEvents(rpc, {
            address,
            selectors: [...EVENT_SELECTORS[role].keys()],
            from,
            to,
            pageSize: config.eventsPageSize,
          }),
        ),
      )
      const emitted = perContract.flatMap((result) => result.events)
      for (const event of emitted) {
        if (event.block_number < from || event.block_number > to) {
          throw new NonRetryableError(
            `${chain}: starknet_getEvents returned an event outside ${from}–${to}`,
            {
              details: { blockNumber: event.block_number, tx: event.transaction_hash },
            },
          )
        }
      }
      emitted.sort(
        (a, b) =>
          a.block_number - b.block_number ||
          a.transaction_index - b.transaction_index ||
          a.event_index - b.event_index,
      )
      if (config.blockIdentity === 'block-and-content') {
        // Each event names its block by identity; an event whose block changed since it was
        // read keeps the node's hash, which the engine then sees does not match its header.
        const identities = new Map<number, { blockHash: string; identity: string }>()
        for (const number of new Set(emitted.map((event) => event.block_number))) {
          const block = await header(byNumber(number))
          if (block) identities.set(number, { blockHash: block.block_hash, identity: identityOf(block) })
        }
        for (const event of emitted) {
          const known = identities.get(event.block_number)
          if (known && known.blockHash === event.block_hash) event.block_hash = known.identity
        }
      }
      const context = { chain, roles, observedAt: Date.now() }
      const events: ChainEvent[] = []
      for (const event of emitted) {
        const normalised = normaliseStarknetEvent(context, event, finality)
        if (normalised) events.push(normalised)
      }
      return events
    },

    ...(config.wsUrl === undefined
      ? {}
      : {
          watchHeads: (onHead: () => void, signal: AbortSignal) =>
            watchStarknetHeads({ url: config.wsUrl!, logger, signal, onHead }),
        }),

    destroy() {},
  }
}
