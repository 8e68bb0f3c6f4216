import type { ChainFamilyModule } from '../common/family.ts'
import { loadSolanaChains, resolveSolanaChain, type SolanaChainConfig } from './config.ts'
import { createSolanaSource } from './source.ts'

/** The Solana family: mainnet-beta, and the local solana-test-validator the stack starts. */
export const solanaFamily: ChainFamilyModule<SolanaChainConfig> = {
  family: 'solana',
  listenerOpsPort: 9483,

  loadChains(home, env) {
    const entries = loadSolanaChains(home, env)
    return new Map(
      [...entries.values()].map((entry) => [
        entry.chain,
        {
          chain: entry.chain,
          enabled: (entry.rpcUrls ?? []).length > 0,
          resolved: resolveSolanaChain(entry),
        },
      ]),
    )
  },

  createSource: (config, deps) =>
    createSolanaSource({ config, logger: deps.logger, onRpcError: deps.onRpcError }),
}
