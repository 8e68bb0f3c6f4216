import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  type PublicKey,
  SystemProgram,
  sendAndConfirmTransaction,
  Transaction,
} from '@solana/web3.js'
import { sleep } from '../../core/bus/retry.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import {
  localSolanaChainsFile,
  type SolanaChainEntry,
  solanaChainOf,
} from '../../producers/chains/solana/config.ts'
import { ensurePrivateDir } from './private-dir.ts'
import { managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import type { ChainNode, StackContext, StackService } from './service.ts'

/**
 * The local Solana node: agave's `solana-test-validator` 3.1.12 built from crates.io by
 * infra/stack/native/build.sh (pinned, `--locked`, ~31 minutes on two cores the first time,
 * then cached under ~/.cache/veridis/native), a single validator with 400 ms slots, offline.
 * Every socket on loopback: RPC, websocket (RPC port + 1), gossip, TPU and repair sockets
 * follow `--bind-address 127.0.0.1` (the latter inside `--dynamic-port-range`); the faucet,
 * which the validator binds to 0.0.0.0 whatever it is told and cannot switch off, is moved
 * to loopback by a bind() shim preloaded into the process (native/loopback-bind.c).
 *
 * The ledger lives under the stack's data directory and is kept across restarts (the
 * validator resumes from it: same genesis, same chain id, the listener's cursor stays valid).
 * Veridis has no program here (no SBF toolchain): the protocol uses the System and Memo
 * programs (producers/chains/solana/protocol.ts); `prepare` funds the two authorities.
 */
export const LOCAL_VALIDATOR = {
  name: 'solana-test-validator',
  rpcPort: 18899,
  faucetPort: 19900,
  gossipPort: 18001,
  /** TPU, repair, ... sockets; the validator needs a few dozen ports. */
  dynamicPortRange: [18010, 18060] as const,
} as const

export const validatorRpcUrl = (port: number) => `http://127.0.0.1:${port}`
export const validatorWsUrl = (port: number) => `ws://127.0.0.1:${port + 1}`

const BUILD_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'build.sh')

/** The agave release infra/stack/native/build.sh builds (its `version` for this node). */
export const VALIDATOR_VERSION = '3.1.12'

/** Whether this machine has finished building the validator (a cache lookup, no build). */
export const validatorBinaryBuilt = (cacheDir: string) =>
  existsSync(
    path.join(
      cacheDir,
      'native',
      `solana-test-validator-${VALIDATOR_VERSION}`,
      'bin',
      'solana-test-validator',
    ),
  )

/**
 * The validator binary: from the machine's cache, or built now (the script prints progress
 * and the time it took, and holds a lock, so concurrent callers wait for one build).
 */
export function ensureValidatorBinary(cacheDir: string, progress: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = execFile(
      'bash',
      [BUILD_SCRIPT, 'solana-test-validator'],
      { env: { ...process.env, VERIDIS_CACHE: cacheDir }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) reject(new Error(`building solana-test-validator failed: ${error.message.split('\n')[0]}`))
        else resolve(stdout.trim().split('\n').at(-1)!)
      },
    )
    let last = 0
    child.stderr?.on('data', (chunk: Buffer) => {
      // cargo's progress, a line every ~30 s at most: a first build takes ~31 minutes.
      const line = chunk.toString().trim().split('\n').at(-1) ?? ''
      if (Date.now() - last > 30_000 || /veridis:/.test(line)) {
        last = Date.now()
        progress(
          `solana-test-validator build (${Math.round((Date.now() - started) / 1000)} s): ${line.trim()}`,
        )
      }
    })
  })
}

export interface ValidatorOptions {
  readonly ledger: string
  readonly rpcPort: number
  readonly faucetPort: number
  readonly gossipPort: number
  readonly dynamicPortRange: readonly [number, number]
  /** Ticks per slot at genesis (default 64: 400 ms slots); more make slots, and finality, slower. */
  readonly ticksPerSlot?: number
  /**
   * Data shreds the ledger keeps (agave's default 10,000). Older slots are purged every 512
   * slots, and the RPC then answers "cleaned up" for them.
   */
  readonly ledgerShreds?: number
}

