import type { ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  COSMOS_DEV_ACCOUNT,
  COSMOS_DEV_MNEMONIC,
  WASMD_BECH32_PREFIX,
} from '../../contracts/cosmos/accounts.ts'
import {
  type CosmosDeployment,
  deployRegistry,
  ensureWasmdBinary,
  executeOnWasmd,
  startWasmd,
  wasmdDevKeys,
  wasmdRpc,
} from '../../infra/stack/wasmd.ts'
import type { CosmosChainEntry } from '../../producers/chains/cosmos/config.ts'
import type { CometRpc } from '../../producers/chains/cosmos/rpc/client.ts'
import { executeContractAny } from '../../producers/chains/cosmos/rpc/proto.ts'
import type { TxResult } from '../../producers/chains/cosmos/rpc/schemas.ts'
import { type CosmosKey, querySmart } from '../../producers/chains/cosmos/rpc/signing.ts'
import { expectRejection, type FamilyPeer } from '../nullifiers/family-peer.ts'
import { type ChainListenerOptions, startChainListener, writeChainConfig } from '../support/chain-listener.ts'
import { freePort } from '../support/harness.ts'

/**
 * A real wasmd chain per test file (its own home directory, random ports, a chain id of its
 * own), the Veridis CosmWasm registry stored and instantiated on it, and `veridis listen
 * cosmos` as a child process: tests never touch the stack's shared chain.
 */
export interface TestWasmd {
  readonly chain: string
  readonly chainId: string
  readonly url: string
  readonly wsUrl: string
  readonly deployment: CosmosDeployment
  readonly rpc: CometRpc
  readonly keys: readonly CosmosKey[]
  readonly process: ChildProcess
  /** Executes a registry message from a dev account and waits for its block; throws when it fails. */
  execute(msg: unknown, from?: number): Promise<TxResult>
  recordUse(scope: bigint, nullifier: bigint, root?: bigint): Promise<TxResult>
  isUsed(scope: bigint, nullifier: bigint): Promise<boolean>
  height(): Promise<number>
  stop(): Promise<void>
}

const homes: string[] = []
process.once('exit', () => {
  for (const dir of homes) rmSync(dir, { recursive: true, force: true })
})

export async function startTestWasmd(): Promise<TestWasmd> {
  const binary = await ensureWasmdBinary(path.join(os.homedir(), '.cache', 'veridis'), () => {})
  const [rpcPort, p2pPort] = [await freePort(), await freePort()]
  const chainId = `veridis-t${randomInt(100_000, 999_999)}`
  const home = mkdtempSync(path.join(os.tmpdir(), 'veridis-wasmd-'))
  homes.push(home)
  const node = await startWasmd(binary, { home, chainId, rpcPort, p2pPort })
  const chain = `cosmos:${chainId}`
  const rpc = wasmdRpc(node.url, chain)
  const deployment = await deployRegistry(node.url, chainId)
  const keys = await wasmdDevKeys()
  const execute = (msg: unknown, from: number = COSMOS_DEV_ACCOUNT.protocol) =>
    executeOnWasmd(
      rpc,
      chainId,
      keys[from]!,
      [executeContractAny(keys[from]!.address, deployment.registry, msg)],
      400_000,
    )
  return {
    chain,
    chainId,
    url: node.url,
    wsUrl: node.wsUrl,
    deployment,
    rpc,
    keys,
    process: node.process,
    execute,
    recordUse: (scope, nullifier, root = 1n) =>
      execute({
        record_use: {
          scope: scope.toString(),
          nullifier: nullifier.toString(),
          merkle_tree_root: root.toString(),
        },
      }),
    async isUsed(scope, nullifier) {
      return (await querySmart(rpc, deployment.registry, {
        is_used: { scope: scope.toString(), nullifier: nullifier.toString() },
      })) as boolean
    },
    async height() {
      const response = await fetch(`${node.url}/status`)
      const body = (await response.json()) as { result: { sync_info: { latest_block_height: string } } }
      return Number(body.result.sync_info.latest_block_height)
    },
    async stop() {
      await node.stop()
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/** A listener configuration entry for a test chain. */
export function wasmdEntry(node: TestWasmd, overrides: Partial<CosmosChainEntry> = {}): CosmosChainEntry {
  return {
    chain: node.chain,
    rpcUrls: [node.url],
    wsUrl: node.wsUrl,
    contracts: { registry: node.deployment.registry },
    bech32Prefix: WASMD_BECH32_PREFIX,
    gasPrice: '0stake',
    startBlock: node.deployment.startBlock,
    pollIntervalMs: 200,
    requestTimeoutMs: 5_000,
    ...overrides,
  }
}

export const writeCosmosConfig = (entries: readonly CosmosChainEntry[]) => writeChainConfig('cosmos', entries)

/** The relayer's environment for `veridis consume nullifiers` against a test chain (dev account 8). */
export const cosmosRelayerEnv = (node: TestWasmd) => ({
  VERIDIS_RELAYER_COSMOS_ADDRESS: node.keys[COSMOS_DEV_ACCOUNT.relayer]!.address,
  VERIDIS_RELAYER_COSMOS_MNEMONIC: COSMOS_DEV_MNEMONIC,
  VERIDIS_RELAYER_COSMOS_HD_INDEX: String(COSMOS_DEV_ACCOUNT.relayer),
})

/** `veridis listen cosmos` as a real child process, in the test's namespace. */
export const startCosmosListener = (options: ChainListenerOptions) => startChainListener('cosmos', options)

export { COSMOS_DEV_ACCOUNT }

/**
 * The wasmd chain as a peer for nullifier propagation (test/nullifiers/family-peer.ts): the
 * consumer writes with the Cosmos relayer (dev account 8, RELAYER on the CosmWasm registry),
 * which refuses a second use on-chain. The listener starts at `startBlock` (the registry's
 * deployment height unless given).
 */
export function wasmdPeer(node: TestWasmd, options: { readonly startBlock?: number } = {}): FamilyPeer {
  const configFile = writeCosmosConfig([
    wasmdEntry(node, options.startBlock === undefined ? {} : { startBlock: options.startBlock }),
  ])
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
}

/** Many uses in a few transactions (`perTx` record_use messages each), from the PROTOCOL account. */
export async function recordManyUses(
  node: TestWasmd,
  scope: bigint,
  nullifiers: readonly bigint[],
  perTx = 50,
): Promise<TxResult[]> {
  const key = node.keys[COSMOS_DEV_ACCOUNT.protocol]!
  const txs: TxResult[] = []
  for (let i = 0; i < nullifiers.length; i += perTx) {
    const messages = nullifiers.slice(i, i + perTx).map((nullifier) =>
      executeContractAny(key.address, node.deployment.registry, {
        record_use: { scope: scope.toString(), nullifier: nullifier.toString(), merkle_tree_root: '1' },
      }),
    )
    txs.push(await executeOnWasmd(node.rpc, node.chainId, key, messages, 250_000 * messages.length))
  }
  return txs
}
