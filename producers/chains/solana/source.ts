import type { Finality } from '../../../core/bus/types.ts'
import { NonRetryableError, RetryableError } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logging/logger.ts'
import { HistoryUnavailableError, MisconfiguredChainError } from '../common/errors.ts'
import type { ChainEvent } from '../common/publisher.ts'
import type { BlockRef, ChainSource } from '../common/source.ts'
import type { SolanaChainConfig } from './config.ts'
import { normaliseSolanaBlock } from './normalise/events.ts'
import { createSolanaRpc, hasCode, SolanaErrorCode, type SolanaRpc } from './rpc/client.ts'
import { watchSolanaLogs } from './rpc/heads.ts'
import {
  type BlockHeader,
  blockHeaderSchema,
  fullBlockSchema,
  genesisHashSchema,
  type SignatureInfo,
  signaturePageSchema,
  slotListSchema,
  slotSchema,
  versionSchema,
} from './rpc/schemas.ts'

/**
 * A Solana cluster as the listener engine sees it. Heights are slots; the head is the
 * `confirmed` slot (getBlock serves nothing below `confirmed`, so a `processed` block has no
 * header to keep), the finalized target the `finalized` slot. Blocks near the head are
 * published PENDING and FINALIZED once their slot is finalized.
 *
 * Skipped slots: the engine expects a block at every height. A slot the leader skipped is
 * presented as a block whose hash and parent hash are both the hash of the produced block
 * before it (the next produced block's previousBlockhash), so produced blocks link up across
 * gaps by parent hash exactly as on chains without gaps, and a block that is dropped later —
 * a fork abandoned before it was finalized — turns its slot into a "skipped" one with another
 * hash: the engine sees a different hash at a published height, walks back, and RETRACTs
 * exactly the events of the dropped blocks.
 *
 * Events: getSignaturesForAddress for each Veridis authority (newest first, paged with
 * `before`, down to the range), then getBlock (jsonParsed) for each slot holding one, so every
 * event names its block's hash and position; normalise/events.ts says which transactions count.
 */
type Commitment = 'confirmed' | 'finalized'

const SKIPPED = [SolanaErrorCode.slotSkipped, SolanaErrorCode.longTermStorageSlotSkipped]
const NOT_YET = [SolanaErrorCode.blockNotAvailable, SolanaErrorCode.blockStatusNotAvailableYet]

/**
 * Slots from `from` on are needed but the node's ledger now starts at `firstAvailable`: say
 * which slots are gone from it and the two ways on, instead of retrying for ever (a pruned
 * ledger never grows back) or reading on past them (their events would be skipped for good).
 */
function historyGone(chain: string, endpoint: string, from: number, firstAvailable: number) {
  return new HistoryUnavailableError(
    `${chain}: slots ${from}–${firstAvailable - 1} are no longer kept by ${endpoint} (its ledger now ` +
      `starts at slot ${firstAvailable}), so their events cannot be read. Point rpcUrls at a node that ` +
      `keeps that history, or give those slots up: startBlock ${firstAvailable} and the chain's row in ` +
      'chain_listener_cursor deleted',
    { details: { chain, from, firstAvailable } },
  )
}

/** The node's oldest slot still in its ledger (it rises as the ledger is pruned). */
const firstAvailableSlot = (rpc: SolanaRpc) => rpc.call('getFirstAvailableBlock', [], slotSchema)

/** The header of a produced block, 'skipped' for a slot without one, null when the node lacks it. */
async function producedBlock(
  rpc: SolanaRpc,
  chain: string,
  slot: number,
  commitment: Commitment,
): Promise<BlockHeader | 'skipped' | null> {
  try {
    return await rpc.call(
      'getBlock',
      [slot, { commitment, transactionDetails: 'none', rewards: false, maxSupportedTransactionVersion: 0 }],
      blockHeaderSchema,
    )
  } catch (error) {
    if (hasCode(error, ...SKIPPED)) return 'skipped'
    if (hasCode(error, ...NOT_YET)) return null
    if (hasCode(error, SolanaErrorCode.blockCleanedUp))
      throw historyGone(chain, rpc.activeUrl(), slot, await firstAvailableSlot(rpc))
    throw error
  }
}

/**
 * The signatures of successful transactions mentioning `address` in slots from..to, paging
 * back from the newest. Failed transactions changed nothing and are left out here.
 */
export async function signaturesInRange(
  rpc: SolanaRpc,
  request: {
    readonly address: string
    readonly from: number
    readonly to: number
    readonly commitment: Commitment
    readonly pageSize: number
  },
): Promise<{ signatures: SignatureInfo[]; pages: number }> {
  const found: SignatureInfo[] = []
  let before: string | undefined
  let pages = 0
  for (;;) {
    const page = await rpc.call(
      'getSignaturesForAddress',
      [
        request.address,
        { limit: request.pageSize, commitment: request.commitment, ...(before ? { before } : {}) },
      ],
      signaturePageSchema,
    )
    pages++
    for (const info of page) {
      if (info.slot >= request.from && info.slot <= request.to && info.err === null) found.push(info)
    }
    const oldest = page.at(-1)
    if (!oldest || page.length < request.pageSize || oldest.slot < request.from) break
    before = oldest.signature
  }
  return { signatures: found, pages }
}

