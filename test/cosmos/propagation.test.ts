import { describeCrossFamilyPropagation } from '../nullifiers/cross-family.ts'
import { startTestWasmd, wasmdPeer } from './support.ts'

/**
 * Nullifier propagation between the Cosmos and EVM families (test/nullifiers/cross-family.ts):
 * a wasmd chain of this file's own, the consumer writing with the Cosmos relayer (dev account
 * 8, RELAYER on the CosmWasm registry), which refuses a second use on-chain.
 */
describeCrossFamilyPropagation({
  family: 'Cosmos',
  nullifierBase: 8_000_000n,
  startPeer: async () => wasmdPeer(await startTestWasmd()),
})
