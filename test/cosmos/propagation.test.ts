import { describeCrossFamilyPropagation, expectRejection } from '../nullifiers/cross-family.ts'
import {
  cosmosRelayerEnv,
  startCosmosListener,
  startTestWasmd,
  wasmdEntry,
  writeCosmosConfig,
} from './support.ts'

/**
 * Nullifier propagation between the Cosmos and EVM families (test/nullifiers/cross-family.ts):
 * a wasmd chain of this file's own, the consumer writing with the Cosmos relayer (dev account
 * 8, RELAYER on the CosmWasm registry), which refuses a second use on-chain.
 */
describeCrossFamilyPropagation({
  family: 'Cosmos',
  nullifierBase: 8_000_000n,
  async startPeer() {
    const node = await startTestWasmd()
    const configFile = writeCosmosConfig([wasmdEntry(node)])
    return {
      chain: node.chain,
      consumerEnv: { VERIDIS_COSMOS_CONFIG: configFile, ...cosmosRelayerEnv(node) },
      startListener: (namespace) => startCosmosListener({ namespace, configFile, chains: [node.chain] }),
      use: async (scope, nullifier) => (await node.recordUse(scope, nullifier, 9n)).hash,
      isUsed: (scope, nullifier) => node.isUsed(scope, nullifier),
      async expectSecondUseRefused(scope, nullifier) {
        await expectRejection(node.recordUse(scope, nullifier), /nullifier already used/)
      },
      stop: () => node.stop(),
    }
  },
})
