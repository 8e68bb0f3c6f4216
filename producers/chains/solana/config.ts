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
 * Every Solana cluster the listener can follow is a configuration entry, as for the other
 * families: CAIP-2 id `solana:<first 32 characters of the genesis hash>` (preflight checks it
 * against getGenesisHash), JSON-RPC URLs, an optional websocket URL for logsSubscribe wake-ups,
 * the Veridis authorities (protocol.ts) and the first slot.
 *
 * Sources, later ones winning per field (common/chain-entries.ts):
 *   1. the built-in mainnet-beta entry (disabled until it has RPC URLs and authorities),
 *   2. `<VERIDIS_HOME>/chains/solana.json`, written by `veridis stack up` for the local validator,
 *   3. VERIDIS_SOLANA_CONFIG: a JSON array of entries (partial for built-in chains),
 *   4. VERIDIS_SOLANA_RPC_URLS_<genesis prefix> / VERIDIS_SOLANA_WS_URL_<genesis prefix>.
 *
 * Heights are slots. Finality: blocks are read at `confirmed` (getBlock serves nothing below
 * it) and published PENDING; a slot at or below the node's `finalized` slot is FINALIZED.
 */
const base58 = (what: string) => z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, `must be a base58 ${what}`)

const authoritiesSchema = z.object({
  /** Signs attestation memos. */
  attestation: base58('public key').optional(),
  /** Base key of the nullifier marker accounts; the relayer signs with it. */
  nullifier: base58('public key').optional(),
})

const entrySchema = z.object({
  chain: z
    .string()
    .regex(
      /^solana:[1-9A-HJ-NP-Za-km-z]{32}$/,
      'must be a solana CAIP-2 id: solana:<first 32 characters of the genesis hash>',
    ),
  name: z.string().min(1).optional(),
  rpcUrls: z.array(httpUrlSchema).optional(),
  wsUrl: wsUrlSchema.optional(),
  authorities: authoritiesSchema.optional(),
  startBlock: z.number().int().nonnegative().optional(),
  /** Most already-final slots one catch-up step covers. */
  maxBlockRange: z.number().int().min(1).max(1_000_000).optional(),
  /** Signatures per getSignaturesForAddress page (nodes cap it at 1,000). */
  signaturesPageSize: z.number().int().min(1).max(1_000).optional(),
  ...pacingFields,
})
export type SolanaChainEntry = z.infer<typeof entrySchema>

export interface SolanaChainConfig extends FollowSettings {
  readonly chain: string
  /** The genesis hash prefix the chain id names. */
  readonly genesisPrefix: string
  readonly name: string
  readonly rpcUrls: readonly string[]
  readonly wsUrl: string | undefined
  readonly authorities: z.infer<typeof authoritiesSchema>
  readonly signaturesPageSize: number
  readonly requestTimeoutMs: number
}

const DEFAULTS = {
  maxBlockRange: 5_000,
  signaturesPageSize: 1_000,
  maxHeadBatch: 50,
  pollIntervalMs: 2_000,
  requestTimeoutMs: 15_000,
}

/** Solana mainnet-beta: 400 ms slots, finalized ~32 slots behind the tip. */
export const BUILT_IN_SOLANA_CHAINS: readonly SolanaChainEntry[] = [
  { chain: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp', ...DEFAULTS },
]

/** Where `veridis stack up` writes the local validator, as configuration entries. */
export const localSolanaChainsFile = (home: string) => localChainsFile(home, 'solana')

/** A genesis hash's CAIP-2 id. */
export const solanaChainOf = (genesisHash: string) => `solana:${genesisHash.slice(0, 32)}`

/** Every configured Solana chain, merged from the four sources; throws ConfigError listing every problem. */
export const loadSolanaChains = chainEntriesLoader({
  envName: 'SOLANA',
  schema: entrySchema,
  builtIn: BUILT_IN_SOLANA_CHAINS,
  localFile: localSolanaChainsFile,
  mergedFields: ['authorities'],
  envReference: '[1-9A-HJ-NP-Za-km-z]+',
  chainOfEnvReference: (reference) => ({ chain: `solana:${reference}` }),
  wsUrlVariable: true,
})

/** The complete configuration of one chain, or the one-line reason it cannot run. */
export function resolveSolanaChain(
  entry: SolanaChainEntry,
): { config: SolanaChainConfig } | { problem: string } {
  const rpcUrls = entry.rpcUrls ?? []
  const reference = entry.chain.slice('solana:'.length)
  if (rpcUrls.length === 0) {
    return {
      problem: `no RPC URLs for ${entry.chain}; set VERIDIS_SOLANA_RPC_URLS_${reference} or rpcUrls in VERIDIS_SOLANA_CONFIG`,
    }
  }
  const authorities = entry.authorities ?? {}
  if (!authorities.attestation && !authorities.nullifier) {
    return {
      problem: `no Veridis authorities for ${entry.chain}; set authorities in VERIDIS_SOLANA_CONFIG (the local validator: bin/veridis up records them)`,
    }
  }
  return {
    config: {
      chain: entry.chain,
      genesisPrefix: reference,
      name: entry.name ?? findChain(entry.chain)?.name ?? entry.chain,
      rpcUrls,
      wsUrl: entry.wsUrl,
      authorities,
      startBlock: entry.startBlock ?? 0,
      maxBlockRange: entry.maxBlockRange ?? DEFAULTS.maxBlockRange,
      signaturesPageSize: entry.signaturesPageSize ?? DEFAULTS.signaturesPageSize,
      maxHeadBatch: entry.maxHeadBatch ?? DEFAULTS.maxHeadBatch,
      pollIntervalMs: entry.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      requestTimeoutMs: entry.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    },
  }
}
