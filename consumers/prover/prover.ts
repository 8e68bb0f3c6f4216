import * as snarkjs from 'snarkjs'
import type { CircuitName, CircuitSpec } from '../../circuits/catalog.ts'
import { sharedCurve } from '../../circuits/curve.ts'
import type { NativeGroth16Prover, ZkNativeAddon } from '../../circuits/native.ts'
import { fromSnarkjsProof, type Groth16Proof, type SnarkjsProof } from '../../circuits/points.ts'
import { ProofCache } from './cache.ts'
import { checkInputs, InvalidInputsError, witnessFailureReason } from './inputs.ts'
import { createLimiter } from './limit.ts'
import { createWitnessCalculators } from './witness.ts'

export type ProveOutcome =
  | {
      readonly status: 'GENERATED'
      readonly proof: Groth16Proof
      readonly publicSignals: string[]
      readonly durationMs: number
      readonly cached: boolean
    }
  | { readonly status: 'REJECTED'; readonly reason: string; readonly durationMs: number }

export interface ProverMetrics {
  /**
   * 'failure' covers requests that end without a proof, invalid inputs included: the
   * protocol rules reserve status="rejected" for proofs the verifier refuses.
   */
  observe(circuit: CircuitName, outcome: 'success' | 'failure', seconds: number, cached: boolean): void
}

/**
 * What computes the Groth16 proof once the circuit's wasm has computed the witness: snarkjs
 * (the reference, multi-exponentiations on ffjavascript's wasm workers), or the native addon
 * (circuits/native: arkworks, several times faster), which checks every proof it makes.
 */
export type ProverBackend =
  | { readonly kind: 'snarkjs' }
  | { readonly kind: 'native'; readonly addon: ZkNativeAddon }

/** What the native prover says of a witness that does not satisfy the circuit. */
const UNSATISFIED = 'witness does not satisfy the circuit'

/**
 * Witness and Groth16 proof for prove commands: inputs checked first, at most
 * `concurrency` proofs at once (witness computation is single-threaded wasm while the
 * multi-exponentiations run on the curve's worker threads, so two overlap well on two
 * cores), results cached, identical requests in flight computed once. Inputs that cannot
 * be proved give a REJECTED outcome with a reason free of input values; anything else
 * (missing artifacts, a broken worker) is thrown for the consumer runtime to retry.
 */
export function createProver(options: {
  specs: Readonly<Record<CircuitName, CircuitSpec>>
  concurrency: number
  cacheSize: number
  metrics?: ProverMetrics
  /** snarkjs unless given. */
  backend?: ProverBackend
}) {
  const backend = options.backend ?? { kind: 'snarkjs' }
  // One proving key per circuit, read once (a zkey is megabytes; snarkjs rereads it per proof).
  const natives = new Map<string, NativeGroth16Prover>()
  const nativeProver = (addon: ZkNativeAddon, spec: CircuitSpec) => {
    let prover = natives.get(spec.id)
    if (!prover) {
      prover = new addon.Groth16Prover(spec.artifacts.zkey)
      natives.set(spec.id, prover)
    }
    return prover
  }
  const witnesses = createWitnessCalculators()
  const limit = createLimiter(options.concurrency)
  const cache = new ProofCache<{ proof: Groth16Proof; publicSignals: string[] }>(options.cacheSize)
  const inFlight = new Map<string, Promise<ProveOutcome>>()

  type Computed =
    | { readonly proof: Groth16Proof; readonly publicSignals: string[] }
    | { readonly rejected: string }

  const computeNative = async (
    addon: ZkNativeAddon,
    spec: CircuitSpec,
    inputs: Record<string, string[]>,
  ): Promise<Computed> => {
    let witness: Uint8Array
    try {
      witness = await witnesses.compute(spec, inputs)
    } catch (error) {
      const reason = witnessFailureReason(error)
      if (reason === 'witness computation failed') throw error
      return { rejected: reason }
    }
    try {
      const { publicSignals, ...proof } = await nativeProver(addon, spec).prove(witness)
      return { proof: { ...proof, protocol: 'groth16', curve: 'bn128' }, publicSignals }
    } catch (error) {
      // The wasm's assertions passed but a constraint does not hold: a property of the inputs.
      if (error instanceof Error && error.message.startsWith(UNSATISFIED)) {
        return { rejected: "inputs do not satisfy the circuit's constraints" }
      }
      throw error
    }
  }

  const compute = async (spec: CircuitSpec, inputs: Record<string, string[]>): Promise<Computed> => {
    if (backend.kind === 'native') return computeNative(backend.addon, spec, inputs)
    try {
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(
        inputs,
        spec.artifacts.wasm,
        spec.artifacts.zkey,
      )
      return { proof: fromSnarkjsProof(proof as SnarkjsProof), publicSignals: publicSignals as string[] }
    } catch (error) {
      // A failing assertion is a property of the inputs; a missing file is not.
      const reason = witnessFailureReason(error)
      if (reason === 'witness computation failed') throw error
      return { rejected: reason }
    }
  }

  return {
    cache,
    backend: backend.kind,

    async prove(circuit: CircuitName, rawInputs: Readonly<Record<string, readonly string[]>>) {
      const started = Date.now()
      const spec = options.specs[circuit]
      const finish = (outcome: ProveOutcome): ProveOutcome => {
        const label = outcome.status === 'GENERATED' ? 'success' : 'failure'
        const cached = outcome.status === 'GENERATED' && outcome.cached
        options.metrics?.observe(circuit, label, outcome.durationMs / 1000, cached)
        return outcome
      }
      let inputs: Record<string, string[]>
      try {
        inputs = checkInputs(spec, rawInputs)
      } catch (error) {
        if (!(error instanceof InvalidInputsError)) throw error
        return finish({ status: 'REJECTED', reason: `invalid inputs: ${error.message}`, durationMs: 0 })
      }
      const key = cache.key(circuit, inputs)
      const hit = cache.get(key)
      if (hit) return finish({ status: 'GENERATED', ...hit, durationMs: Date.now() - started, cached: true })
      const pending = inFlight.get(key)
      if (pending) return pending

      const work = limit(async (): Promise<ProveOutcome> => {
        if (backend.kind === 'snarkjs') await sharedCurve()
        const result = await compute(spec, inputs)
        if ('rejected' in result) {
          return { status: 'REJECTED', reason: result.rejected, durationMs: Date.now() - started }
        }
        cache.set(key, result)
        return { status: 'GENERATED', ...result, durationMs: Date.now() - started, cached: false }
      })
        .then(finish, (error: unknown) => {
          options.metrics?.observe(circuit, 'failure', (Date.now() - started) / 1000, false)
          throw error
        })
        .finally(() => inFlight.delete(key))
      inFlight.set(key, work)
      return work
    },
  }
}
