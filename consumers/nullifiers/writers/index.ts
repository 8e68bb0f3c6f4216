import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { DEV_ACCOUNT, devWallet } from '../../../contracts/evm/accounts.ts'
import { type ChainFamily, familyOfChain } from '../../../core/chains.ts'
import { type Config, ConfigError } from '../../../core/config/env.ts'
import { evmFamily } from '../../../producers/chains/evm/family.ts'
import { starknetFamily } from '../../../producers/chains/starknet/family.ts'
import { cosmosWriters } from './cosmos.ts'
import { createEvmWriter } from './evm.ts'
import { polkadotWritableChains, polkadotWriterFor } from './polkadot.ts'
import { solanaWritableChains, solanaWriterFor } from './solana.ts'
import { createStarknetWriter } from './starknet.ts'
import type { NullifierWriter } from './writer.ts'

/**
 * The writers of every connected chain, by CAIP-2 id. A chain family plugs in here with a
 * factory (`./<family>.ts` implementing `NullifierWriter`, ./writer.ts), reading its chains'
 * configuration from the same family registry the listeners use.
 */
interface FamilyWriters {
  /** The family's chains that can take writes: enabled, with a nullifier registry configured. */
  writableChains(config: Config): string[]
  create(chain: string, config: Config): NullifierWriter | { problem: string }
}

const WRITERS: Partial<Record<ChainFamily, FamilyWriters>> = {
  evm: {
    writableChains: (config) =>
      [...evmFamily.loadChains(config.home).values()]
        .filter(
          ({ enabled, resolved }) =>
            enabled && 'config' in resolved && resolved.config.contracts.nullifierRegistry,
        )
        .map(({ chain }) => chain),
    create: evmWriterFor,
  },
  starknet: {
    writableChains: (config) =>
      [...starknetFamily.loadChains(config.home).values()]
        .filter(
          ({ enabled, resolved }) =>
            enabled && 'config' in resolved && resolved.config.contracts.nullifierRegistry,
        )
        .map(({ chain }) => chain),
    create: starknetWriterFor,
  },
  cosmos: cosmosWriters,
  polkadot: { writableChains: polkadotWritableChains, create: polkadotWriterFor },
  solana: { writableChains: solanaWritableChains, create: solanaWriterFor },
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
  const resolved = evmFamily.loadChains(config.home).get(chain)?.resolved
  if (!resolved) return { problem: `${chain} is not a configured EVM chain (VERIDIS_EVM_CONFIG)` }
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

/**
 * The relayer's StarkNet account: configured, or — outside production — the local devnet's
 * predeployed relayer account, which `veridis up` writes among the local secrets.
 */
function starknetRelayer(
  chain: string,
  config: Config,
): { account: string; privateKey: string } | { problem: string } {
  if (config.relayer.starknet) return config.relayer.starknet
  if (config.env === 'production') {
    return {
      problem:
        'VERIDIS_RELAYER_STARKNET_ACCOUNT and VERIDIS_RELAYER_STARKNET_PRIVATE_KEY: required in production (the relayer signs with them)',
    }
  }
  const file = path.join(config.home, 'secrets', 'starknet-relayer.json')
  const local = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { chain?: string; account?: string; privateKey?: string })
    : undefined
  if (local?.chain !== chain || !local.account || !local.privateKey) {
    return {
      problem: `${chain}: no relayer account; set VERIDIS_RELAYER_STARKNET_ACCOUNT and VERIDIS_RELAYER_STARKNET_PRIVATE_KEY (the local devnet: bin/veridis up writes its dev account)`,
    }
  }
  return { account: local.account, privateKey: local.privateKey }
}

function starknetWriterFor(chain: string, config: Config): NullifierWriter | { problem: string } {
  const resolved = starknetFamily.loadChains(config.home).get(chain)?.resolved
  if (!resolved) return { problem: `${chain} is not a configured StarkNet chain (VERIDIS_STARKNET_CONFIG)` }
  if ('problem' in resolved) return resolved
  const registry = resolved.config.contracts.nullifierRegistry
  if (!registry) return { problem: `${chain} has no nullifierRegistry address` }
  const relayer = starknetRelayer(chain, config)
  if ('problem' in relayer) return relayer
  return createStarknetWriter({
    chain,
    chainId: resolved.config.chainId,
    rpcUrls: resolved.config.rpcUrls,
    registry,
    account: relayer.account,
    privateKey: relayer.privateKey,
    requestTimeoutMs: resolved.config.requestTimeoutMs,
  })
}

/** Chains propagated between when VERIDIS_RELAYER_CHAINS is unset: every writable chain of every family. */
function defaultChains(config: Config): string[] {
  return Object.values(WRITERS).flatMap((writers) => writers.writableChains(config))
}

/** One writer per connected chain; a chain that cannot get one is a configuration error naming it. */
export function createWriters(config: Config): Map<string, NullifierWriter> {
  const chains = config.relayer.chains ?? defaultChains(config)
  const writers = new Map<string, NullifierWriter>()
  const problems: string[] = []
  for (const chain of chains) {
    const family = familyOfChain(chain)
    const familyWriters = family ? WRITERS[family] : undefined
    const made = familyWriters
      ? familyWriters.create(chain, config)
      : { problem: `${chain}: no propagation writer for the ${family ?? 'unknown'} family yet` }
    if ('problem' in made) problems.push(`VERIDIS_RELAYER_CHAINS: ${made.problem}`)
    else writers.set(chain, made)
  }
  if (problems.length > 0) {
    for (const writer of writers.values()) writer.close()
    throw new ConfigError(problems)
  }
  return writers
}