export function createSolanaSource(options: {
  readonly config: SolanaChainConfig
  readonly logger: Logger
  readonly onRpcError: (redactedUrl: string) => void
}): ChainSource {
  const { config, logger } = options
  const chain = config.chain
  const rpc = createSolanaRpc({
    chain,
    urls: config.rpcUrls,
    timeoutMs: config.requestTimeoutMs,
    logger,
    onError: options.onRpcError,
  })
  const addresses = [
    ...new Set([config.authorities.attestation, config.authorities.nullifier].filter(Boolean) as string[]),
  ]

  return {
    chain,
    family: 'solana',
    activeEndpoint: rpc.activeUrl,

    /** The node serves the cluster the chain id names (its genesis hash). */
    async preflight() {
      const genesis = await rpc.call('getGenesisHash', [], genesisHashSchema)
      if (genesis.slice(0, 32) !== config.genesisPrefix) {
        throw new MisconfiguredChainError(
          `${chain}: RPC ${rpc.activeUrl()} serves the cluster with genesis hash ${genesis}, not solana:${config.genesisPrefix}…; fix its RPC URLs`,
        )
      }
      const version = await rpc.call('getVersion', [], versionSchema)
      return {
        rpc: rpc.endpoints.map((endpoint) => endpoint.redacted),
        version: version['solana-core'],
        authorities: config.authorities,
      }
    },

    head: () => rpc.call('getSlot', [{ commitment: 'confirmed' }], slotSchema),

    async finalizedTarget(head) {
      const finalized = await rpc.call('getSlot', [{ commitment: 'finalized' }], slotSchema)
      return Math.min(finalized, head)
    },

    async header(number): Promise<BlockRef | null> {
      const block = await producedBlock(rpc, chain, number, 'confirmed')
      if (block !== null && block !== 'skipped')
        return { number, hash: block.blockhash, parentHash: block.previousBlockhash }
      // Not readable: skipped, or not (yet) on the confirmed fork. Above the finalized root the
      // node answers "not available" (-32004) for a skipped slot too, so ask which block comes
      // next on the confirmed fork (getBlocksWithLimit includes the confirmed bank's ancestors).
      const [next] = await rpc.call(
        'getBlocksWithLimit',
        [number, 1, { commitment: 'confirmed' }],
        slotListSchema,
      )
      if (next === undefined || next <= number) return null
      // A skipped slot takes the hash of the produced block before it, read off the next one.
      const after = await producedBlock(rpc, chain, next, 'confirmed')
      if (after === null || after === 'skipped' || after.parentSlot >= number) return null
      return { number, hash: after.previousBlockhash, parentHash: after.previousBlockhash }
    },

    async events(from, to, finality: Finality): Promise<ChainEvent[]> {
      const commitment: Commitment = finality === 'FINALIZED' ? 'finalized' : 'confirmed'
      const perAddress = await Promise.all(
        addresses.map((address) =>
          signaturesInRange(rpc, { address, from, to, commitment, pageSize: config.signaturesPageSize }),
        ),
      )
      // The signature index is pruned with the ledger, silently: a range reaching below the
      // node's first slot would come back short. Read after the signatures, the first slot
      // vouches for them (it only rises).
      const firstAvailable = await firstAvailableSlot(rpc)
      if (firstAvailable > from) throw historyGone(chain, rpc.activeUrl(), from, firstAvailable)
      const bySlot = new Map<number, Set<string>>()
      for (const { signatures } of perAddress) {
        for (const info of signatures) {
          const set = bySlot.get(info.slot) ?? new Set<string>()
          set.add(info.signature)
          bySlot.set(info.slot, set)
        }
      }
      const context = { chain, authorities: config.authorities, observedAt: Date.now() }
      const events: ChainEvent[] = []
      for (const slot of [...bySlot.keys()].sort((a, b) => a - b)) {
        let block: Awaited<ReturnType<typeof readBlock>>
        try {
          block = await readBlock(rpc, slot, commitment)
        } catch (error) {
          if (hasCode(error, SolanaErrorCode.blockCleanedUp))
            throw historyGone(chain, rpc.activeUrl(), slot, await firstAvailableSlot(rpc))
          if (!hasCode(error, ...SKIPPED, ...NOT_YET)) throw error
          // A signature the node listed in a slot it cannot serve: it moved meanwhile; retry.
          throw new RetryableError(
            `${chain}: slot ${slot} holds a listed signature but no block at ${commitment}`,
          )
        }
        const found = normaliseSolanaBlock(context, slot, block, bySlot.get(slot)!, finality)
        events.push(...found)
      }
      for (const event of events) {
        const slot = event.value.envelope.blockNumber
        if (slot < from || slot > to)
          throw new NonRetryableError(`${chain}: an event outside ${from}–${to}`, { details: { slot } })
      }
      return events
    },

    ...(config.wsUrl === undefined || addresses.length === 0
      ? {}
      : {
          watchHeads: (onHead: () => void, signal: AbortSignal) =>
            watchSolanaLogs({ url: config.wsUrl!, addresses, logger, signal, onHead }),
        }),

    destroy() {},
  }
}

/** A whole block, transactions in jsonParsed encoding (System and Memo instructions parsed). */
export function readBlock(rpc: SolanaRpc, slot: number, commitment: Commitment) {
  return rpc.call(
    'getBlock',
    [
      slot,
      {
        commitment,
        encoding: 'jsonParsed',
        transactionDetails: 'full',
        rewards: false,
        maxSupportedTransactionVersion: 0,
      },
    ],
    fullBlockSchema,
  )
}
