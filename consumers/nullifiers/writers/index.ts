import { DEV_ACCOUNT, devWallet } from '../../../contracts/evm/accounts.ts'
import { type Config, ConfigError } from '../../../core/config/env.ts'
import { loadEvmChains, resolveChain } from '../../../producers/chains/evm/config.ts'
import { createEvmWriter } from './evm.ts'
import type { NullifierWriter } from './writer.ts'

/**
 * The writers of every connected chain, by CAIP-2 id. A chain family plugs in here with a
 * factory; StarkNet, Cosmos, Solana and Polkadot writers implement `NullifierWriter`
 * (./writer.ts) the same way the EVM one does.
 */
type WriterFactory = (chain: string, config: Config) => NullifierWriter | { problem: string }

const FAMILIES: Record<string, WriterFactory> = {
  eip155: evmWriterFor,
}

function evmPrivateKey(config: Config): string {
  if (config.relayer.evmPrivateKey) return config.relayer.evmPrivateKey
  if (config.env === 'production') {
    throw new ConfigError([
      'VERIDIS_RELAYER_EVM_PRIVATE_KEY: required in production (the relayer signs with it)',
    ])
  }
  // The local anvils' relayer: dev account 8 holds RELAYER on every local NullifierRegistry.
  return devWallet(DEV_ACCOUNT.relayer).privateKey
}

function evmWriterFor(chain: string, config: Config): NullifierWriter | { problem: string } {
  const entry = loadEvmChains(config.home).get(chain)
  if (!entry) return { problem: `${chain} is not a configured EVM chain (VERIDIS_EVM_CONFIG)` }
  const resolved = resolveChain(entry)
  if ('problem' in resolved) return resolved
  const registry = resolved.config.contracts.nullifierRegistry
  if (!registry) return { problem: `${chain} has no nullifierRegistry address` }
  return createEvmWriter({
    chain,
    chainId: resolved.config.chainId,
    rpcUrls: resolved.config.rpcUrls,
    registry,
    privateKey: evmPrivateKey(config),
    requestTimeoutMs: resolved.config.requestTimeoutMs,
  })
}

/** Chains propagated between when VERIDIS_RELAYER_CHAINS is unset: every EVM chain with RPC URLs and a registry. */
function defaultChains(config: Config): string[] {
  return [...loadEvmChains(config.home).values()]
    .filter((entry) => (entry.rpcUrls?.length ?? 0) > 0 && entry.contracts?.nullifierRegistry)
    .map((entry) => entry.chain)
}

/** One writer per connected chain; a chain that cannot get one is a configuration error naming it. */
export function createWriters(config: Config): Map<string, NullifierWriter> {
  const chains = config.relayer.chains ?? defaultChains(config)
  const writers = new Map<string, NullifierWriter>()
  const problems: string[] = []
  for (const chain of chains) {
    const family = chain.slice(0, chain.indexOf(':'))
    const factory = FAMILIES[family]
    const made = factory
      ? factory(chain, config)
      : { problem: `${chain}: no propagation writer for the ${family} family yet` }
    if ('problem' in made) problems.push(`VERIDIS_RELAYER_CHAINS: ${made.problem}`)
    else writers.set(chain, made)
  }
  if (problems.length > 0) {
    for (const writer of writers.values()) writer.close()
    throw new ConfigError(problems)
  }
  return writers
}
