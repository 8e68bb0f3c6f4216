import { type ChildProcess, execFile, spawn } from 'node:child_process'
import path from 'node:path'
import { sleep } from '../../core/bus/retry.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { tsCommand } from './pipeline.ts'
import { ensurePrivateDir } from './private-dir.ts'
import { managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import type { StackContext, StackService } from './service.ts'

/**
 * The local StarkNet node: `starknet-devnet` 0.10.1 built from crates.io by
 * infra/stack/native/build.sh (pinned, `--locked`, ~20 minutes on two cores the first time,
 * then cached under ~/.cache/veridis/native), on loopback, one block per transaction. It
 * serves JSON-RPC spec 0.10.2 on /rpc and websocket subscriptions on /ws; starknet.js
 * 10.8.0 speaks that spec.
 *
 * State is kept across restarts: devnet dumps itself after every block (`--dump-on block`)
 * and loads the dump when it starts, replaying it to the same block hashes (tested), so
 * the listener's durable cursor stays valid. `--state-archive-capacity full` lets
 * `devnet_abortBlocks` make reorgs, which the tests use on devnets of their own.
 */
export const LOCAL_DEVNET = {
  name: 'starknet-devnet',
  port: 15050,
  /** A custom chain id: the CAIP-2 id is starknet:VERIDIS_DEV, like no public network. */
  chainReference: 'VERIDIS_DEV',
  /** Deterministic predeployed accounts (the dev keys are public, like anvil's mnemonic). */
  seed: 0,
  /** How often the L1 clock (starknet-l1-clock.ts) accepts the devnet's new blocks on L1. */
  l1SettleMs: 10_000,
} as const

export const devnetRpcUrl = (port: number) => `http://127.0.0.1:${port}/rpc`
export const devnetWsUrl = (port: number) => `ws://127.0.0.1:${port}/ws`

const BUILD_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'build.sh')

/**
 * The devnet binary: from the machine's cache, or built now (the script prints progress and
 * the time it took, and holds a lock, so concurrent callers wait for one build).
 */
export function ensureDevnetBinary(cacheDir: string, progress: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = execFile(
      'bash',
      [BUILD_SCRIPT, 'starknet-devnet'],
      { env: { ...process.env, VERIDIS_CACHE: cacheDir }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) reject(new Error(`building starknet-devnet failed: ${error.message.split('\n')[0]}`))
        else resolve(stdout.trim().split('\n').at(-1)!)
      },
    )
    let last = 0
    child.stderr?.on('data', (chunk: Buffer) => {
      // cargo's progress, a line every ~30 s at most: a first build takes ~20 minutes.
      const line = chunk.toString().trim().split('\n').at(-1) ?? ''
      if (Date.now() - last > 30_000 || /veridis:/.test(line)) {
        last = Date.now()
        progress(`starknet-devnet build (${Math.round((Date.now() - started) / 1000)} s): ${line.trim()}`)
      }
    })
  })
}

export interface DevnetOptions {
  readonly port: number
  readonly chainReference: string
  readonly seed?: number
  /** Dump after every block to this file and load it on start. */
  readonly dumpFile?: string | undefined
}

export function devnetArgs(options: DevnetOptions): string[] {
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--chain-id',
    options.chainReference,
    '--seed',
    String(options.seed ?? 0),
    '--accounts',
    '10',
    '--state-archive-capacity',
    'full',
  ]
  if (options.dumpFile !== undefined) args.push('--dump-on', 'block', '--dump-path', options.dumpFile)
  return args
}

/** devnet logs every request at INFO; warnings and errors are what a log file is for. */
const DEVNET_ENV = { ...process.env, RUST_LOG: 'warn' }

