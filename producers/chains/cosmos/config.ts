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
 * Every Cosmos chain the listener can follow is a configuration entry, as for EVM and StarkNet
 * chains: CAIP-2 id `cosmos:<chain id>` (cosmoshub-4, a local wasmd's veridis-local-1), CometBFT
 * JSON-RPC URLs, an optional websocket URL (`ws://…/websocket`) for new-block notifications,
 * the Veridis CosmWasm registry's address, the chain's bech32 prefix and gas price (for the
 * writer), and the first block.
 *
 * Finality is not configurable: CometBFT commits a block once more than two thirds of the
 * voting power precommitted it, and a committed block is never replaced (no forks without a
 * third of the stake equivocating, which the chain slashes). So a block the node reports is
 * FINALIZED at once (docs/cosmos.md).
 *
 * Sources, later ones winning per field (common/chain-entries.ts):
 *   1. the built-in Cosmos Hub entry (disabled until it has RPC URLs and a registry address),
 *   2. `<VERIDIS_HOME>/chains/cosmos.json`, written by `veridis stack up` for the local wasmd,
 *   3. VERIDIS_COSMOS_CONFIG: a JSON array of entries (partial for known chains),
 *   4. VERIDIS_COSMOS_RPC_URLS_<chain id> / VERIDIS_COSMOS_WS_URL_<chain id> for a chain the
 *      sources above know, the chain id upper-cased with `-` as `_`
 *      (VERIDIS_COSMOS_RPC_URLS_COSMOSHUB_4=https://a.example:26657).
 */
const bech32Address = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,20}1[02-9ac-hj-np-z]{38,90}$/, 'must be a bech32 address')

const entrySchema = z.object({
  chain: z
    .string()
    .regex(/^cosmos:[-_a-zA-Z0-9]{1,32}$/, 'must be a cosmos CAIP-2 id such as cosmos:cosmoshub-4'),
  name: z.string().min(1).optional(),
  rpcUrls: z.array(httpUrlSchema).optional(),
  wsUrl: wsUrlSchema.optional(),
  contracts: z.object({ registry: bech32Address.optional() }).optional(),
  /** Account address prefix (wasm for wasmd, cosmos for the Hub). */
  bech32Prefix: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,20}$/)
    .optional(),
  /** The writer's gas price, `<amount><denom>` as the chain's minimum-gas-prices says it (0stake locally). */
  gasPrice: z
    .string()
    .regex(/^\d+(\.\d+)?[a-zA-Z][a-zA-Z0-9/:._-]{1,127}$/, 'must be <amount><denom>, e.g. 0.025uatom')
    .optional(),
  /** Gas limit of one propagation write (MsgExecuteContract record_relayed). */
  writeGasLimit: z.number().int().min(50_000).max(10_000_000).optional(),
  startBlock: z.number().int().min(1).optional(),
  /** Most blocks one tx_search covers in catch-up. */
  maxBlockRange: z.number().int().min(1).max(1_000_000).optional(),
  /** Transactions per tx_search page (CometBFT caps it at 100). */
  txSearchPageSize: z.number().int().min(1).max(100).optional(),
  ...pacingFields,
})
export type CosmosChainEntry = z.infer<typeof entrySchema>

export interface CosmosChainConfig extends FollowSettings {
  readonly chain: string
  /** The chain id as CometBFT's /status names it (node_info.network). */
  readonly chainId: string
  readonly name: string
  readonly rpcUrls: readonly string[]
  readonly wsUrl: string | undefined
  readonly contracts: { readonly registry: string }
  readonly bech32Prefix: string
  readonly gasPrice: string
  readonly writeGasLimit: number
  readonly txSearchPageSize: number
  readonly requestTimeoutMs: number
}

const DEFAULTS = {
  maxBlockRange: 5_000,
  txSearchPageSize: 100,
  maxHeadBatch: 20,
  pollIntervalMs: 2_000,
  requestTimeoutMs: 15_000,
  writeGasLimit: 400_000,
}

/** The Cosmos Hub: no Veridis registry there yet, so disabled until configured. */
export const BUILT_IN_COSMOS_CHAINS: readonly CosmosChainEntry[] = [
  { chain: 'cosmos:cosmoshub-4', bech32Prefix: 'cosmos', gasPrice: '0.005uatom', ...DEFAULTS },
]

/** Where `veridis stack up` writes the local wasmd, as configuration entries. */
export const localCosmosChainsFile = (home: string) => localChainsFile(home, 'cosmos')

/** The chain id inside an environment variable's name: cosmoshub-4 → COSMOSHUB_4. */
export const envReference = (chain: string) => chain.slice('cosmos:'.length).toUpperCase().replace(/-/g, '_')

/** Every configured Cosmos chain, merged from the four sources; throws ConfigError listing every problem. */
export const loadCosmosChains = chainEntriesLoader({
  envName: 'COSMOS',
  schema: entrySchema,
  builtIn: BUILT_IN_COSMOS_CHAINS,
  localFile: localCosmosChainsFile,
  mergedFields: ['contracts'],
  envReference: '[A-Z0-9_]+',
  // Upper-casing and `-` as `_` cannot be undone, so a variable can only name a chain already known.
  chainOfEnvReference: (reference, known) => {
    const chain = [...known.keys()].find((candidate) => envReference(candidate) === reference)
    return chain
      ? { chain }
      : {
          problem: `no configured Cosmos chain has the id ${reference}; add its entry to VERIDIS_COSMOS_CONFIG`,
        }
  },
  wsUrlVariable: true,
})

/** The complete configuration of one chain, or the one-line reason it cannot run. */
export function resolveCosmosChain(
  entry: CosmosChainEntry,
): { config: CosmosChainConfig } | { problem: string } {
  const rpcUrls = entry.rpcUrls ?? []
  if (rpcUrls.length === 0) {
    return {
      problem: `no RPC URLs for ${entry.chain}; set VERIDIS_COSMOS_RPC_URLS_${envReference(entry.chain)} or rpcUrls in VERIDIS_COSMOS_CONFIG`,
    }
  }
  const registry = entry.contracts?.registry
  if (!registry) {
    return {
      problem: `no Veridis registry contract for ${entry.chain}; set contracts.registry in VERIDIS_COSMOS_CONFIG (the local wasmd: bin/veridis up deploys and records it)`,
    }
  }
  const bech32Prefix = entry.bech32Prefix ?? registry.slice(0, registry.lastIndexOf('1'))
  if (!registry.startsWith(`${bech32Prefix}1`)) {
    return { problem: `${entry.chain}: the registry address does not have the prefix ${bech32Prefix}` }
  }
  return {
    config: {
      chain: entry.chain,
      chainId: entry.chain.slice('cosmos:'.length),
      name: entry.name ?? findChain(entry.chain)?.name ?? entry.chain,
      rpcUrls,
      wsUrl: entry.wsUrl,
      contracts: { registry },
      bech32Prefix,
      gasPrice: entry.gasPrice ?? '0stake',
      writeGasLimit: entry.writeGasLimit ?? DEFAULTS.writeGasLimit,
      startBlock: entry.startBlock ?? 1,
      maxBlockRange: entry.maxBlockRange ?? DEFAULTS.maxBlockRange,
      txSearchPageSize: entry.txSearchPageSize ?? DEFAULTS.txSearchPageSize,
      maxHeadBatch: entry.maxHeadBatch ?? DEFAULTS.maxHeadBatch,
      pollIntervalMs: entry.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      requestTimeoutMs: entry.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    },
  }
}
