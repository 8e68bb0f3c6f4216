import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { PROJECT_ROOT } from '../core/paths.ts'
import { CIRCUITS_DIR } from './catalog.ts'

/**
 * The native Groth16 addon (circuits/native: arkworks through napi), built from crates.io by
 * infra/stack/native/zk-native.sh into ~/.cache/veridis/native/zk-native-<hash>-<cpu>/, where
 * <hash> covers the crate's sources: a checkout finds the build of its own sources, never a
 * stale one.
 */
export const ZK_NATIVE_SOURCE = path.join(CIRCUITS_DIR, 'native')
/** Builds the addon; with `test`, runs the crate's Rust tests. */
export const ZK_NATIVE_BUILD_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'zk-native.sh')

/** A proof as the addon returns it: snarkjs's layout. */
export interface NativeProof {
  readonly piA: string[]
  readonly piB: string[][]
  readonly piC: string[]
  readonly publicSignals: string[]
}

export interface NativeGroth16Prover {
  readonly nPublic: number
  readonly nVars: number
  /** Rejects a witness that does not satisfy the circuit (the proof is checked before it is returned). */
  prove(witness: Uint8Array): Promise<NativeProof>
}

export interface NativeBatchVerifier {
  /** Verdict codes (NATIVE_VERDICT) for proofs laid end to end as decimal strings. */
  verify(flat: string[]): Promise<number[]>
}

export interface ZkNativeAddon {
  Groth16Prover: new (zkeyPath: string) => NativeGroth16Prover
  Groth16BatchVerifier: new (key: string[]) => NativeBatchVerifier
  threadCount(): number
}

/** The batch verifier's verdict codes (circuits/native/src/batch.rs). */
export const NATIVE_VERDICT = {
  valid: 0,
  notInSubgroup: 1,
  pairingFailed: 2,
  aNotOnCurve: 3,
  bNotOnCurve: 4,
  cNotOnCurve: 5,
  signalMalformed: 6,
} as const

function cacheDir(): string {
  return path.join(process.env.VERIDIS_CACHE ?? path.join(os.homedir(), '.cache', 'veridis'), 'native')
}

/** The same hash as zk-native.sh: `cat Cargo.toml Cargo.lock build.rs src/*.rs | sha256sum`. */
export function zkNativeVersion(): string {
  const sources = readdirSync(path.join(ZK_NATIVE_SOURCE, 'src'))
    .filter((name) => name.endsWith('.rs'))
    .sort()
    .map((name) => path.join('src', name))
  const hash = createHash('sha256')
  for (const file of ['Cargo.toml', 'Cargo.lock', 'build.rs', ...sources]) {
    hash.update(readFileSync(path.join(ZK_NATIVE_SOURCE, file)))
  }
  return hash.digest('hex').slice(0, 12)
}

/**
 * The build variant for this machine's CPU, as zk-native.sh names it: `adx` when the CPU has
 * bmi2 and adx (ark-ff's assembly multiplication is compiled in), `portable` otherwise.
 */
export function zkNativeCpuVariant(cpuinfo = readCpuinfo()): 'adx' | 'portable' {
  const flags = new Set(cpuinfo.split(/\s+/))
  return flags.has('bmi2') && flags.has('adx') ? 'adx' : 'portable'
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8')
  } catch {
    return ''
  }
}

export function zkNativeAddonPath(): string {
  return path.join(
    cacheDir(),
    `zk-native-${zkNativeVersion()}-${zkNativeCpuVariant()}`,
    'veridis_zk_native.node',
  )
}

/**
 * Builds the addon if this machine has no build of these sources (minutes the first time on
 * two cores, then a lookup); returns its path. Progress goes to stderr.
 */
export function buildZkNative(): string {
  const out = execFileSync('bash', [ZK_NATIVE_BUILD_SCRIPT], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  })
  const addon = out.trim().split('\n').at(-1)
  if (!addon) throw new Error('zk-native.sh printed no path')
  return addon
}

export type ZkNativeLoad =
  | { readonly addon: ZkNativeAddon; readonly path: string }
  | { readonly addon: undefined; readonly reason: string }

/**
 * The addon when this checkout's sources are built on this machine; never builds (a
 * consumer starting must not compile for minutes): `reason` says why it is absent.
 */
export function loadZkNative(): ZkNativeLoad {
  const addonPath = zkNativeAddonPath()
  if (!existsSync(addonPath)) {
    return { addon: undefined, reason: `not built (infra/stack/native/zk-native.sh builds ${addonPath})` }
  }
  try {
    const addon = createRequire(import.meta.url)(addonPath) as ZkNativeAddon
    return { addon, path: addonPath }
  } catch (error) {
    return { addon: undefined, reason: `does not load: ${(error as Error).message.split('\n')[0]}` }
  }
}

export type ZkBackendChoice =
  | { readonly kind: 'native'; readonly addon: ZkNativeAddon; readonly detail: string }
  | { readonly kind: 'snarkjs'; readonly detail: string }

/**
 * The backend a consumer runs with, from VERIDIS_ZK_BACKEND: `auto` takes the addon when
 * it is built and falls back to snarkjs, saying why; `native` without a built addon is an
 * error at start, not a silent fallback.
 */
export function chooseZkBackend(wanted: 'auto' | 'native' | 'snarkjs'): ZkBackendChoice {
  if (wanted === 'snarkjs') return { kind: 'snarkjs', detail: 'VERIDIS_ZK_BACKEND=snarkjs' }
  const loaded = loadZkNative()
  if (loaded.addon) {
    return {
      kind: 'native',
      addon: loaded.addon,
      detail: `${loaded.path} (${loaded.addon.threadCount()} threads)`,
    }
  }
  if (wanted === 'native') throw new Error(`VERIDIS_ZK_BACKEND=native but the addon ${loaded.reason}`)
  return { kind: 'snarkjs', detail: `native addon ${loaded.reason}` }
}
