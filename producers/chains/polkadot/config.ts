import { decodeAddress } from '@polkadot/util-crypto'
import { z } from 'zod'
import { findChain } from '../../../core/chains.ts'
import { chainEntriesLoader, localChainsFile, pacingFields, wsUrlSchema } from '../common/chain-entries.ts'
import type { FollowSettings } from '../common/source.ts'

/**
 * Every Polkadot-family chain (relay chain, parachain) the listener can follow is a
 * configuration entry: CAIP-2 id `polkadot:<first 32 hex digits of the genesis hash>`,
 * websocket RPC URLs (@polkadot/api speaks JSON-RPC over websockets), the finality rule, the
 * Veridis writers (their multisig account is where use keys live: normalise/remark.ts) and
 * the first block.
 *
 * Sources, later ones winning per field (common/chain-entries.ts):
 *   1. the built-in Polkadot entry (disabled until it has RPC URLs and writers),
 *   2. `<VERIDIS_HOME>/chains/polkadot.json`, written by `veridis stack up` for chopsticks,
 *   3. VERIDIS_POLKADOT_CONFIG: a JSON file of entries (partial for built-in chains),
 *   4. VERIDIS_POLKADOT_RPC_URLS_<genesis prefix>=wss://a.example,wss://b.example.
 */
export const PolkadotFinalityRule = {
  /** GRANDPA: blocks up to chain_getFinalizedHead are final. */
  finalizedHead: 'finalized-head',
  /**
   * The block `confirmations` below the best head is final. For chopsticks, whose
   * "finalized" head is simply its best head and moves back with dev_setHead: its own
   * finality is no finality at all.
   */
  confirmations: 'confirmations',
} as const

const address = z.string().refine((value) => {
  try {
    return decodeAddress(value).length === 32
  } catch {
    return false
  }
}, 'must be an SS58 address or 0x + 64 hex digits of a 32-byte account')

const entrySchema = z.object({
  chain: z
    .string()
    .regex(
      /^polkadot:[0-9a-f]{32}$/,
      'must be a polkadot CAIP-2 id: polkadot:<32 hex digits of the genesis hash>',
    ),
  name: z.string().min(1).optional(),
  rpcUrls: z.array(wsUrlSchema).optional(),
  finality: z
    .discriminatedUnion('rule', [
      z.object({ rule: z.literal(PolkadotFinalityRule.finalizedHead) }),
      z.object({
        rule: z.literal(PolkadotFinalityRule.confirmations),
        confirmations: z.number().int().min(0).max(10_000),
      }),
    ])
    .optional(),
  /** The accounts whose remarks are Veridis records; at least two (a threshold-2 multisig). */
  writers: z.array(address).min(2).max(100).optional(),
  startBlock: z.number().int().nonnegative().optional(),
  maxBlockRange: z.number().int().min(1).max(100_000).optional(),
  ...pacingFields,
})
export type PolkadotChainEntry = z.infer<typeof entrySchema>

export interface PolkadotChainConfig extends FollowSettings {
  readonly chain: string
  /** The genesis hash prefix the endpoints must serve (the CAIP-2 reference). */
  readonly genesisPrefix: string
  readonly name: string
  readonly rpcUrls: readonly string[]
  readonly finality:
    | { readonly rule: typeof PolkadotFinalityRule.finalizedHead }
    | { readonly rule: typeof PolkadotFinalityRule.confirmations; readonly confirmations: number }
  readonly writers: readonly string[]
  readonly requestTimeoutMs: number
}

const DEFAULTS = {
  // Each block costs a system.events read (and a block read when it holds a Veridis remark).
  maxBlockRange: 200,
  maxHeadBatch: 20,
  pollIntervalMs: 3_000,
  requestTimeoutMs: 15_000,
}

/** Polkadot relay chain: 6-second blocks, GRANDPA finality. */
export const BUILT_IN_POLKADOT_CHAINS: readonly PolkadotChainEntry[] = [
  {
    chain: 'polkadot:91b171bb158e2d3848fa23a9f1c25182',
    finality: { rule: PolkadotFinalityRule.finalizedHead },
    ...DEFAULTS,
  },
]

/** Where `veridis stack up` writes the local chopsticks chain. */
export const localPolkadotChainsFile = (home: string) => localChainsFile(home, 'polkadot')

/** The CAIP-2 id of a chain by its genesis hash. */
export const polkadotChainOf = (genesisHash: string) =>
  `polkadot:${genesisHash.replace(/^0x/, '').toLowerCase().slice(0, 32)}`

/** Every configured Polkadot chain, merged from the four sources; throws ConfigError listing every problem. */
export const loadPolkadotChains = chainEntriesLoader({
  envName: 'POLKADOT',
  schema: entrySchema,
  builtIn: BUILT_IN_POLKADOT_CHAINS,
  localFile: localPolkadotChainsFile,
  mergedFields: [],
  envReference: '[0-9a-fA-F]{32}',
  chainOfEnvReference: (reference) => ({ chain: `polkadot:${reference.toLowerCase()}` }),
  // The RPC URLs are websockets already.
  wsUrlVariable: false,
})

/** The complete configuration of one chain, or the one-line reason it cannot run. */
export function resolvePolkadotChain(
  entry: PolkadotChainEntry,
): { config: PolkadotChainConfig } | { problem: string } {
  const rpcUrls = entry.rpcUrls ?? []
  const reference = entry.chain.slice('polkadot:'.length)
  if (rpcUrls.length === 0) {
    return {
      problem: `no RPC URLs for ${entry.chain}; set VERIDIS_POLKADOT_RPC_URLS_${reference} or rpcUrls in VERIDIS_POLKADOT_CONFIG`,
    }
  }
  if (!entry.writers || entry.writers.length < 2) {
    return {
      problem: `no Veridis writers for ${entry.chain}; set writers (at least two accounts) in VERIDIS_POLKADOT_CONFIG (the local chopsticks: bin/veridis up records them)`,
    }
  }
  return {
    config: {
      chain: entry.chain,
      genesisPrefix: reference,
      name: entry.name ?? findChain(entry.chain)?.name ?? entry.chain,
      rpcUrls,
      finality: entry.finality ?? { rule: PolkadotFinalityRule.finalizedHead },
      writers: entry.writers,
      startBlock: entry.startBlock ?? 0,
      maxBlockRange: entry.maxBlockRange ?? DEFAULTS.maxBlockRange,
      maxHeadBatch: entry.maxHeadBatch ?? DEFAULTS.maxHeadBatch,
      pollIntervalMs: entry.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      requestTimeoutMs: entry.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    },
  }
}
