import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  COSMOS_DEV_ACCOUNT,
  COSMOS_DEV_ACCOUNTS,
  COSMOS_DEV_MNEMONIC,
  WASMD_BECH32_PREFIX,
  WASMD_DENOM,
} from '../../contracts/cosmos/accounts.ts'
import { sleep } from '../../core/bus/retry.ts'
import { createLogger } from '../../core/logging/logger.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { type CosmosChainEntry, localCosmosChainsFile } from '../../producers/chains/cosmos/config.ts'
import { type CometRpc, createCometRpc } from '../../producers/chains/cosmos/rpc/client.ts'
import { contractInfoRequest, encodeMessage } from '../../producers/chains/cosmos/rpc/proto.ts'
import { abciQuerySchema } from '../../producers/chains/cosmos/rpc/schemas.ts'
import {
  broadcastSync,
  type CosmosKey,
  cosmosKey,
  queryAccount,
  signTx,
  waitForTx,
} from '../../producers/chains/cosmos/rpc/signing.ts'
import { ensurePrivateDir } from './private-dir.ts'
import { managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import type { ChainNode, StackContext, StackService } from './service.ts'

/**
 * The local Cosmos node: `wasmd` v0.70.3 (CometBFT 0.39, Cosmos SDK 0.54, wasmvm 3) built from
 * the Go module proxy by infra/stack/native/build.sh (~6 minutes on two cores the first time,
 * then cached under ~/.cache/veridis/native), a single validator making a block a second
 * (`timeout_commit = 1s`), chain id veridis-local-1. Every listener is on loopback: CometBFT RPC
 * and websocket, p2p (no peers, but it listens), and the SDK's gRPC and REST servers and pprof
 * are disabled. The chain's home (genesis, keys with `--keyring-backend test`, block store and
 * state) lives under the stack's data directory, so the chain — and the listener's cursor
 * against it — survives restarts.
 *
 * `prepare` stores and instantiates the Veridis CosmWasm registry (contracts/cosmos) once,
 * records it, and writes `<VERIDIS_HOME>/chains/cosmos.json` and the relayer's development key
 * among the local secrets.
 */
export const LOCAL_WASMD = {
  name: 'wasmd',
  chainId: 'veridis-local-1',
  rpcPort: 16657,
  p2pPort: 16656,
} as const

export const wasmdRpcUrl = (port: number) => `http://127.0.0.1:${port}`
export const wasmdWsUrl = (port: number) => `ws://127.0.0.1:${port}/websocket`

const BUILD_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'build.sh')
const REGISTRY_WASM = path.join(PROJECT_ROOT, 'contracts', 'cosmos', 'artifacts', 'veridis_registry.wasm')

/**
 * The wasmd binary: from the machine's cache, or built now (the script prints progress and the
 * time it took, and holds a lock, so concurrent callers wait for one build).
 */
export function ensureWasmdBinary(cacheDir: string, progress: (line: string) => void): Promise<string> {
  // A wasmd built elsewhere (same version): used as it is, nothing built.
  const given = process.env.VERIDIS_WASMD_BINARY
  if (given) return Promise.resolve(given)
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = execFile(
      'bash',
      [BUILD_SCRIPT, 'wasmd'],
      { env: { ...process.env, VERIDIS_CACHE: cacheDir }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) reject(new Error(`building wasmd failed: ${error.message.split('\n')[0]}`))
        else resolve(stdout.trim().split('\n').at(-1)!)
      },
    )
    let last = 0
    child.stderr?.on('data', (chunk: Buffer) => {
      // go's download lines, then silence while it compiles (~6 minutes the first time).
      const line = chunk.toString().trim().split('\n').at(-1) ?? ''
      if (Date.now() - last > 30_000 || /veridis:/.test(line)) {
        last = Date.now()
        progress(`wasmd build (${Math.round((Date.now() - started) / 1000)} s): ${line.trim()}`)
      }
    })
  })
}

/**
 * wasmvm's shared library sits in the Go module cache beside the build; the binary carries an
 * rpath to it, and LD_LIBRARY_PATH names it too in case the cache moved.
 */
