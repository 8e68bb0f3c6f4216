import { describeCrossFamilyPropagation, expectRejection } from '../nullifiers/cross-family.ts'
import {
  relayerKeyEnv,
  startSolanaListener,
  startTestValidator,
  validatorEntry,
  writeSolanaConfig,
} from './support.ts'

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
  async startPeer() {
    const validator = await startTestValidator()
    const configFile = writeSolanaConfig([validatorEntry(validator)])
    return {
      chain: validator.chain,
      consumerEnv: {
        VERIDIS_SOLANA_CONFIG: configFile,
        VERIDIS_RELAYER_SOLANA_SECRET_KEY: relayerKeyEnv(validator),
      },
      startListener: (namespace) => startSolanaListener({ namespace, configFile, chains: [validator.chain] }),
      use: async (scope, nullifier) => (await validator.use(scope, nullifier)).signature,
      isUsed: (scope, nullifier) => validator.isUsed(scope, nullifier),
      async expectSecondUseRefused(scope, nullifier) {
        await expectRejection(validator.use(scope, nullifier), /already in use|custom program error: 0x0/i)
      },
      stop: () => validator.stop(),
    }
  },
})
