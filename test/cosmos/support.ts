import { type ChildProcess, spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  COSMOS_DEV_ACCOUNT,
  COSMOS_DEV_MNEMONIC,
  WASMD_BECH32_PREFIX,
} from '../../contracts/cosmos/accounts.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { cliCommand } from '../../infra/stack/pipeline.ts'
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
import { freePort, type ListenerProcess } from '../evm/support.ts'
import { testEnv } from '../support/harness.ts'

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

const configDirs: string[] = []
process.once('exit', () => {
  for (const dir of configDirs) rmSync(dir, { recursive: true, force: true })
})

export function writeCosmosConfig(entries: readonly CosmosChainEntry[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veridis-cosmos-config-'))
  configDirs.push(dir)
  const file = path.join(dir, 'chains.json')
  writeFileSync(file, JSON.stringify(entries, null, 2))
  return file
}

/** The relayer's environment for `veridis consume nullifiers` against a test chain (dev account 8). */
export const cosmosRelayerEnv = (node: TestWasmd) => ({
  VERIDIS_RELAYER_COSMOS_ADDRESS: node.keys[COSMOS_DEV_ACCOUNT.relayer]!.address,
  VERIDIS_RELAYER_COSMOS_MNEMONIC: COSMOS_DEV_MNEMONIC,
  VERIDIS_RELAYER_COSMOS_HD_INDEX: String(COSMOS_DEV_ACCOUNT.relayer),
})

/** `veridis listen cosmos` as a real child process, in the test's namespace. */
export async function startCosmosListener(options: {
  namespace: string
  configFile: string
  chains: readonly string[]
  env?: NodeJS.ProcessEnv
}): Promise<ListenerProcess> {
  const opsPort = await freePort()
  const command = cliCommand([
    'listen',
    'cosmos',
    '--ops-port',
    String(opsPort),
    '--chain',
    ...options.chains,
  ])
  const child: ChildProcess = spawn(command.command, command.args, {
    cwd: PROJECT_ROOT,
    env: {
      ...testEnv(options.namespace),
      VERIDIS_LOG_LEVEL: 'info',
      VERIDIS_COSMOS_CONFIG: options.configFile,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    opsPort,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      await exited
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()
    },
    async ready() {
      try {
        return (await fetch(`http://127.0.0.1:${opsPort}/ready`)).ok
      } catch {
        return false
      }
    },
  }
}

export { COSMOS_DEV_ACCOUNT }

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
