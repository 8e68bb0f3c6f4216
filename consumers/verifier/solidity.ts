import type { Groth16Proof } from '../../circuits/points.ts'

/**
 * Arguments of the snarkjs-exported Solidity verifier's
 * `verifyProof(uint[2] pA, uint[2][2] pB, uint[2] pC, uint[n] pubSignals)`. The EVM
 * precompile takes G2 coordinates as (imaginary, real), so each pair of piB is swapped,
 * as snarkjs's exportSolidityCallData does.
 */
export function solidityVerifierArgs(proof: Groth16Proof, publicSignals: readonly string[]) {
  const pair = (values: readonly string[]) => [BigInt(values[0]!), BigInt(values[1]!)] as const
  return [
    pair(proof.piA),
    [pair([proof.piB[0]![1]!, proof.piB[0]![0]!]), pair([proof.piB[1]![1]!, proof.piB[1]![0]!])],
    pair(proof.piC),
    publicSignals.map((signal) => BigInt(signal)),
  ] as const
}
