import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ApiPromise, WsProvider } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { sleep } from '../../core/bus/retry.ts'
import {
  localPolkadotChainsFile,
  type PolkadotChainEntry,
  PolkadotFinalityRule,
  polkadotChainOf,
} from '../../producers/chains/polkadot/config.ts'
import { tsCommand } from './pipeline.ts'
import { ensurePrivateDir } from './private-dir.ts'
import { managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import type { ChainNode, StackContext, StackService } from './service.ts'

/**
 * The local Polkadot-family chain: chopsticks 1.5.1 (npm, nothing to build) running Rococo
 * Asset Hub's genesis from @substrate/connect-known-chains (runtime statemine 900), started by
 * infra/stack/chopsticks-node.ts on loopback with a block every 12 s (a parachain slot when that
 * runtime ran; an empty block costs ~1.5 s of CPU here, so a shorter clock would tax the
 * shared machine). Blocks and storage live in sqlite (`--db`) and the node resumes from its
 * newest block, so block hashes — and the listener's cursor — survive a restart.
 *
 * Finality: chopsticks reports its best head as finalized and moves it back on dev_setHead,
 * so the local chain is configured with a confirmations rule (2 blocks), not GRANDPA's
 * finalized head; real chains use `finalized-head` (producers/chains/polkadot/config.ts).
 */
export const LOCAL_CHOPSTICKS = {
  name: 'chopsticks',
  port: 19944,
  blockMs: 12_000,
  confirmations: 2,
} as const

/** The Veridis writers on local chains: dev keys (public, like anvil's mnemonic). */
export const POLKADOT_DEV_WRITERS = {
  relayer: '//VeridisRelayer',
  attester: '//VeridisAttester',
} as const

export const chopsticksWsUrl = (port: number) => `ws://127.0.0.1:${port}`

const NODE_SCRIPT = 'infra/stack/chopsticks-node.ts'

export function chopsticksArgs(options: {
  port: number
  db?: string | undefined
  blockMs: number
  genesisHash?: string | undefined
}): string[] {
  const args = ['--port', String(options.port), '--block-ms', String(options.blockMs)]
  if (options.db !== undefined) args.push('--db', options.db)
  if (options.genesisHash !== undefined) args.push('--genesis-hash', options.genesisHash)
  return tsCommand(NODE_SCRIPT, args).args
}

/** One JSON-RPC call over HTTP (chopsticks serves both): dev_* methods and liveness. */
export async function chopsticksRpc<T = unknown>(
  port: number,
  method: string,
  params: unknown[] = [],
): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(120_000),
  })
  const payload = (await response.json()) as { result?: T; error?: { message: string } }
  if (payload.error) throw new Error(`${method}: ${payload.error.message}`)
  return payload.result as T
}

export async function chopsticksAlive(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_getHeader', params: [] }),
      signal: AbortSignal.timeout(3_000),
    })
    return response.ok
  } catch {
    return false
  }
}

/**
 * A chopsticks chain owned by the caller (a test, a benchmark): its own port, no database
 * unless asked, blocks on demand (`blockMs` 0) and a genesis hash of its own so that its
 * CAIP-2 id differs from every other node's.
 */
