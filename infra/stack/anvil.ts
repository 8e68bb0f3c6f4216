import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { sleep } from '../../core/bus/retry.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { ensurePrivateDir } from './private-dir.ts'
import { managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import type { StackContext, StackService } from './service.ts'

/**
 * The two local EVM chains: anvil from npm `@foundry-rs/anvil-linux-amd64`, loopback only,
 * 1-second blocks. Chain state is dumped to `.veridis/data/anvil/<chain id>.json` every
 * second and on exit and loaded on start, so a restarted anvil continues the chain the
 * listeners' durable cursors point into instead of starting a new one at block 0.
 */
export const ANVIL_BINARY = path.join(PROJECT_ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil')

export interface AnvilChain {
  readonly name: string
  readonly chainId: number
  readonly port: number
}

export const LOCAL_ANVILS: readonly AnvilChain[] = [
  { name: 'anvil-a', chainId: 31337, port: 18545 },
  { name: 'anvil-b', chainId: 31338, port: 18546 },
]

export const anvilRpcUrl = (port: number) => `http://127.0.0.1:${port}`
export const anvilWsUrl = (port: number) => `ws://127.0.0.1:${port}`

export interface AnvilOptions {
  readonly chainId: number
  readonly port: number
  /** Seconds between blocks; undefined mines one block per transaction (automine). */
  readonly blockTime?: number | undefined
  /** Persist and reload chain state here. */
  readonly stateFile?: string | undefined
  readonly gasLimit?: bigint | undefined
  /**
   * A copy of another chain as it was at `blockNumber`, mining nothing: the same hashes up to
   * there and no block after it, as a node that lags behind its peers answers (tests).
   */
  readonly forkOf?: { readonly url: string; readonly blockNumber: number } | undefined
}

/**
 * Seconds between state dumps. Each dump writes every block the chain ever mined (empty
 * 1-second blocks included): after a day a stack anvil dumped 38 MB a second and held 14 % of
 * a core doing it (0.1 % when fresh), on a two-core machine. Every 10 s costs a tenth of that.
 */
const STATE_DUMP_INTERVAL_SECONDS = 10

/** Command-line arguments for one anvil; the mnemonic stays anvil's well-known default. */
export function anvilArgs(options: AnvilOptions): string[] {
  const args = ['--host', '127.0.0.1', '--port', String(options.port), '--chain-id', String(options.chainId)]
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime))
  if (options.stateFile !== undefined) {
    // --state loads on start and dumps on exit; the interval bounds what a SIGKILL loses.
    args.push('--state', options.stateFile, '--state-interval', String(STATE_DUMP_INTERVAL_SECONDS))
  }
  if (options.gasLimit !== undefined) args.push('--gas-limit', options.gasLimit.toString())
  if (options.forkOf !== undefined) {
    args.push('--fork-url', options.forkOf.url, '--fork-block-number', String(options.forkOf.blockNumber))
    args.push('--no-mining')
  }
  // 20 dev accounts: 0–7 for the pipeline and its tests, 8 the propagation relayer, 9 the
  // zero-knowledge verifier deployments, the rest spare.
  args.push('--accounts', '20', '--silent')
  return args
}

/** JSON-RPC call with a short timeout; undefined when the node does not answer. */
async function rpcResult(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(2_000),
    })
    if (!response.ok) return undefined
    return ((await response.json()) as { result?: unknown }).result
  } catch {
    return undefined
  }
}

/** True when an anvil with this chain id answers on the port. */
export async function anvilAnswers(port: number, chainId: number): Promise<boolean> {
  const result = await rpcResult(anvilRpcUrl(port), 'eth_chainId')
  return typeof result === 'string' && Number.parseInt(result, 16) === chainId
}

/**
 * An anvil owned by the caller (a test or a benchmark), not by the stack: started as a
 * child process on its own port, stopped with `stop()`. Tests that reorg or kill chains
 * use these so they never disturb the shared local chains.
 */
export async function startAnvil(
  options: AnvilOptions,
): Promise<{ url: string; wsUrl: string; process: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(ANVIL_BINARY, anvilArgs(options), { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000)
  })
  const deadline = Date.now() + 20_000
  while (!(await anvilAnswers(options.port, options.chainId))) {
    if (child.exitCode !== null) throw new Error(`anvil on port ${options.port} exited: ${stderr.trim()}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`anvil on port ${options.port} did not answer within 20 s`)
    }
    await sleep(100)
  }
  return {
    url: anvilRpcUrl(options.port),
    wsUrl: anvilWsUrl(options.port),
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

const proc = (context: StackContext, chain: AnvilChain) =>
  managedProcess(context.layout.runDir, context.layout.logDir, chain.name)

export const anvilStateFile = (context: StackContext, chain: AnvilChain) =>
  path.join(context.layout.dataDir, 'anvil', `${chain.chainId}.json`)

/** One local anvil as a stack service (started by `veridis stack up`, stopped by `down`). */
export function anvilService(chain: AnvilChain): StackService {
  return {
    name: chain.name,
    logFile: (context) => proc(context, chain).logFile,
    async install() {
      if (!existsSync(ANVIL_BINARY)) {
        throw new Error(`anvil binary missing at ${ANVIL_BINARY}; run npm install`)
      }
    },
    async start(context) {
      // Before the running check, so `up` also tightens the directory of a running chain.
      ensurePrivateDir(path.dirname(anvilStateFile(context, chain)))
      if (runningPid(proc(context, chain))) return 'already running'
      startDetached(proc(context, chain), {
        command: ANVIL_BINARY,
        args: anvilArgs({
          chainId: chain.chainId,
          port: chain.port,
          blockTime: 1,
          stateFile: anvilStateFile(context, chain),
        }),
        cwd: context.layout.dataDir,
      })
      return 'started'
    },
    isHealthy: async () => anvilAnswers(chain.port, chain.chainId),
    // SIGTERM lets anvil dump its state one last time.
    stop: async (context) => stopProcess(proc(context, chain)),
    pid: (context) => runningPid(proc(context, chain)),
    describe: () => `${anvilRpcUrl(chain.port)} (eip155:${chain.chainId}, ws on the same port)`,
  }
}

export const ANVIL_SERVICES: readonly StackService[] = LOCAL_ANVILS.map(anvilService)