/**
 * History the stack's validator keeps: an idle 400-ms slot is 192 data shreds here (its log's
 * broadcast stats), so agave's default of 10,000 shreds is only ~50 slots (20 s) after each
 * purge. A listener restarted later than that found its next slots gone. 300,000 shreds keep
 * ~1,560 slots (~10 minutes) at ~1 GB of ledger.
 */
export const LOCAL_LEDGER_SHREDS = 300_000

export function validatorArgs(options: ValidatorOptions): string[] {
  return [
    '--ledger',
    options.ledger,
    '--bind-address',
    '127.0.0.1',
    '--rpc-port',
    String(options.rpcPort),
    '--gossip-port',
    String(options.gossipPort),
    '--faucet-port',
    String(options.faucetPort),
    '--dynamic-port-range',
    `${options.dynamicPortRange[0]}-${options.dynamicPortRange[1]}`,
    // The validator's own log goes to <ledger>/validator.log; stdout keeps only its summary.
    '--quiet',
    ...(options.ticksPerSlot === undefined ? [] : ['--ticks-per-slot', String(options.ticksPerSlot)]),
    ...(options.ledgerShreds === undefined ? [] : ['--limit-ledger-size', String(options.ledgerShreds)]),
  ]
}

const SHIM_SOURCE = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'loopback-bind.c')

/**
 * The bind() shim (native/loopback-bind.c) as a shared object next to the validator's
 * cached binary, compiled once per source version with the system C compiler.
 */
export function ensureLoopbackShim(binary: string): string {
  const source = readFileSync(SHIM_SOURCE)
  const version = createHash('sha256').update(source).digest('hex').slice(0, 12)
  const nativeDir = path.dirname(path.dirname(path.dirname(binary)))
  const shim = path.join(nativeDir, `loopback-bind-${version}.so`)
  if (existsSync(shim)) return shim
  const partial = `${shim}.${process.pid}.partial`
  // The system C compiler ($CC if set); gcc is on every machine that built the validator.
  const compiler = process.env.CC ?? 'cc'
  execFileSync(compiler, ['-shared', '-fPIC', '-O2', '-o', partial, SHIM_SOURCE, '-ldl'], { stdio: 'pipe' })
  renameSync(partial, shim)
  return shim
}

/**
 * The validator under `nice -n 10`, every thread of it: agave's banking-stage scheduler polls
 * without sleeping, so an idle test validator holds one of this machine's two cores at 60–100 %
 * (measured: the stack's took 88 % with no transactions). At nice 10 it keeps its slots yet
 * yields to Kafka, Postgres and the pipeline, which do the work being tested — within one
 * session: a test's own validator shares the test run's; the stack's leads its own and also
 * needs its session's nice (SpawnSpec.sessionNice).
 */
export function validatorCommand(
  binary: string,
  options: ValidatorOptions,
): { command: string; args: string[] } {
  return { command: 'nice', args: ['-n', '10', binary, ...validatorArgs(options)] }
}

/** The validator's environment: the loopback shim preloaded. */
export const validatorEnv = (binary: string): NodeJS.ProcessEnv => ({
  ...process.env,
  LD_PRELOAD: ensureLoopbackShim(binary),
})

/** True when the validator's RPC answers getHealth "ok". */
export async function validatorHealthy(rpcPort: number): Promise<boolean> {
  try {
    const response = await fetch(validatorRpcUrl(rpcPort), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getHealth' }),
      signal: AbortSignal.timeout(2_000),
    })
    return ((await response.json()) as { result?: unknown }).result === 'ok'
  } catch {
    return false
  }
}

/**
 * The keypair the test validator funds at genesis (the mint, `<ledger>/faucet-keypair.json`):
 * `prepare` and tests fund their keys from it with a plain transfer, so nothing depends on
 * the faucet service.
 */
export function mintKeypair(ledger: string): Keypair {
  const bytes = JSON.parse(readFileSync(path.join(ledger, 'faucet-keypair.json'), 'utf8')) as number[]
  return Keypair.fromSecretKey(Uint8Array.from(bytes))
}

