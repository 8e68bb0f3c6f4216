import { expect } from 'vitest'
import { POLKADOT_DEV_WRITERS } from '../../infra/stack/chopsticks.ts'
import { registryAccount, useKey } from '../../producers/chains/polkadot/normalise/remark.ts'
import { describeCrossFamilyPropagation } from '../nullifiers/cross-family.ts'
import {
  chopsticksEntry,
  startPolkadotListener,
  startTestChopsticks,
  writePolkadotConfig,
} from './support.ts'

/**
 * Nullifier propagation between Polkadot and EVM (test/nullifiers/cross-family.ts): a
 * chopsticks chain of this file's own, the consumer writing with a dev relayer. Chopsticks
 * makes blocks on demand, so the suite builds them (and mines the anvils alongside) for the
 * two confirmations the local chain counts as final.
 */
describeCrossFamilyPropagation({
  family: 'Polkadot',
  nullifierBase: 8_100_000n,
  async startPeer() {
    const node = await startTestChopsticks()
    const configFile = writePolkadotConfig([chopsticksEntry(node)])
    const useEntry = async (scope: bigint, nullifier: bigint) =>
      (await node.api.query.multisig!.multisigs!(
        registryAccount([node.writers.relayer, node.writers.attester]),
        useKey(scope.toString(), nullifier.toString()),
      )) as unknown as { isSome: boolean }
    const record = (scope: bigint, nullifier: bigint) =>
      node.record({ t: 'NullifierUsed', scope: scope.toString(), nullifier: nullifier.toString(), root: '9' })
    return {
      chain: node.chain,
      consumerEnv: {
        VERIDIS_POLKADOT_CONFIG: configFile,
        VERIDIS_RELAYER_POLKADOT_SECRET_URI: POLKADOT_DEV_WRITERS.relayer,
      },
      startListener: (namespace) => startPolkadotListener({ namespace, configFile, chains: [node.chain] }),
      async use(scope, nullifier) {
        const included = await record(scope, nullifier)
        expect(included.ok).toBe(true)
        return included.txHash
      },
      isUsed: async (scope, nullifier) => (await useEntry(scope, nullifier)).isSome,
      async expectSecondUseRefused(scope, nullifier) {
        expect((await record(scope, nullifier)).ok).toBe(false)
      },
      // One block at a time: on a loaded machine a block can take longer than the 2-s tick.
      keepProducingBlocks(anvils) {
        let ticking = true
        let clock: NodeJS.Timeout | undefined
        const tick = async () => {
          await Promise.all([node.newBlocks(1), ...anvils.map((anvil) => anvil.mine(1))]).catch(() => {})
          if (ticking) clock = setTimeout(tick, 2_000)
        }
        clock = setTimeout(tick, 2_000)
        return () => {
          ticking = false
          clearTimeout(clock)
        }
      },
      guarantee: 'multisig pallet refuses a second use key',
      stop: () => node.stop(),
    }
  },
})
