import { describeCrossFamilyPropagation } from '../nullifiers/cross-family.ts'
import { devnetPeer, startTestDevnet } from './support.ts'

/**
 * Nullifier propagation between EVM and StarkNet (test/nullifiers/cross-family.ts): two
 * anvils (a use on StarkNet must reach every other chain) and a starknet-devnet of this file's
 * own, the consumer writing with the StarkNet relayer (devnet account 8).
 */
describeCrossFamilyPropagation({
  family: 'StarkNet',
  anvils: 2,
  nullifierBase: 7_000_000n,
  startPeer: async () => devnetPeer(await startTestDevnet()),
})
