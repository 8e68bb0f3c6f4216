import type { ChainFamilyModule } from '../common/family.ts'
import { type CosmosChainConfig, loadCosmosChains, resolveCosmosChain } from './config.ts'
import { createCosmosSource } from './source.ts'

/** The Cosmos family: CometBFT chains with the Veridis CosmWasm registry, and the local wasmd. */
export const cosmosFamily: ChainFamilyModule<CosmosChainConfig> = {
  family: 'cosmos',
  listenerOpsPort: 9482,

  loadChains(home, env) {
    const entries = loadCosmosChains(home, env)
    return new Map(
      [...entries.values()].map((entry) => [
        entry.chain,
        {
          chain: entry.chain,
          enabled: (entry.rpcUrls ?? []).length > 0,
          resolved: resolveCosmosChain(entry),
        },
      ]),
    )
  },

  createSource: (config, deps) =>
    createCosmosSource({ config, logger: deps.logger, onRpcError: deps.onRpcError }),
}