function wasmdEnv(binary: string): NodeJS.ProcessEnv {
  const gomod = path.join(
    path.dirname(path.dirname(path.dirname(binary))),
    'gomod',
    'github.com',
    '!cosm!wasm',
  )
  const dirs: string[] = []
  if (existsSync(gomod)) {
    for (const name of readdirSync(gomod).filter((entry) => entry.startsWith('wasmvm'))) {
      const dir = path.join(gomod, name, 'internal', 'api')
      if (existsSync(path.join(dir, 'libwasmvm.x86_64.so'))) dirs.push(dir)
    }
  }
  const existing = process.env.LD_LIBRARY_PATH
  return {
    ...process.env,
    ...(dirs.length > 0 ? { LD_LIBRARY_PATH: [...dirs, ...(existing ? [existing] : [])].join(':') } : {}),
  }
}

/** Sets `key = value` inside `[section]` of a TOML text (top level when section is ''). */
function setToml(text: string, section: string, key: string, value: string): string {
  const lines = text.split('\n')
  let current = ''
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(lines[i]!)
    if (header) {
      current = header[1]!.trim()
      continue
    }
    if (current === section && new RegExp(`^\\s*${key.replace(/[.-]/g, '\\$&')}\\s*=`).test(lines[i]!)) {
      lines[i] = `${key} = ${value}`
      return lines.join('\n')
    }
  }
  throw new Error(`wasmd config: no ${section ? `[${section}] ` : ''}${key} to set`)
}

export interface WasmdNodeOptions {
  readonly home: string
  readonly chainId: string
  readonly rpcPort: number
  readonly p2pPort: number
}

/** The development accounts' keys (public test mnemonic; contracts/cosmos/accounts.ts). */
export async function wasmdDevKeys(): Promise<CosmosKey[]> {
  return Promise.all(
    Array.from({ length: COSMOS_DEV_ACCOUNTS }, (_, index) =>
      cosmosKey(COSMOS_DEV_MNEMONIC, WASMD_BECH32_PREFIX, index),
    ),
  )
}

/**
 * Initialises a single-validator chain in `home` once (idempotent: an initialised home is kept
 * with its state): genesis, the validator's key in the test keyring, the dev accounts funded,
 * the gentx, 1-second blocks, every listener on loopback or off.
 */
