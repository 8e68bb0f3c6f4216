import { readFile } from 'node:fs/promises'
import { type WitnessCalculator, WitnessCalculatorBuilder } from 'circom_runtime'
import * as snarkjs from 'snarkjs'
import type { CircuitSpec } from '../../circuits/catalog.ts'

interface MemoryWitness {
  type: 'mem'
  data?: Uint8Array
}
// @types/snarkjs leaves out the wtns namespace that snarkjs exports.
const wtns = (
  snarkjs as unknown as {
    wtns: { calculate(inputs: object, wasm: string, out: MemoryWitness): Promise<void> }
  }
).wtns

/**
 * The witness of the inputs in snarkjs's .wtns layout, computed the way snarkjs does it: the
 * circuit's wasm read, compiled and instantiated for this one witness. The reference that
 * the calculator pool below is checked against.
 */
export async function computeWitness(
  spec: CircuitSpec,
  inputs: Record<string, string[]>,
): Promise<Uint8Array> {
  const out: MemoryWitness = { type: 'mem' }
  await wtns.calculate(inputs, spec.artifacts.wasm, out)
  if (!out.data) throw new Error('snarkjs wrote no witness')
  return out.data
}

/**
 * Witness calculators kept per circuit and reused, where snarkjs reads, compiles and
 * instantiates the circuit's wasm for every witness — for Semaphore depth 20 that setup is
 * most of the witness time (bench/zk.ts prints both). A calculator is one wasm instance, so
 * it computes one witness at a time: the pool holds at most as many per circuit as proofs
 * ran at once. One whose computation threw (a failed assertion leaves the instance
 * mid-run) is dropped, never reused. Same bytes as `computeWitness` (test/zk/native.test.ts).
 */
export function createWitnessCalculators() {
  const idle = new Map<string, WitnessCalculator[]>()
  const wasm = new Map<string, Promise<Uint8Array>>()

  const take = async (spec: CircuitSpec): Promise<WitnessCalculator> => {
    const calculator = idle.get(spec.id)?.pop()
    if (calculator) return calculator
    let code = wasm.get(spec.id)
    if (!code) {
      code = readFile(spec.artifacts.wasm)
      wasm.set(spec.id, code)
      // A missing file is retried on the next call, not remembered.
      code.catch(() => wasm.delete(spec.id))
    }
    const built = await WitnessCalculatorBuilder(await code)
    if (built.circom_version() < 2) {
      throw new Error(`${spec.artifacts.wasm}: circom 1 circuits are not supported (compile with circom 2)`)
    }
    return built
  }

  return {
    async compute(spec: CircuitSpec, inputs: Record<string, string[]>): Promise<Uint8Array> {
      const calculator = await take(spec)
      const witness = await calculator.calculateWTNSBin(inputs)
      const pool = idle.get(spec.id) ?? []
      pool.push(calculator)
      idle.set(spec.id, pool)
      return witness
    },
  }
}
