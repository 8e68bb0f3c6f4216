import { readFile } from 'node:fs/promises'
import type { Curve } from 'ffjavascript'
import type { CircuitName, CircuitSpec } from '../../circuits/catalog.ts'
import { sharedCurve } from '../../circuits/curve.ts'
import {
  type BatchItem,
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
}) {
  let loaded: Promise<{ curve: Curve; keys: Map<CircuitName, PreparedKey> }> | undefined

  const load = async () => {
    const curve = await sharedCurve()
    const keys = new Map<CircuitName, PreparedKey>()
    for (const spec of Object.values(options.specs)) {
      const json = JSON.parse(await readFile(spec.artifacts.vkey, 'utf8')) as VerificationKeyJson
      keys.set(spec.circuit, prepareKey(curve, json))
    }
    return { curve, keys }
  }

  return {
    async verify(requests: readonly VerifyRequest[]): Promise<Verdict[]> {
      loaded ??= load().catch((error: unknown) => {
        loaded = undefined
        throw error
      })
      const { curve, keys } = await loaded
      const verdicts = new Array<Verdict>(requests.length)
      const byCircuit = new Map<CircuitName, number[]>()
      requests.forEach((request, index) => {
        const indices = byCircuit.get(request.circuit) ?? []
        indices.push(index)
        byCircuit.set(request.circuit, indices)
      })
      for (const [circuit, indices] of byCircuit) {
        const key = keys.get(circuit)
        if (!key) {
          for (const index of indices)
            verdicts[index] = { valid: false, reason: `no verification key for ${circuit}` }
          continue
        }
        for (let start = 0; start < indices.length; start += options.batchSize) {
          const slice = indices.slice(start, start + options.batchSize)
          const results = await verifyBatch(
            curve,
            key,
            slice.map((index) => requests[index]!),
          )
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
