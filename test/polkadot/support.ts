import { ApiPromise, WsProvider } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import type { KeyringPair } from '@polkadot/keyring/types'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import {
  chopsticksRpc,
  devWriterAddresses,
  fundAccounts,
  localPolkadotEntry,
  POLKADOT_DEV_WRITERS,
  startChopsticks,
} from '../../infra/stack/chopsticks.ts'
import type { PolkadotChainEntry } from '../../producers/chains/polkadot/config.ts'
import {
  encodeRemark,
  otherSignatories,
  registryAccount,
  useKey,
  type VeridisRecord,
} from '../../producers/chains/polkadot/normalise/remark.ts'
import type { FamilyPeer } from '../nullifiers/family-peer.ts'
import { type ChainListenerOptions, startChainListener, writeChainConfig } from '../support/chain-listener.ts'
import { freePort } from '../support/harness.ts'

/**
 * A real chopsticks chain per test file (random port, a genesis hash of its own, blocks only
 * when a transaction arrives or the test asks), the dev writers funded, and `veridis listen
 * polkadot` as a child process.
 */
export interface TestChopsticks {
  readonly chain: string
  readonly url: string
  readonly port: number
  readonly api: ApiPromise
  readonly writers: { relayer: string; attester: string }
  pair(who: keyof typeof POLKADOT_DEV_WRITERS): KeyringPair
  /** Submits a Veridis record from a writer (a nullifier record with its use key) and waits for its block. */
  record(record: VeridisRecord, from?: keyof typeof POLKADOT_DEV_WRITERS): Promise<Included>
  newBlocks(count: number): Promise<string>
  setHead(number: number): Promise<string>
  head(): Promise<number>
  stop(): Promise<void>
}

export interface Included {
  readonly blockNumber: number
  readonly blockHash: string
  readonly txHash: string
  readonly ok: boolean
}

