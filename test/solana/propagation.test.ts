import { describeCrossFamilyPropagation } from '../nullifiers/cross-family.ts'
import { startTestValidator, validatorPeer } from './support.ts'

/**
 * Nullifier propagation between Solana and EVM (test/nullifiers/cross-family.ts): a
 * solana-test-validator of this file's own, the consumer writing with the Solana registry
 * authority. A use is an account derived from (scope, nullifier), so a second one fails to
 * create it on-chain. The double-use alert comes once both uses are FINALIZED (about 13 s
 * after confirmation on Solana).
 */
describeCrossFamilyPropagation({
  family: 'Solana',
  nullifierBase: 8_200_000n,
  startPeer: async () => validatorPeer(await startTestValidator()),
})
