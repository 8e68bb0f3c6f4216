import type { ChainFamilyModule } from '../common/family.ts'
import { loadStarknetChains, resolveStarknetChain, type StarknetChainConfig } from './config.ts'
import { createStarknetSource } from './source.ts'

/** The StarkNet family: mainnet, and the local starknet-devnet the stack starts. */
export const starknetFamily: ChainFamilyModule<StarknetChainConfig> = {
  family: 'starknet',
  listenerOpsPort: 9481,

  loadChains(home, env) {
    const entries = loadStarknetChains(home, env)
    return new Map(
      [...entries.values()].map((entry) => [
        entry.chain,
        {
          chain: entry.chain,
          enabled: (entry.rpcUrls ?? []).length > 0,
          resolved: resolveStarknetChain(entry),
        },
      ]),
    )
  },

  createSource: (config, deps) =>
    createStarknetSource({ config, logger: deps.logger, onRpcError: deps.onRpcError }),
}