export async function startChopsticks(options: {
  port: number
  blockMs?: number
  db?: string
  genesisHash?: string
}): Promise<{
  url: string
  chain: string
  genesisHash: string
  process: ChildProcess
  stop(): Promise<void>
}> {
  const genesisHash = options.genesisHash ?? `0x${randomBytes(32).toString('hex')}`
  const child = spawn(
    process.execPath,
    chopsticksArgs({ port: options.port, db: options.db, blockMs: options.blockMs ?? 0, genesisHash }),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000)
  })
  const deadline = Date.now() + 120_000
  while (!(await chopsticksAlive(options.port))) {
    if (child.exitCode !== null)
      throw new Error(`chopsticks on port ${options.port} exited: ${stderr.trim()}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`chopsticks on port ${options.port} did not answer within 120 s`)
    }
    await sleep(250)
  }
  return {
    url: chopsticksWsUrl(options.port),
    chain: polkadotChainOf(genesisHash),
    genesisHash,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))])
      await exited
    },
  }
}

/** The dev writers' addresses (SS58, generic prefix). */
export async function devWriterAddresses(): Promise<{ relayer: string; attester: string }> {
  await cryptoWaitReady()
  const keyring = new Keyring({ type: 'sr25519' })
  return {
    relayer: keyring.addFromUri(POLKADOT_DEV_WRITERS.relayer).address,
    attester: keyring.addFromUri(POLKADOT_DEV_WRITERS.attester).address,
  }
}

const FUNDS = 10n ** 21n

/**
 * Funds accounts through dev_setStorage where they hold less than half of FUNDS; their
 * nonce is kept (the runtime has no dev accounts funded at genesis).
 */
export async function fundAccounts(url: string, addresses: readonly string[]): Promise<string> {
  const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true })
  try {
    const entries: unknown[] = []
    for (const address of addresses) {
      const account = (await api.query.system!.account!(address)) as unknown as {
        nonce: { toNumber(): number }
        data: { free: { toBigInt(): bigint } }
      }
      if (account.data.free.toBigInt() >= FUNDS / 2n) continue
      entries.push([
        [address],
        { nonce: account.nonce.toNumber(), providers: 1, data: { free: FUNDS.toString() } },
      ])
    }
    if (entries.length > 0)
      await api.rpc('dev_setStorage' as never, { System: { Account: entries } } as never)
    return api.genesisHash.toHex()
  } finally {
    await api.disconnect()
  }
}

const proc = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, LOCAL_CHOPSTICKS.name)

const dbFile = (context: StackContext) => path.join(context.layout.dataDir, 'polkadot', 'chopsticks.sqlite')

/** The local chain as a stack service (started by `veridis stack up`, stopped by `down`). */
export const chopsticksService: StackService = {
  name: LOCAL_CHOPSTICKS.name,
  logFile: (context) => proc(context).logFile,
  // npm installed it; nothing to build.
  async install() {},
  async start(context) {
    ensurePrivateDir(path.dirname(dbFile(context)))
    if (runningPid(proc(context))) return 'already running'
    startDetached(proc(context), {
      command: process.execPath,
      args: chopsticksArgs({
        port: LOCAL_CHOPSTICKS.port,
        db: dbFile(context),
        blockMs: LOCAL_CHOPSTICKS.blockMs,
      }),
      cwd: context.layout.dataDir,
      env: process.env,
    })
    return 'started'
  },
  isHealthy: async () => chopsticksAlive(LOCAL_CHOPSTICKS.port),
  // SIGTERM: chopsticks closes its database; every block is stored already.
  stop: async (context) => stopProcess(proc(context)),
  pid: (context) => runningPid(proc(context)),
  describe: (context) =>
    `${chopsticksWsUrl(LOCAL_CHOPSTICKS.port)} (statemine 900 from the Rococo Asset Hub spec, a block every ${LOCAL_CHOPSTICKS.blockMs / 1000} s, finality ${LOCAL_CHOPSTICKS.confirmations} confirmations, db ${dbFile(context)})`,
}

/** The local chain as a Polkadot configuration entry. */
export function localPolkadotEntry(
  url: string,
  chain: string,
  writers: readonly string[],
): PolkadotChainEntry {
  return {
    chain,
    name: 'Local Polkadot (chopsticks)',
    rpcUrls: [url],
    finality: { rule: PolkadotFinalityRule.confirmations, confirmations: LOCAL_CHOPSTICKS.confirmations },
    writers: [...writers],
    startBlock: 0,
    maxBlockRange: 200,
    maxHeadBatch: 50,
    pollIntervalMs: 1_000,
    requestTimeoutMs: 15_000,
  }
}

/**
 * After the node is healthy: fund the dev writers, write `<VERIDIS_HOME>/chains/polkadot.json`
 * and the relayer's dev key among the local secrets (secrets/polkadot-relayer.json).
 */
async function prepareChopsticks(context: StackContext) {
  const url = chopsticksWsUrl(LOCAL_CHOPSTICKS.port)
  const writers = await devWriterAddresses()
  const genesis = await fundAccounts(url, [writers.relayer, writers.attester])
  const chain = polkadotChainOf(genesis)
  ensurePrivateDir(context.layout.secretsDir)
  writeFileSync(
    path.join(context.layout.secretsDir, 'polkadot-relayer.json'),
    `${JSON.stringify({ chain, secretUri: POLKADOT_DEV_WRITERS.relayer })}\n`,
    { mode: 0o600 },
  )
  const file = localPolkadotChainsFile(context.config.home)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(
    file,
    `${JSON.stringify([localPolkadotEntry(url, chain, [writers.relayer, writers.attester])], null, 2)}\n`,
  )
  context.progress(
    `${LOCAL_CHOPSTICKS.name}: writers funded (${chain}); Polkadot configuration written to ${file}`,
  )
}

export const chopsticksNode: ChainNode = { service: chopsticksService, prepare: prepareChopsticks }
