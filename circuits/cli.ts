import * as snarkjs from 'snarkjs'
import { OWN_CIRCUITS } from './catalog.ts'
import { compileCircuit } from './ceremony.ts'
import { terminateCurves } from './curve.ts'

/** `veridis circuits build`: compile every circuit and print its size, to pick the ptau power. */
export async function buildCircuits(log: (line: string) => void): Promise<void> {
  try {
    for (const spec of OWN_CIRCUITS) {
      const { r1cs } = await compileCircuit(spec, log)
      const info = await snarkjs.r1cs.info(r1cs)
      const power = Math.ceil(Math.log2(info.nConstraints + info.nPubInputs + info.nOutputs + 1))
      log(
        `${spec.id}: ${info.nConstraints} constraints, ${info.nPubInputs + info.nOutputs} public signals, needs ptau power ≥ ${power}`,
      )
    }
  } finally {
    await terminateCurves()
  }
}
