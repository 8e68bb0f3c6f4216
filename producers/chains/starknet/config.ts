import { z } from 'zod'
import { findChain } from '../../../core/chains.ts'
import {
  chainEntriesLoader,
  httpUrlSchema,
  localChainsFile,
  pacingFields,
  wsUrlSchema,
} from '../common/chain-entries.ts'
import type { FollowSettings } from '../common/source.ts'

/**
 * Every StarkNet chain the listener can follow is a configuration entry, as for EVM chains
 * (evm/config.ts): CAIP-2 id `starknet:<chain id as a short string>` (SN_MAIN, SN_SEPOLIA, a
 * devnet's own), JSON-RPC URLs (spec 0.10), an optional websocket URL for new-head
 * notifications, the finality rule, the Veridis Cairo contract addresses and the first block.
 *
 * Sources, later ones winning per field (common/chain-entries.ts):
 *   1. the built-in mainnet entry (disabled until it has RPC URLs and contract addresses),
 *   2. `<VERIDIS_HOME>/chains/starknet.json`, written by `veridis stack up` for the devnet,
 *   3. VERIDIS_STARKNET_CONFIG: a JSON array of entries (partial for built-in chains),
 *   4. VERIDIS_STARKNET_RPC_URLS_<chain reference> / VERIDIS_STARKNET_WS_URL_<chain reference>,
 *      e.g. VERIDIS_STARKNET_RPC_URLS_SN_MAIN=https://a.example/rpc/v0_10.
 */
export const StarknetFinalityRule = {
  /** A block is final once its status is ACCEPTED_ON_L1 (its state update proven on Ethereum). */
  acceptedOnL1: 'accepted-on-l1',
  /** The block `confirmations` below the head is final (nodes that report no L1 status). */
  confirmations: 'confirmations',
} as const

/** A StarkNet address: a felt, 0x-prefixed hex of at most 64 digits. */
const felt = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'must be a 0x-prefixed felt (at most 64 hex digits)')

const contractsSchema = z.object({
  attestationRegistry: felt.optional(),
  nullifierRegistry: felt.optional(),
})

const entrySchema = z.object({
  chain: z
    .string()
    .regex(/^starknet:[A-Z0-9_]{1,31}$/, 'must be a starknet CAIP-2 id such as starknet:SN_MAIN'),
  name: z.string().min(1).optional(),
  rpcUrls: z.array(httpUrlSchema).optional(),
  wsUrl: wsUrlSchema.optional(),
  finality: z
    .discriminatedUnion('rule', [
      z.object({ rule: z.literal(StarknetFinalityRule.acceptedOnL1) }),
      z.object({
        rule: z.literal(StarknetFinalityRule.confirmations),
        confirmations: z.number().int().min(0).max(10_000),
      }),
    ])
    .optional(),
  contracts: contractsSchema.optional(),
  /**
   * What identifies a block for reorg detection. `block-hash`: the node's block hash, which on
   * a real network commits to the block's contents. `block-and-content`: that hash combined
   * with the block's transaction and event commitments, for starknet-devnet, whose block hash
   * commits to number, parent and transaction count only (and a block replaced after
   * devnet_abortBlocks can come back with the old hash).
   */
  blockIdentity: z.enum(['block-hash', 'block-and-content']).optional(),
  startBlock: z.number().int().nonnegative().optional(),
  /** Most blocks one starknet_getEvents range covers (its pages follow continuation tokens). */
  maxBlockRange: z.number().int().min(1).max(1_000_000).optional(),
  /** Events per starknet_getEvents page (nodes cap it; 1024 is the usual limit). */
  eventsPageSize: z.number().int().min(1).max(10_000).optional(),
  ...pacingFields,
})
export type StarknetChainEntry = z.infer<typeof entrySchema>

