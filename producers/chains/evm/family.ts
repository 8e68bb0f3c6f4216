import type { ChainFamilyModule } from '../common/family.ts'
import { type EvmChainConfig, loadEvmChains, resolveChain } from './config.ts'
import { loadVeridisAbi, type VeridisAbi } from './normalise/abi.ts'
import { createEvmSource } from './source.ts'

/** The EVM family: Ethereum, Polygon, BSC, Avalanche, Arbitrum, Optimism, Fantom, Base and the local anvils. */
let abi: VeridisAbi | undefined

export const evmFamily: ChainFamilyModule<EvmChainConfig> = {
  family: 'evm',
  listenerOpsPort: 9472,

  loadChains(home, env) {
    const entries = loadEvmChains(home, env)
    return new Map(
      [...entries.values()].map((entry) => [
        entry.chain,
        { chain: entry.chain, enabled: (entry.rpcUrls ?? []).length > 0, resolved: resolveChain(entry) },
      ]),
    )
  },

  createSource(config, deps) {
    abi ??= loadVeridisAbi()
    return createEvmSource({ config, abi, logger: deps.logger, onRpcError: deps.onRpcError })
  },
}