/** True when a devnet answers on the port. */
export async function devnetAlive(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/is_alive`, { signal: AbortSignal.timeout(2_000) })
    return response.ok
  } catch {
    return false
  }
}

/**
 * A devnet owned by the caller (a test or a benchmark), not by the stack: a child process on
 * its own port, so tests that abort blocks never disturb the shared devnet.
 */
export async function startDevnet(
  binary: string,
  options: DevnetOptions,
): Promise<{ url: string; wsUrl: string; process: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(binary, devnetArgs(options), { stdio: ['ignore', 'ignore', 'pipe'], env: DEVNET_ENV })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000)
  })
  const deadline = Date.now() + 30_000
  while (!(await devnetAlive(options.port))) {
    if (child.exitCode !== null)
      throw new Error(`starknet-devnet on port ${options.port} exited: ${stderr.trim()}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`starknet-devnet on port ${options.port} did not answer within 30 s`)
    }
    await sleep(100)
  }
  return {
    url: devnetRpcUrl(options.port),
    wsUrl: devnetWsUrl(options.port),
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

const proc = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, LOCAL_DEVNET.name)

export const devnetDumpFile = (context: StackContext) =>
  path.join(context.layout.dataDir, 'starknet', 'devnet-dump.json')

let binary: string | undefined

/** The local devnet as a stack service (started by `veridis stack up`, stopped by `down`). */
export const starknetDevnetService: StackService = {
  name: LOCAL_DEVNET.name,
  logFile: (context) => proc(context).logFile,
  async install(context) {
    binary = await ensureDevnetBinary(context.layout.cacheDir, context.progress)
  },
  async start(context) {
    ensurePrivateDir(path.dirname(devnetDumpFile(context)))
    if (runningPid(proc(context))) return 'already running'
    binary ??= await ensureDevnetBinary(context.layout.cacheDir, context.progress)
    startDetached(proc(context), {
      command: binary,
      args: devnetArgs({
        port: LOCAL_DEVNET.port,
        chainReference: LOCAL_DEVNET.chainReference,
        seed: LOCAL_DEVNET.seed,
        dumpFile: devnetDumpFile(context),
      }),
      cwd: context.layout.dataDir,
      env: DEVNET_ENV,
    })
    return 'started'
  },
  isHealthy: async () => devnetAlive(LOCAL_DEVNET.port),
  // SIGTERM: every block is dumped already, nothing is lost.
  stop: async (context) => stopProcess(proc(context)),
  pid: (context) => runningPid(proc(context)),
  describe: () =>
    `${devnetRpcUrl(LOCAL_DEVNET.port)} (starknet:${LOCAL_DEVNET.chainReference}, spec 0.10, ws ${devnetWsUrl(LOCAL_DEVNET.port)})`,
}

const L1_CLOCK = 'starknet-l1'
const clockProc = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, L1_CLOCK)

/**
 * The devnet's L1 settlement as a stack service: infra/stack/starknet-l1-clock.ts accepts its
 * blocks on L1 every LOCAL_DEVNET.l1SettleMs, so the local chain's events reach FINALIZED.
 * It waits out a devnet that is not up yet, so it may start beside it.
 */
export const starknetL1ClockService: StackService = {
  name: L1_CLOCK,
  logFile: (context) => clockProc(context).logFile,
  async install() {},
  async start(context) {
    if (runningPid(clockProc(context))) return 'already running'
    const command = tsCommand('infra/stack/starknet-l1-clock.ts', [
      '--rpc',
      devnetRpcUrl(LOCAL_DEVNET.port),
      '--every-ms',
      String(LOCAL_DEVNET.l1SettleMs),
    ])
    startDetached(clockProc(context), { ...command, cwd: context.layout.dataDir, env: process.env })
    return 'started'
  },
  isHealthy: async (context) => runningPid(clockProc(context)) !== undefined,
  stop: async (context) => stopProcess(clockProc(context)),
  pid: (context) => runningPid(clockProc(context)),
  describe: () =>
    `accepts ${devnetRpcUrl(LOCAL_DEVNET.port)}'s blocks on L1 every ${LOCAL_DEVNET.l1SettleMs / 1000} s (devnet_acceptOnL1; the devnet has no L1)`,
}