export async function initWasmdHome(
  binary: string,
  options: WasmdNodeOptions,
): Promise<'initialised' | 'kept'> {
  const genesis = path.join(options.home, 'config', 'genesis.json')
  if (existsSync(genesis) && existsSync(path.join(options.home, 'config', 'gentx'))) {
    configureWasmd(options)
    return 'kept'
  }
  // A home left half-initialised (a crash during init) holds no chain yet: start it afresh.
  rmSync(options.home, { recursive: true, force: true })
  mkdirSync(options.home, { recursive: true, mode: 0o700 })
  const env = wasmdEnv(binary)
  const run = (...args: string[]) =>
    execFileSync(binary, [...args, '--home', options.home], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString()
  run('init', 'veridis', '--chain-id', options.chainId, '--default-denom', WASMD_DENOM, '--overwrite')
  run('keys', 'add', 'validator', '--keyring-backend', 'test', '--output', 'json')
  run(
    'genesis',
    'add-genesis-account',
    'validator',
    `1000000000000${WASMD_DENOM}`,
    '--keyring-backend',
    'test',
  )
  for (const key of await wasmdDevKeys()) {
    run('genesis', 'add-genesis-account', key.address, `1000000000000${WASMD_DENOM}`)
  }
  run(
    'genesis',
    'gentx',
    'validator',
    `100000000${WASMD_DENOM}`,
    '--chain-id',
    options.chainId,
    '--keyring-backend',
    'test',
  )
  run('genesis', 'collect-gentxs')
  configureWasmd(options)
  return 'initialised'
}

/** Ports, block time and loopback-only listeners, written into the home's config (every start). */
function configureWasmd(options: WasmdNodeOptions) {
  const configFile = path.join(options.home, 'config', 'config.toml')
  let config = readFileSync(configFile, 'utf8')
  config = setToml(config, 'rpc', 'laddr', `"tcp://127.0.0.1:${options.rpcPort}"`)
  config = setToml(config, 'rpc', 'pprof_laddr', '""')
  config = setToml(config, 'p2p', 'laddr', `"tcp://127.0.0.1:${options.p2pPort}"`)
  config = setToml(config, 'consensus', 'timeout_commit', '"1s"')
  writeFileSync(configFile, config)
  const appFile = path.join(options.home, 'config', 'app.toml')
  let app = readFileSync(appFile, 'utf8')
  app = setToml(app, '', 'minimum-gas-prices', `"0${WASMD_DENOM}"`)
  app = setToml(app, 'api', 'enable', 'false')
  app = setToml(app, 'api', 'address', '"tcp://127.0.0.1:0"')
  app = setToml(app, 'grpc', 'enable', 'false')
  app = setToml(app, 'grpc', 'address', '"127.0.0.1:0"')
  writeFileSync(appFile, app)
}

export const wasmdArgs = (options: WasmdNodeOptions) => ['start', '--home', options.home]

/** True when CometBFT answers on the port. */
export async function wasmdAlive(port: number): Promise<boolean> {
  try {
    const response = await fetch(`${wasmdRpcUrl(port)}/status`, { signal: AbortSignal.timeout(2_000) })
    if (!response.ok) return false
    const body = (await response.json()) as { result?: { sync_info?: { latest_block_height?: string } } }
    return Number(body.result?.sync_info?.latest_block_height ?? 0) >= 1
  } catch {
    return false
  }
}

/**
 * A wasmd chain owned by the caller (a test or a benchmark), not by the stack: its own home and
 * ports, a child process stopped with the test.
 */
export async function startWasmd(
  binary: string,
  options: WasmdNodeOptions,
): Promise<{ url: string; wsUrl: string; process: ChildProcess; stop(): Promise<void> }> {
  await initWasmdHome(binary, options)
  const child = spawn(binary, wasmdArgs(options), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: wasmdEnv(binary),
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000)
  })
  const deadline = Date.now() + 60_000
  while (!(await wasmdAlive(options.rpcPort))) {
    if (child.exitCode !== null) throw new Error(`wasmd on port ${options.rpcPort} exited: ${stderr.trim()}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`wasmd on port ${options.rpcPort} made no block within 60 s: ${stderr.slice(-1_000)}`)
    }
    await sleep(200)
  }
  return {
    url: wasmdRpcUrl(options.rpcPort),
    wsUrl: wasmdWsUrl(options.rpcPort),
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))])
      await exited
    },
  }
}

/** A CometBFT client for deployment and tests (failover of one endpoint, warnings only). */
export function wasmdRpc(url: string, chain: string): CometRpc {
  return createCometRpc({
    chain,
    urls: [url],
    timeoutMs: 15_000,
    logger: createLogger({ service: 'wasmd-deploy', level: 'warn' }),
    onError: () => {},
  })
}

/** Signs and sends messages from a key and waits for the block; throws on a failed transaction. */
export async function executeOnWasmd(
  rpc: CometRpc,
  chainId: string,
  key: CosmosKey,
  messages: readonly Uint8Array[],
  gasLimit = 2_000_000,
) {
  const account = await queryAccount(rpc, key.address)
  if (!account) throw new Error(`${key.address} does not exist on ${chainId}`)
  const signed = await signTx({
    key,
    chainId,
    accountNumber: account.accountNumber,
    sequence: account.sequence,
    messages,
    gasLimit,
    gasPrice: `0${WASMD_DENOM}`,
  })
  const checked = await broadcastSync(rpc, signed.bytes)
  if (checked.code !== 0) throw new Error(`CheckTx refused: code ${checked.code}: ${checked.log ?? ''}`)
  const committed = await waitForTx(rpc, signed.txHash)
  if (committed.tx_result.code !== 0) {
    throw new Error(
      `transaction ${signed.txHash} failed: ${committed.tx_result.log ?? `code ${committed.tx_result.code}`}`,
    )
  }
  return committed
}

const attribute = (
  tx: { tx_result: { events: { type: string; attributes: { key: string; value: string }[] }[] } },
  type: string,
  key: string,
) => tx.tx_result.events.find((event) => event.type === type)?.attributes.find((a) => a.key === key)?.value

export interface CosmosDeployment {
  readonly chain: string
  readonly codeId: number
  readonly registry: string
  /** The block of the instantiation: the listener starts there. */
  readonly startBlock: number
  readonly wasmSha256: string
}

/** Stores the registry's code and instantiates it with the dev accounts in their roles. */
export async function deployRegistry(url: string, chainId: string): Promise<CosmosDeployment> {
  const rpc = wasmdRpc(url, `cosmos:${chainId}`)
  const keys = await wasmdDevKeys()
  const deployer = keys[COSMOS_DEV_ACCOUNT.deployer]!
  const wasm = readFileSync(REGISTRY_WASM)
  const stored = await executeOnWasmd(
    rpc,
    chainId,
    deployer,
    [
      encodeMessage([
        [1, 'string', '/cosmwasm.wasm.v1.MsgStoreCode'],
        [
          2,
          'bytes',
          encodeMessage([
            [1, 'string', deployer.address],
            [2, 'bytes', wasm],
          ]),
        ],
      ]),
    ],
    5_000_000,
  )
  const codeId = Number(attribute(stored, 'store_code', 'code_id'))
  if (!Number.isSafeInteger(codeId) || codeId <= 0) throw new Error('MsgStoreCode gave no code id')
  const instantiateMsg = {
    protocol: [keys[COSMOS_DEV_ACCOUNT.protocol]!.address],
    relayers: [keys[COSMOS_DEV_ACCOUNT.relayer]!.address],
    issuers: [keys[COSMOS_DEV_ACCOUNT.issuer]!.address],
  }
  const instantiated = await executeOnWasmd(rpc, chainId, deployer, [
    encodeMessage([
      [1, 'string', '/cosmwasm.wasm.v1.MsgInstantiateContract'],
      [
        2,
        'bytes',
        encodeMessage([
          [1, 'string', deployer.address],
          [2, 'string', deployer.address],
          [3, 'varint', BigInt(codeId)],
          [4, 'string', 'veridis-registry'],
          [5, 'bytes', new TextEncoder().encode(JSON.stringify(instantiateMsg))],
        ]),
      ],
    ]),
  ])
  const registry = attribute(instantiated, 'instantiate', '_contract_address')
  if (!registry) throw new Error('MsgInstantiateContract gave no contract address')
  return {
    chain: `cosmos:${chainId}`,
    codeId,
    registry,
    startBlock: instantiated.height,
    wasmSha256: createHash('sha256').update(wasm).digest('hex'),
  }
}

/** True when a contract exists at the address. */
async function contractExists(url: string, chainId: string, address: string): Promise<boolean> {
  const answer = await wasmdRpc(url, `cosmos:${chainId}`).call(
    'abci_query',
    {
      path: '/cosmwasm.wasm.v1.Query/ContractInfo',
      data: Buffer.from(contractInfoRequest(address)).toString('hex'),
      prove: false,
    },
    abciQuerySchema,
  )
  return answer.response.code === 0 && Boolean(answer.response.value)
}

const deploymentFile = (home: string) => path.join(home, 'deployments', 'cosmos.json')

/** The registry on the local chain: recorded and present, or deployed now. */
export async function ensureRegistryDeployed(options: {
  url: string
  chainId: string
  home: string
}): Promise<{ deployment: CosmosDeployment; outcome: 'deployed' | 'already deployed' }> {
  const file = deploymentFile(options.home)
  const wasmSha256 = createHash('sha256').update(readFileSync(REGISTRY_WASM)).digest('hex')
  if (existsSync(file)) {
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as CosmosDeployment
    if (
      recorded.chain === `cosmos:${options.chainId}` &&
      recorded.wasmSha256 === wasmSha256 &&
      (await contractExists(options.url, options.chainId, recorded.registry))
    ) {
      return { deployment: recorded, outcome: 'already deployed' }
    }
  }
  const deployment = await deployRegistry(options.url, options.chainId)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(deployment, null, 2)}\n`)
  return { deployment, outcome: 'deployed' }
}

