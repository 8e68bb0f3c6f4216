import { readFile } from 'node:fs/promises'
import type { Curve } from 'ffjavascript'
import type { CircuitName, CircuitSpec } from '../../circuits/catalog.ts'
import { sharedCurve } from '../../circuits/curve.ts'
import type { ZkBackendChoice } from '../../circuits/native.ts'
import {
  type BatchItem,
  nativeBatchVerifier,
  type PreparedKey,
  prepareKey,
  type Verdict,
  type VerificationKeyJson,
  verifyBatch,
} from './batch.ts'

export interface VerifyRequest extends BatchItem {
  readonly circuit: CircuitName
}

/**
 * Verdicts for proofs of any circuit: grouped by verification key, each group verified in
 * batches of at most `batchSize` (a failing batch is bisected inside verifyBatch). Keys
 * are read and prepared once per process.
 */
export function createVerifier(options: {
  specs: Readonly<Record<CircuitName, CircuitSpec>>
  batchSize: number
  /** ffjavascript's pairing (snarkjs) unless given. */
  backend?: ZkBackendChoice
}) {
  type Batch = (items: readonly BatchItem[]) => Promise<Verdict[]>
  let loaded: Promise<Map<CircuitName, Batch>> | undefined

  const load = async () => {
    const backend = options.backend
    const curve: Curve | undefined = backend?.kind === 'native' ? undefined : await sharedCurve()
    const keys = new Map<CircuitName, Batch>()
    for (const spec of Object.values(options.specs)) {
      const json = JSON.parse(await readFile(spec.artifacts.vkey, 'utf8')) as VerificationKeyJson
      if (curve) {
        const key: PreparedKey = prepareKey(curve, json)
        keys.set(spec.circuit, (items) => verifyBatch(curve, key, items))
      } else if (backend?.kind === 'native') {
        const native = nativeBatchVerifier(backend.addon, json)
        keys.set(spec.circuit, (items) => native.verify(items))
      }
    }
    return keys
  }

  return {
    async verify(requests: readonly VerifyRequest[]): Promise<Verdict[]> {
      loaded ??= load().catch((error: unknown) => {
        loaded = undefined
        throw error
      })
      const keys = await loaded
      const verdicts = new Array<Verdict>(requests.length)
      const byCircuit = new Map<CircuitName, number[]>()
      requests.forEach((request, index) => {
        const indices = byCircuit.get(request.circuit) ?? []
        indices.push(index)
        byCircuit.set(request.circuit, indices)
      })
      for (const [circuit, indices] of byCircuit) {
        const batch = keys.get(circuit)
        if (!batch) {
          for (const index of indices)
            verdicts[index] = { valid: false, reason: `no verification key for ${circuit}` }
          continue
        }
        for (let start = 0; start < indices.length; start += options.batchSize) {
          const slice = indices.slice(start, start + options.batchSize)
          const results = await batch(slice.map((index) => requests[index]!))
          slice.forEach((index, position) => {
            verdicts[index] = results[position]!
          })
        }
      }
      return verdicts
    },
  }
}

export type Verifier = ReturnType<typeof createVerifier>