export async function startTestChopsticks(): Promise<TestChopsticks> {
  await cryptoWaitReady()
  const port = await freePort()
  const node = await startChopsticks({ port })
  const writers = await devWriterAddresses()
  await fundAccounts(node.url, [writers.relayer, writers.attester])
  const api = await ApiPromise.create({ provider: new WsProvider(node.url), noInitWarn: true })
  const keyring = new Keyring({ type: 'sr25519' })
  const pairs = {
    relayer: keyring.addFromUri(POLKADOT_DEV_WRITERS.relayer),
    attester: keyring.addFromUri(POLKADOT_DEV_WRITERS.attester),
  }
  const all = [writers.relayer, writers.attester]
  return {
    chain: node.chain,
    url: node.url,
    port,
    api,
    writers,
    pair: (who) => pairs[who],
    async record(record, from = 'attester') {
      const pair = pairs[from]
      const remark = api.tx.system!.remarkWithEvent!(encodeRemark(record))
      const tx =
        record.t === 'NullifierUsed' || record.t === 'NullifierRelayed'
          ? api.tx.utility!.batchAll!([
              api.tx.multisig!.approveAsMulti!(
                2,
                otherSignatories(all, pair.address, api.registry.chainSS58 ?? 42),
                null,
                useKey(record.scope, record.nullifier),
                0 as never,
              ),
              remark,
            ])
          : remark
      // Signed and sent without a watch subscription, then looked for in the blocks that follow.
      const nonce = (await api.rpc.system.accountNextIndex(pair.address)).toNumber()
      const signed = await tx.signAsync(pair, { nonce, era: 0 })
      const txHash = signed.hash.toHex()
      let scanned = (await api.rpc.chain.getHeader()).number.toNumber()
      await api.rpc.author.submitExtrinsic(signed.toHex())
      const deadline = Date.now() + 180_000
      while (Date.now() < deadline) {
        const head = (await api.rpc.chain.getHeader()).number.toNumber()
        for (let number = scanned + 1; number <= head; number++) {
          const blockHash = (await api.rpc.chain.getBlockHash(number)).toHex()
          const block = await api.rpc.chain.getBlock(blockHash)
          const index = block.block.extrinsics.findIndex((extrinsic) => extrinsic.hash.toHex() === txHash)
          if (index < 0) continue
          const events = (await (
            await api.at(blockHash)
          ).query.system!.events!()) as unknown as Iterable<{
            phase: { isApplyExtrinsic: boolean; asApplyExtrinsic: { toNumber(): number } }
            event: { section: string; method: string }
          }>
          const failed = [...events].some(
            (record) =>
              record.phase.isApplyExtrinsic &&
              record.phase.asApplyExtrinsic.toNumber() === index &&
              record.event.section === 'system' &&
              record.event.method === 'ExtrinsicFailed',
          )
          return { blockNumber: number, blockHash, txHash, ok: !failed }
        }
        scanned = head
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      throw new Error(`record ${record.t}: not in a block within 180 s`)
    },
    newBlocks: (count) => chopsticksRpc<string>(port, 'dev_newBlock', [{ count }]),
    setHead: (number) => chopsticksRpc<string>(port, 'dev_setHead', [number]),
    head: async () => (await api.rpc.chain.getHeader()).number.toNumber(),
    async stop() {
      await api.disconnect().catch(() => {})
      await node.stop()
    },
  }
}

/** A listener configuration entry for a test chain: 2 confirmations, quick polling. */
export function chopsticksEntry(
  node: TestChopsticks,
  overrides: Partial<PolkadotChainEntry> = {},
): PolkadotChainEntry {
  return {
    ...localPolkadotEntry(node.url, node.chain, [node.writers.relayer, node.writers.attester]),
    pollIntervalMs: 200,
    requestTimeoutMs: 20_000,
    ...overrides,
  }
}

export const writePolkadotConfig = (entries: readonly PolkadotChainEntry[]) =>
  writeChainConfig('polkadot', entries)

/** `veridis listen polkadot` as a real child process, in the test's namespace. */
export const startPolkadotListener = (options: ChainListenerOptions) =>
  startChainListener('polkadot', options)

/**
 * The chopsticks chain as a peer for nullifier propagation (test/nullifiers/family-peer.ts):
 * the consumer writes with a dev relayer; the multisig pallet refuses a second use key.
 * Chopsticks makes blocks on demand, so the peer builds one every `blockEveryMs` (2 s unless
 * given), with a block on each anvil handed to it, one at a time: on a loaded machine a block
 * can take longer than the tick, and the next waits for it. The listener starts at
 * `startBlock` (the local entry's unless given).
 */
export function chopsticksPeer(
  node: TestChopsticks,
  options: { readonly startBlock?: number; readonly blockEveryMs?: number } = {},
): FamilyPeer {
  const configFile = writePolkadotConfig([
    chopsticksEntry(node, options.startBlock === undefined ? {} : { startBlock: options.startBlock }),
  ])
  const multisig = registryAccount([node.writers.relayer, node.writers.attester])
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
      if (!included.ok) throw new Error(`a use on ${node.chain} failed in block ${included.blockNumber}`)
      return included.txHash
    },
    async isUsed(scope, nullifier) {
      const entry = (await node.api.query.multisig!.multisigs!(
        multisig,
        useKey(scope.toString(), nullifier.toString()),
      )) as unknown as { isSome: boolean }
      return entry.isSome
    },
    async expectSecondUseRefused(scope, nullifier) {
      const included = await record(scope, nullifier)
      if (included.ok)
        throw new Error(`a second use was accepted on ${node.chain} in block ${included.blockNumber}`)
    },
    keepProducingBlocks(anvils) {
      let building = false
      const clock = setInterval(() => {
        if (building) return
        building = true
        Promise.all([node.newBlocks(1), ...anvils.map((anvil) => anvil.mine(1))])
          .catch(() => {})
          .finally(() => {
            building = false
          })
      }, options.blockEveryMs ?? 2_000)
      return () => clearInterval(clock)
    },
    guarantee: 'multisig pallet refuses a second use key',
    stop: () => node.stop(),
  }
}
