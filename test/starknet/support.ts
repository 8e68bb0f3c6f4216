import { randomInt } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { Account, type Call, CallData, cairo, RpcProvider, logger as starknetLogger } from 'starknet'
import { type DevAccount, devnetAccounts, STARKNET_DEV_ACCOUNT } from '../../contracts/starknet/accounts.ts'
import { deployStarknetContracts, type StarknetDeployment } from '../../contracts/starknet/deploy.ts'
import { ensureDevnetBinary, startDevnet } from '../../infra/stack/starknet-devnet.ts'
import type { StarknetChainEntry } from '../../producers/chains/starknet/config.ts'
import { expectRejection, type FamilyPeer } from '../nullifiers/family-peer.ts'
import { type ChainListenerOptions, startChainListener, writeChainConfig } from '../support/chain-listener.ts'
import { freePort } from '../support/harness.ts'

/**
 * A real starknet-devnet per test file (random port, a chain id of its own), the Cairo
 * contracts declared and deployed on it, and `veridis listen starknet` as a child process:
 * tests abort blocks and accept them on L1 without touching the stack's shared devnet.
 */
starknetLogger.setLogLevel('ERROR')

export interface TestDevnet {
  readonly chain: string
  readonly url: string
  readonly wsUrl: string
  readonly deployment: StarknetDeployment
  readonly provider: RpcProvider
  readonly accounts: readonly DevAccount[]
  account(index: number): Account
  /** Sends the calls from the account and waits for the receipt. */
  invoke(calls: Call | Call[], from?: number): Promise<Receipt>
  rpc<T = unknown>(method: string, params?: unknown): Promise<T>
  blockNumber(): Promise<number>
  stop(): Promise<void>
}

export interface Receipt {
  readonly transaction_hash: string
  readonly block_hash: string
  readonly block_number: number
  readonly execution_status: string
  readonly events: readonly { from_address: string; keys: string[]; data: string[] }[]
}

export async function startTestDevnet(): Promise<TestDevnet> {
  const binary = await ensureDevnetBinary(path.join(os.homedir(), '.cache', 'veridis'), () => {})
  const port = await freePort()
  const reference = `VERIDIS_T${randomInt(100_000, 999_999)}`
  const devnet = await startDevnet(binary, { port, chainReference: reference, seed: 0 })
  const chain = `starknet:${reference}`
  const rpc = async <T>(method: string, params: unknown = {}): Promise<T> => {
    const response = await fetch(devnet.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    const payload = (await response.json()) as { result?: T; error?: { message: string; data?: unknown } }
    if (payload.error)
      throw new Error(`${method}: ${payload.error.message} ${JSON.stringify(payload.error.data ?? '')}`)
    return payload.result as T
  }
  const deployment = await deployStarknetContracts(devnet.url, chain)
  const provider = new RpcProvider({ nodeUrl: devnet.url })
  const accounts = await devnetAccounts(devnet.url)
  const cache = new Map<number, Account>()
  const account = (index: number) => {
    let existing = cache.get(index)
    if (!existing) {
      const dev = accounts[index]!
      existing = new Account({ provider, address: dev.address, signer: dev.privateKey })
      cache.set(index, existing)
    }
    return existing
  }
  return {
    chain,
    url: devnet.url,
    wsUrl: devnet.wsUrl,
    deployment,
    provider,
    accounts,
    account,
    async invoke(calls, from = STARKNET_DEV_ACCOUNT.protocol) {
      const sent = await account(from).execute(calls, { tip: 0 })
      return (await provider.waitForTransaction(sent.transaction_hash, {
        retryInterval: 100,
      })) as unknown as Receipt
    },
    rpc,
    blockNumber: () => provider.getBlockNumber(),
    stop: () => devnet.stop(),
  }
}

/** A listener configuration entry for a test devnet. */
export function devnetEntry(
  devnet: TestDevnet,
  overrides: Partial<StarknetChainEntry> = {},
): StarknetChainEntry {
  return {
    chain: devnet.chain,
    rpcUrls: [devnet.url],
    finality: { rule: 'accepted-on-l1' },
    blockIdentity: 'block-and-content',
    contracts: {
      attestationRegistry: devnet.deployment.contracts.AttestationRegistry,
      nullifierRegistry: devnet.deployment.contracts.NullifierRegistry,
    },
    startBlock: devnet.deployment.startBlock,
    pollIntervalMs: 100,
    requestTimeoutMs: 5_000,
    maxHeadBatch: 50,
    ...overrides,
  }
}

export const writeStarknetConfig = (entries: readonly StarknetChainEntry[]) =>
  writeChainConfig('starknet', entries)

/** `veridis listen starknet` as a real child process, in the test's namespace. */
export const startStarknetListener = (options: ChainListenerOptions) =>
  startChainListener('starknet', options)

export { STARKNET_DEV_ACCOUNT }

/**
 * The devnet as a peer for nullifier propagation (test/nullifiers/family-peer.ts): the
 * consumer writes with the StarkNet relayer (devnet account 8). A block is final on L1
 * acceptance only, which the local devnet gives on request (`finalise`). The listener starts
 * at `startBlock` (the contracts' deployment block unless given).
 */
export function devnetPeer(devnet: TestDevnet, options: { readonly startBlock?: number } = {}): FamilyPeer {
  const configFile = writeStarknetConfig([
    devnetEntry(devnet, options.startBlock === undefined ? {} : { startBlock: options.startBlock }),
  ])
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
    // Every block so far accepted on L1, as L1 would in time.
    finalise: async () => {
      await devnet.rpc('devnet_acceptOnL1', { starting_block_id: 'latest' })
    },
    // Felts: the alert and the receipt may differ in leading zeros.
    normaliseTxId: (id) => BigInt(id).toString(16),
    stop: () => devnet.stop(),
  }
}