/** Tops each recipient up to `sol` SOL from the mint (one transaction; no-op when funded). */
export async function fundFromMint(
  rpcUrl: string,
  ledger: string,
  recipients: readonly PublicKey[],
  sol: number,
): Promise<void> {
  const connection = new Connection(rpcUrl, 'confirmed')
  const mint = mintKeypair(ledger)
  const tx = new Transaction()
  for (const recipient of recipients) {
    const balance = await connection.getBalance(recipient, 'confirmed')
    const missing = sol * LAMPORTS_PER_SOL - balance
    if (missing > 0)
      tx.add(SystemProgram.transfer({ fromPubkey: mint.publicKey, toPubkey: recipient, lamports: missing }))
  }
  if (tx.instructions.length > 0)
    await sendAndConfirmTransaction(connection, tx, [mint], { commitment: 'confirmed' })
}

/**
 * A validator owned by the caller (a test or a benchmark), not by the stack: a child process
 * with its own ledger and ports, so tests that stop and restart it never disturb the stack's.
 */
export async function startValidator(
  binary: string,
  options: ValidatorOptions,
): Promise<{
  url: string
  wsUrl: string
  process: ChildProcess
  stop(signal?: NodeJS.Signals): Promise<void>
}> {
  mkdirSync(options.ledger, { recursive: true })
  const command = validatorCommand(binary, options)
  const child = spawn(command.command, command.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: options.ledger,
    env: validatorEnv(binary),
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000)
  })
  // A new ledger (genesis, first snapshot) takes a while on a busy two-core machine.
  const deadline = Date.now() + 180_000
  while (!(await validatorHealthy(options.rpcPort))) {
    if (child.exitCode !== null)
      throw new Error(`solana-test-validator on port ${options.rpcPort} exited: ${stderr.trim()}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`solana-test-validator on port ${options.rpcPort} did not answer within 180 s`)
    }
    await sleep(250)
  }
  return {
    url: validatorRpcUrl(options.rpcPort),
    wsUrl: validatorWsUrl(options.rpcPort),
    process: child,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill(signal)
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))])
      await exited
    },
  }
}

const proc = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, LOCAL_VALIDATOR.name)

export const validatorLedger = (context: StackContext) =>
  path.join(context.layout.dataDir, 'solana', 'ledger')

let binary: string | undefined

/** The local validator as a stack service (started by `veridis stack up`, stopped by `down`). */
export const solanaValidatorService: StackService = {
  name: LOCAL_VALIDATOR.name,
  logFile: (context) => proc(context).logFile,
  async install(context) {
    binary = await ensureValidatorBinary(context.layout.cacheDir, context.progress)
  },
  async start(context) {
    const ledger = validatorLedger(context)
    ensurePrivateDir(path.dirname(ledger))
    if (runningPid(proc(context))) return 'already running'
    binary ??= await ensureValidatorBinary(context.layout.cacheDir, context.progress)
    startDetached(proc(context), {
      ...validatorCommand(binary, {
        ledger,
        rpcPort: LOCAL_VALIDATOR.rpcPort,
        faucetPort: LOCAL_VALIDATOR.faucetPort,
        gossipPort: LOCAL_VALIDATOR.gossipPort,
        dynamicPortRange: LOCAL_VALIDATOR.dynamicPortRange,
        ledgerShreds: LOCAL_LEDGER_SHREDS,
      }),
      cwd: path.dirname(ledger),
      env: validatorEnv(binary),
      // Its `nice -n 10` alone does not hold across sessions (see SpawnSpec.sessionNice): with
      // the stack idle, two CPU-bound processes of the test run took 72–74 s at the validator
      // session's default nice and 26 s at 19. It still gets every cycle nothing else wants.
      sessionNice: 19,
    })
    return 'started'
  },
  isHealthy: async () => validatorHealthy(LOCAL_VALIDATOR.rpcPort),
  // SIGTERM: the ledger (RocksDB) is flushed and the validator resumes from it next time.
  stop: async (context) => stopProcess(proc(context)),
  pid: (context) => runningPid(proc(context)),
  describe: (context) => {
    const file = localSolanaChainsFile(context.config.home)
    let chain = 'chain id once prepared'
    try {
      chain = (JSON.parse(readFileSync(file, 'utf8')) as { chain: string }[])[0]?.chain ?? chain
    } catch {}
    return `${validatorRpcUrl(LOCAL_VALIDATOR.rpcPort)} (${chain}, agave 3.1.12, ws ${validatorWsUrl(LOCAL_VALIDATOR.rpcPort)}, ledger ${validatorLedger(context)})`
  },
}

/** A development keypair among the local secrets, created once. */
function localKeypair(secretsDir: string, file: string): Keypair {
  const full = path.join(secretsDir, file)
  if (existsSync(full)) {
    const stored = JSON.parse(readFileSync(full, 'utf8')) as { secretKey: number[] }
    return Keypair.fromSecretKey(Uint8Array.from(stored.secretKey))
  }
  return Keypair.generate()
}

function writeKeypair(secretsDir: string, file: string, keypair: Keypair, chain: string) {
  writeFileSync(
    path.join(secretsDir, file),
    `${JSON.stringify({ chain, publicKey: keypair.publicKey.toBase58(), secretKey: [...keypair.secretKey] })}\n`,
    { mode: 0o600 },
  )
}

/** The local validator as a Solana configuration entry. */
export function solanaEntry(options: {
  chain: string
  rpcUrl: string
  wsUrl: string
  attestation: string
  nullifier: string
  startBlock: number
}): SolanaChainEntry {
  return {
    chain: options.chain,
    rpcUrls: [options.rpcUrl],
    wsUrl: options.wsUrl,
    authorities: { attestation: options.attestation, nullifier: options.nullifier },
    startBlock: options.startBlock,
    maxBlockRange: 5_000,
    maxHeadBatch: 50,
    pollIntervalMs: 500,
    requestTimeoutMs: 5_000,
  }
}

/**
 * The Veridis authorities on the local validator (development keys, created once and kept
 * among the local secrets: the relayer/registry authority in solana-relayer.json, where the
 * nullifier writer finds it, the attester in solana-attester.json), funded from the mint,
 * and the chain written as configuration (`<VERIDIS_HOME>/chains/solana.json`). The first
 * slot is recorded once, so later `up`s keep the listener's range.
 */
async function prepareValidator(context: StackContext) {
  const rpcUrl = validatorRpcUrl(LOCAL_VALIDATOR.rpcPort)
  const connection = new Connection(rpcUrl, 'confirmed')
  const chain = solanaChainOf(await connection.getGenesisHash())
  ensurePrivateDir(context.layout.secretsDir)
  const relayer = localKeypair(context.layout.secretsDir, 'solana-relayer.json')
  const attester = localKeypair(context.layout.secretsDir, 'solana-attester.json')
  writeKeypair(context.layout.secretsDir, 'solana-relayer.json', relayer, chain)
  writeKeypair(context.layout.secretsDir, 'solana-attester.json', attester, chain)
  await fundFromMint(rpcUrl, validatorLedger(context), [relayer.publicKey, attester.publicKey], 1_000)
  const file = localSolanaChainsFile(context.config.home)
  let startBlock: number | undefined
  try {
    const [existing] = JSON.parse(readFileSync(file, 'utf8')) as SolanaChainEntry[]
    if (existing?.chain === chain) startBlock = existing.startBlock
  } catch {}
  startBlock ??= await connection.getSlot('finalized')
  // A start below the ledger's first slot can never be read (the node purged it); such a
  // recorded start is raised, or the listener would stop on it for want of history.
  const firstAvailable = await connection.getFirstAvailableBlock()
  if (startBlock < firstAvailable) {
    context.progress(
      `${LOCAL_VALIDATOR.name}: recorded start slot ${startBlock} is below the ledger's first slot ${firstAvailable}; starting there`,
    )
    startBlock = firstAvailable
  }
  mkdirSync(path.dirname(file), { recursive: true })
  const entry = solanaEntry({
    chain,
    rpcUrl,
    wsUrl: validatorWsUrl(LOCAL_VALIDATOR.rpcPort),
    attestation: attester.publicKey.toBase58(),
    nullifier: relayer.publicKey.toBase58(),
    startBlock,
  })
  writeFileSync(file, `${JSON.stringify([entry], null, 2)}\n`)
  context.progress(`${LOCAL_VALIDATOR.name}: authorities funded (${chain}); configuration written to ${file}`)
}

/**
 * The Solana family's node in the stack (infra/stack/stack.ts, CHAIN_NODES), registered there
 * once the validator binary is built on the machine and the node has been seen working.
 * @public
 */
export const solanaNode: ChainNode = { service: solanaValidatorService, prepare: prepareValidator }