/** The local chain as a Cosmos configuration entry (`<VERIDIS_HOME>/chains/cosmos.json`). */
export function writeLocalCosmosConfig(home: string, deployment: CosmosDeployment): string {
  const entries: CosmosChainEntry[] = [
    {
      chain: deployment.chain,
      rpcUrls: [wasmdRpcUrl(LOCAL_WASMD.rpcPort)],
      wsUrl: wasmdWsUrl(LOCAL_WASMD.rpcPort),
      contracts: { registry: deployment.registry },
      bech32Prefix: WASMD_BECH32_PREFIX,
      gasPrice: `0${WASMD_DENOM}`,
      startBlock: deployment.startBlock,
      maxBlockRange: 5_000,
      pollIntervalMs: 500,
      requestTimeoutMs: 5_000,
    },
  ]
  const file = localCosmosChainsFile(home)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(entries, null, 2)}\n`)
  return file
}

const proc = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, LOCAL_WASMD.name)
const wasmdHome = (context: StackContext) => path.join(context.layout.dataDir, 'wasmd')
const localOptions = (context: StackContext): WasmdNodeOptions => ({
  home: wasmdHome(context),
  chainId: LOCAL_WASMD.chainId,
  rpcPort: LOCAL_WASMD.rpcPort,
  p2pPort: LOCAL_WASMD.p2pPort,
})

let binary: string | undefined

/** The local wasmd as a stack service (started by `veridis stack up`, stopped by `down`). */
export const wasmdService: StackService = {
  name: LOCAL_WASMD.name,
  logFile: (context) => proc(context).logFile,
  async install(context) {
    binary = await ensureWasmdBinary(context.layout.cacheDir, context.progress)
  },
  async start(context) {
    if (runningPid(proc(context))) return 'already running'
    binary ??= await ensureWasmdBinary(context.layout.cacheDir, context.progress)
    ensurePrivateDir(wasmdHome(context))
    const outcome = await initWasmdHome(binary, localOptions(context))
    if (outcome === 'initialised')
      context.progress(`${LOCAL_WASMD.name}: chain ${LOCAL_WASMD.chainId} initialised`)
    startDetached(proc(context), {
      command: binary,
      args: wasmdArgs(localOptions(context)),
      cwd: context.layout.dataDir,
      env: wasmdEnv(binary),
    })
    return 'started'
  },
  isHealthy: async () => wasmdAlive(LOCAL_WASMD.rpcPort),
  // SIGTERM: CometBFT stops after the block it is on; committed state is on disk.
  stop: async (context) => stopProcess(proc(context)),
  pid: (context) => runningPid(proc(context)),
  describe: (context) =>
    `${wasmdRpcUrl(LOCAL_WASMD.rpcPort)} (cosmos:${LOCAL_WASMD.chainId}, CometBFT 0.39, 1-second blocks, ws ${wasmdWsUrl(LOCAL_WASMD.rpcPort)}; home ${wasmdHome(context)})`,
}

/**
 * The registry on the local chain (deployed once; the chain keeps its state across restarts),
 * its configuration for the Cosmos listener and writer, and the relayer's development key
 * (public test mnemonic, like anvil's) among the local secrets.
 */
async function prepareWasmd(context: StackContext) {
  const url = wasmdRpcUrl(LOCAL_WASMD.rpcPort)
  const { deployment, outcome } = await ensureRegistryDeployed({
    url,
    chainId: LOCAL_WASMD.chainId,
    home: context.config.home,
  })
  context.progress(
    `${LOCAL_WASMD.name}: registry ${outcome} (${deployment.registry}, record in deployments/)`,
  )
  const relayer = (await wasmdDevKeys())[COSMOS_DEV_ACCOUNT.relayer]!
  ensurePrivateDir(context.layout.secretsDir)
  writeFileSync(
    path.join(context.layout.secretsDir, 'cosmos-relayer.json'),
    `${JSON.stringify({
      chain: deployment.chain,
      address: relayer.address,
      mnemonic: COSMOS_DEV_MNEMONIC,
      hdIndex: COSMOS_DEV_ACCOUNT.relayer,
    })}\n`,
    { mode: 0o600 },
  )
  context.progress(
    `local chains: Cosmos configuration written to ${writeLocalCosmosConfig(context.config.home, deployment)}`,
  )
}

export const wasmdNode: ChainNode = { service: wasmdService, prepare: prepareWasmd }
