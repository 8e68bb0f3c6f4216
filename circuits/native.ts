import path from 'node:path'
import { type RustAddonLoad, rustAddon } from '../core/native/rust-addon.ts'
import { CIRCUITS_DIR } from './catalog.ts'

/**
 * The native Groth16 addon (circuits/native: arkworks through napi), built from crates.io by
 * infra/stack/native/rust-addon.sh into ~/.cache/veridis/native/zk-native-<hash>-<cpu>/
 * (core/native/rust-addon.ts: a checkout finds the build of its own sources, never a stale one).
 */
const ZK_NATIVE_SOURCE = path.join(CIRCUITS_DIR, 'native')

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

const zkNative = rustAddon<ZkNativeAddon>({
  name: 'zk-native',
  source: ZK_NATIVE_SOURCE,
  library: 'veridis_zk_native',
})

/** Builds the addon if this machine has no build of these sources; returns its path. */
export const buildZkNative = () => zkNative.build()
export type ZkNativeLoad = RustAddonLoad<ZkNativeAddon>
/** The addon when this checkout's sources are built on this machine; never builds. */
export const loadZkNative = (): ZkNativeLoad => zkNative.load()

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
