import { describeCrossFamilyPropagation } from '../nullifiers/cross-family.ts'
import { chopsticksPeer, startTestChopsticks } from './support.ts'

/**
 * Nullifier propagation between Polkadot and EVM (test/nullifiers/cross-family.ts): a
 * chopsticks chain of this file's own, the consumer writing with a dev relayer. Chopsticks
 * makes blocks on demand, so the peer builds them (and mines the anvils alongside) every 2 s
 * for the two confirmations the local chain counts as final.
 */
describeCrossFamilyPropagation({
  family: 'Polkadot',
  nullifierBase: 8_100_000n,
  startPeer: async () => chopsticksPeer(await startTestChopsticks()),
})
