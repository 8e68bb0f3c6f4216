import type { ChainFamilyModule } from '../common/family.ts'
import { loadPolkadotChains, type PolkadotChainConfig, resolvePolkadotChain } from './config.ts'
import { createPolkadotSource } from './source.ts'

/** The Polkadot family: the relay chain and parachains, and the local chopsticks chain the stack starts. */
export const polkadotFamily: ChainFamilyModule<PolkadotChainConfig> = {
  family: 'polkadot',
  listenerOpsPort: 9484,

  loadChains(home, env) {
    const entries = loadPolkadotChains(home, env)
    return new Map(
      [...entries.values()].map((entry) => [
        entry.chain,
        {
          chain: entry.chain,
          enabled: (entry.rpcUrls ?? []).length > 0,
          resolved: resolvePolkadotChain(entry),
        },
      ]),
    )
  },

  createSource: (config, deps) =>
    createPolkadotSource({ config, logger: deps.logger, onRpcError: deps.onRpcError }),
}
