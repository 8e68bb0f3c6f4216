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
 * Every EVM chain the listener can follow is a configuration entry: CAIP-2 id, RPC URLs
 * (HTTP for requests, optional websocket for new-head notifications), the finality rule,
 * the Veridis contract addresses and the block to start from. Adding a chain is an entry in
 * a JSON file (VERIDIS_EVM_CONFIG) or RPC URLs in the environment, not code.
 *
 * Sources, later ones winning per field (common/chain-entries.ts):
 *   1. the built-in entries below (eight mainnets, disabled until they have RPC URLs and
 *      contract addresses),
 *   2. `<VERIDIS_HOME>/chains/evm.json`: the local chains, written as data by `veridis stack
 *      up` once their contracts are deployed (same format as the next),
 *   3. VERIDIS_EVM_CONFIG: a JSON array of entries (partial for built-in chains),
 *   4. VERIDIS_EVM_RPC_URLS_<chain reference> / VERIDIS_EVM_WS_URL_<chain reference>,
 *      e.g. VERIDIS_EVM_RPC_URLS_1=https://a.example,https://b.example for eip155:1.
 */
export const FinalityRule = {
  /** The block `confirmations` below the head is final. */
  confirmations: 'confirmations',
  /** The node's `finalized` block tag says what is final. */
  finalizedTag: 'finalized-tag',
} as const

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address')

const contractsSchema = z.object({
  attestationRegistry: address.optional(),
  nullifierRegistry: address.optional(),
  bridgeGateway: address.optional(),
  /** Further bridge gateways on this chain (other bridges, or a gateway's successor). */
  bridgeGateways: z.array(address).max(64).optional(),
})

const entrySchema = z.object({
  chain: z.string().regex(/^eip155:[1-9]\d{0,18}$/, 'must be an eip155 CAIP-2 id such as eip155:1'),
  name: z.string().min(1).optional(),
  rpcUrls: z.array(httpUrlSchema).optional(),
  wsUrl: wsUrlSchema.optional(),
  finality: z
    .discriminatedUnion('rule', [
      z.object({
        rule: z.literal(FinalityRule.confirmations),
        confirmations: z.number().int().min(0).max(10_000),
      }),
      z.object({ rule: z.literal(FinalityRule.finalizedTag) }),
    ])
    .optional(),
  contracts: contractsSchema.optional(),
  startBlock: z.number().int().nonnegative().optional(),
  /** Most blocks one eth_getLogs asks for (providers cap this; halved on "range too large"). */
  maxBlockRange: z.number().int().min(1).max(1_000_000).optional(),
  ...pacingFields,
})
export type EvmChainEntry = z.infer<typeof entrySchema>

export interface EvmChainConfig extends FollowSettings {
  readonly chain: string
  readonly chainId: bigint
  readonly name: string
  readonly rpcUrls: readonly string[]
  readonly wsUrl: string | undefined
  readonly finality:
    | { readonly rule: typeof FinalityRule.confirmations; readonly confirmations: number }
    | { readonly rule: typeof FinalityRule.finalizedTag }
  readonly contracts: z.infer<typeof contractsSchema>
  readonly requestTimeoutMs: number
}

const tag = { rule: FinalityRule.finalizedTag } as const
const MAINNET_DEFAULTS = {
  maxBlockRange: 2_000,
  maxHeadBatch: 50,
  pollIntervalMs: 4_000,
  requestTimeoutMs: 15_000,
}

/**
 * The eight EVM mainnets. Every one exposes the `finalized` tag except Fantom, whose
 * Lachesis consensus finalises a block once it is produced; three confirmations cover the
 * RPC node itself lagging. Poll intervals follow the block times.
 */
export const BUILT_IN_CHAINS: readonly EvmChainEntry[] = [
  { chain: 'eip155:1', finality: tag, ...MAINNET_DEFAULTS, pollIntervalMs: 6_000 },
  { chain: 'eip155:137', finality: tag, ...MAINNET_DEFAULTS, pollIntervalMs: 2_000 },
  { chain: 'eip155:56', finality: tag, ...MAINNET_DEFAULTS, pollIntervalMs: 1_500 },
  { chain: 'eip155:43114', finality: tag, ...MAINNET_DEFAULTS, pollIntervalMs: 2_000 },
  { chain: 'eip155:42161', finality: tag, ...MAINNET_DEFAULTS, pollIntervalMs: 1_000 },
  { chain: 'eip155:10', finality: tag, ...MAINNET_DEFAULTS, pollIntervalMs: 2_000 },
  {
    chain: 'eip155:250',
    finality: { rule: FinalityRule.confirmations, confirmations: 3 },
    ...MAINNET_DEFAULTS,
    pollIntervalMs: 1_000,
  },
  { chain: 'eip155:8453', finality: tag, ...MAINNET_DEFAULTS, pollIntervalMs: 2_000 },
]

/** Where `veridis stack up` writes the local EVM chains it started, as configuration entries. */
export const localEvmChainsFile = (home: string) => localChainsFile(home, 'evm')

const referenceOf = (chain: string) => chain.slice(chain.indexOf(':') + 1)

/** Every configured EVM chain, merged from the four sources; throws ConfigError listing every problem. */
export const loadEvmChains = chainEntriesLoader({
  envName: 'EVM',
  schema: entrySchema,
  builtIn: BUILT_IN_CHAINS,
  localFile: localEvmChainsFile,
  mergedFields: ['contracts'],
  envReference: '\\d+',
  chainOfEnvReference: (reference) => ({ chain: `eip155:${reference}` }),
  wsUrlVariable: true,
  detailedFileProblems: true,
})

/**
 * The complete configuration of one chain, or the reason it cannot run. A chain without
 * RPC URLs or without any contract address is misconfigured: the listener reports that for
 * that chain alone and keeps the others going.
 */
export function resolveChain(entry: EvmChainEntry): { config: EvmChainConfig } | { problem: string } {
  const rpcUrls = entry.rpcUrls ?? []
  const reference = referenceOf(entry.chain)
  if (rpcUrls.length === 0) {
    return {
      problem: `no RPC URLs for ${entry.chain}; set VERIDIS_EVM_RPC_URLS_${reference} or rpcUrls in VERIDIS_EVM_CONFIG`,
    }
  }
  const contracts = entry.contracts ?? {}
  if (
    !contracts.attestationRegistry &&
    !contracts.nullifierRegistry &&
    !contracts.bridgeGateway &&
    !contracts.bridgeGateways?.length
  ) {
    return {
      problem: `no Veridis contract addresses for ${entry.chain}; set contracts in VERIDIS_EVM_CONFIG (local chains: bin/veridis stack up deploys and records them)`,
    }
  }
  return {
    config: {
      chain: entry.chain,
      chainId: BigInt(reference),
      name: entry.name ?? findChain(entry.chain)?.name ?? entry.chain,
      rpcUrls,
      wsUrl: entry.wsUrl,
      finality: entry.finality ?? tag,
      contracts,
      startBlock: entry.startBlock ?? 0,
      maxBlockRange: entry.maxBlockRange ?? MAINNET_DEFAULTS.maxBlockRange,
      maxHeadBatch: entry.maxHeadBatch ?? MAINNET_DEFAULTS.maxHeadBatch,
      pollIntervalMs: entry.pollIntervalMs ?? MAINNET_DEFAULTS.pollIntervalMs,
      requestTimeoutMs: entry.requestTimeoutMs ?? MAINNET_DEFAULTS.requestTimeoutMs,
    },
  }
}