export interface StarknetChainConfig extends FollowSettings {
  readonly chain: string
  /** The chain id as starknet_chainId answers it: the short string's felt, lower-case hex. */
  readonly chainId: string
  readonly name: string
  readonly rpcUrls: readonly string[]
  readonly wsUrl: string | undefined
  readonly finality:
    | { readonly rule: typeof StarknetFinalityRule.acceptedOnL1 }
    | { readonly rule: typeof StarknetFinalityRule.confirmations; readonly confirmations: number }
  readonly contracts: z.infer<typeof contractsSchema>
  readonly blockIdentity: 'block-hash' | 'block-and-content'
  readonly eventsPageSize: number
  readonly requestTimeoutMs: number
}

const DEFAULTS = {
  maxBlockRange: 1_000,
  eventsPageSize: 1_000,
  maxHeadBatch: 20,
  pollIntervalMs: 6_000,
  requestTimeoutMs: 15_000,
}

/** StarkNet mainnet: blocks every few seconds, final once their state is proven on Ethereum. */
export const BUILT_IN_STARKNET_CHAINS: readonly StarknetChainEntry[] = [
  { chain: 'starknet:SN_MAIN', finality: { rule: StarknetFinalityRule.acceptedOnL1 }, ...DEFAULTS },
]

/** Where `veridis stack up` writes the local devnet, as configuration entries. */
export const localStarknetChainsFile = (home: string) => localChainsFile(home, 'starknet')

/** A short string (SN_MAIN) as the felt starknet_chainId answers (0x534e5f4d41494e). */
export function chainIdOf(reference: string): string {
  return `0x${Buffer.from(reference, 'ascii').toString('hex')}`
}

/** Every configured StarkNet chain, merged from the four sources; throws ConfigError listing every problem. */
export const loadStarknetChains = chainEntriesLoader({
  envName: 'STARKNET',
  schema: entrySchema,
  builtIn: BUILT_IN_STARKNET_CHAINS,
  localFile: localStarknetChainsFile,
  mergedFields: ['contracts'],
  envReference: '[A-Z0-9_]+',
  chainOfEnvReference: (reference) => ({ chain: `starknet:${reference}` }),
  wsUrlVariable: true,
})

/** The complete configuration of one chain, or the one-line reason it cannot run. */
export function resolveStarknetChain(
  entry: StarknetChainEntry,
): { config: StarknetChainConfig } | { problem: string } {
  const rpcUrls = entry.rpcUrls ?? []
  const reference = entry.chain.slice('starknet:'.length)
  if (rpcUrls.length === 0) {
    return {
      problem: `no RPC URLs for ${entry.chain}; set VERIDIS_STARKNET_RPC_URLS_${reference} or rpcUrls in VERIDIS_STARKNET_CONFIG`,
    }
  }
  const contracts = entry.contracts ?? {}
  if (!contracts.attestationRegistry && !contracts.nullifierRegistry) {
    return {
      problem: `no Veridis contract addresses for ${entry.chain}; set contracts in VERIDIS_STARKNET_CONFIG (the local devnet: bin/veridis up deploys and records them)`,
    }
  }
  return {
    config: {
      chain: entry.chain,
      chainId: chainIdOf(reference),
      name: entry.name ?? findChain(entry.chain)?.name ?? entry.chain,
      rpcUrls,
      wsUrl: entry.wsUrl,
      finality: entry.finality ?? { rule: StarknetFinalityRule.acceptedOnL1 },
      contracts,
      blockIdentity: entry.blockIdentity ?? 'block-hash',
      startBlock: entry.startBlock ?? 0,
      maxBlockRange: entry.maxBlockRange ?? DEFAULTS.maxBlockRange,
      eventsPageSize: entry.eventsPageSize ?? DEFAULTS.eventsPageSize,
      maxHeadBatch: entry.maxHeadBatch ?? DEFAULTS.maxHeadBatch,
      pollIntervalMs: entry.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      requestTimeoutMs: entry.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    },
  }
}
