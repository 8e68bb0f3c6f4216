import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { findChain } from '../../../core/chains.ts'
import { ConfigError } from '../../../core/config/env.ts'
import type { FollowSettings } from '../common/source.ts'

/**
 * Every EVM chain the listener can follow is a configuration entry: CAIP-2 id, RPC URLs
 * (HTTP for requests, optional websocket for new-head notifications), the finality rule,
 * the Veridis contract addresses and the block to start from. Adding a chain is an entry in
 * a JSON file (VERIDIS_EVM_CONFIG) or RPC URLs in the environment, not code.
 *
 * Sources, later ones winning per field:
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
const rpcUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
const wsUrl = z
  .url({ protocol: /^wss?$/, error: 'must be a ws(s) URL' })
  // The websocket library refuses a URL with a fragment outright.
  .refine((url) => !url.includes('#'), 'must be a ws(s) URL without a #fragment')

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
  rpcUrls: z.array(rpcUrl).optional(),
  wsUrl: wsUrl.optional(),
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
  /** Most not-yet-final blocks fetched (headers + logs) per step near the head. */
  maxHeadBatch: z.number().int().min(1).max(10_000).optional(),
  /** Poll interval when no websocket notification arrives. */
  pollIntervalMs: z.number().int().min(50).max(600_000).optional(),
  /** Per-request timeout. */
  requestTimeoutMs: z.number().int().min(100).max(600_000).optional(),
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
export const localEvmChainsFile = (home: string) => path.join(home, 'chains', 'evm.json')

function merge(base: EvmChainEntry | undefined, override: EvmChainEntry): EvmChainEntry {
  if (!base) return override
  return { ...base, ...override, contracts: { ...base.contracts, ...override.contracts } }
}

const referenceOf = (chain: string) => chain.slice(chain.indexOf(':') + 1)

/**
 * Where JSON.parse stopped, as " (line L, column C)", or nothing. Its message itself is
 * never shown: it can quote the text around the error, and the file holds RPC URLs with
 * API keys.
 */
function jsonErrorPosition(text: string, error: unknown): string {
  const match = /at position (\d+)/.exec(error instanceof Error ? error.message : '')
  if (!match) return ''
  const position = Math.min(Number(match[1]), text.length)
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return ` (line ${line}, column ${column})`
}

/** Entries of a JSON configuration file; problems are named after `label`, never quoting the file. */
function readEntries(file: string, label: string, problems: string[]): EvmChainEntry[] {
  if (!existsSync(file)) {
    problems.push(`${label}: no such file '${file}'`)
    return []
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    problems.push(`${label}: cannot read '${file}' (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
    return []
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    problems.push(`${label}: not JSON${jsonErrorPosition(text, error)}`)
    return []
  }
  const parsed = z.array(entrySchema).safeParse(raw)
  if (parsed.success) return parsed.data
  for (const issue of parsed.error.issues) {
    problems.push(`${label}: entry ${issue.path.join('.')}: ${issue.message}`)
  }
  return []
}

/** Every configured EVM chain, merged from the four sources; throws ConfigError listing every problem. */
export function loadEvmChains(
  home: string,
  source: NodeJS.ProcessEnv = process.env,
): Map<string, EvmChainEntry> {
  const problems: string[] = []
  const entries = new Map<string, EvmChainEntry>()
  for (const entry of BUILT_IN_CHAINS) entries.set(entry.chain, entry)
  const files: [string, string][] = []
  const local = localEvmChainsFile(home)
  if (existsSync(local)) files.push([local, local])
  if (source.VERIDIS_EVM_CONFIG) files.push([source.VERIDIS_EVM_CONFIG, 'VERIDIS_EVM_CONFIG'])
  for (const [file, label] of files) {
    for (const entry of readEntries(file, label, problems)) {
      entries.set(entry.chain, merge(entries.get(entry.chain), entry))
    }
  }

  for (const [name, value] of Object.entries(source)) {
    const rpc = /^VERIDIS_EVM_RPC_URLS_(\d+)$/.exec(name)
    const ws = /^VERIDIS_EVM_WS_URL_(\d+)$/.exec(name)
    if (!value || (!rpc && !ws)) continue
    const chain = `eip155:${(rpc ?? ws)![1]}`
    const override = rpc
      ? {
          chain,
          rpcUrls: value
            .split(',')
            .map((url) => url.trim())
            .filter(Boolean),
        }
      : { chain, wsUrl: value }
    const parsed = entrySchema.safeParse(override)
    // URLs may carry API keys: name the variable, never echo the value.
    if (!parsed.success)
      problems.push(`${name}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`)
    else entries.set(chain, merge(entries.get(chain), parsed.data))
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return entries
}

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
