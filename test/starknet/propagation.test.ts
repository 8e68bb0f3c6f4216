import { CallData, cairo } from 'starknet'
import { describeCrossFamilyPropagation, expectRejection } from '../nullifiers/cross-family.ts'
import {
  devnetEntry,
  STARKNET_DEV_ACCOUNT,
  startStarknetListener,
  startTestDevnet,
  writeStarknetConfig,
} from './support.ts'

/**
 * Nullifier propagation between EVM and StarkNet (test/nullifiers/cross-family.ts): two
 * anvils (a use on StarkNet must reach every other chain) and a starknet-devnet of this file's
 * own, the consumer writing with the StarkNet relayer (devnet account 8).
 */
describeCrossFamilyPropagation({
  family: 'StarkNet',
  anvils: 2,
  nullifierBase: 7_000_000n,
  async startPeer() {
    const devnet = await startTestDevnet()
    const configFile = writeStarknetConfig([devnetEntry(devnet)])
    const relayer = devnet.accounts[STARKNET_DEV_ACCOUNT.relayer]!
    const registry = devnet.deployment.contracts.NullifierRegistry
    const use = (scope: bigint, nullifier: bigint) =>
      devnet.invoke({
        contractAddress: registry,
        entrypoint: 'record_use',
        calldata: CallData.compile({
          scope: cairo.uint256(scope),
          nullifier: cairo.uint256(nullifier),
          root: cairo.uint256(9n),
        }),
      })
    return {
      chain: devnet.chain,
      consumerEnv: {
        VERIDIS_STARKNET_CONFIG: configFile,
        VERIDIS_RELAYER_STARKNET_ACCOUNT: relayer.address,
        VERIDIS_RELAYER_STARKNET_PRIVATE_KEY: relayer.privateKey,
      },
      startListener: (namespace) => startStarknetListener({ namespace, configFile, chains: [devnet.chain] }),
      use: async (scope, nullifier) => (await use(scope, nullifier)).transaction_hash,
      async isUsed(scope, nullifier) {
        const [flag] = await devnet.provider.callContract({
          contractAddress: registry,
          entrypoint: 'is_used',
          calldata: CallData.compile({ scope: cairo.uint256(scope), nullifier: cairo.uint256(nullifier) }),
        })
        return BigInt(flag ?? 0) === 1n
      },
      async expectSecondUseRefused(scope, nullifier) {
        await expectRejection(
          use(scope, nullifier),
          /nullifier already used|6e756c6c696669657220616c7265616479207573656/,
        )
      },
      // Final on L1 acceptance only, which the local devnet gives on request.
      finalise: async () => {
        await devnet.rpc('devnet_acceptOnL1', { starting_block_id: 'latest' })
      },
      // Felts: the alert and the receipt may differ in leading zeros.
      normaliseTxId: (id) => BigInt(id).toString(16),
      stop: () => devnet.stop(),
    }
  },
})
