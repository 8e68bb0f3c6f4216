import path from 'node:path'
import { PROJECT_ROOT } from '../core/paths.ts'
import type { IoVeridis } from '../schemas/generated/veridis.proof.v1.ts'

export type CircuitName = IoVeridis.Circuit

/** The BN254 scalar field: every signal, input and public signal lives below it. */
export const SNARK_SCALAR_FIELD =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n

export const CIRCUITS_DIR = path.join(PROJECT_ROOT, 'circuits')
export const ARTIFACTS_DIR = path.join(CIRCUITS_DIR, 'artifacts')
export const MANIFEST_PATH = path.join(ARTIFACTS_DIR, 'manifest.json')
export const SOLIDITY_VERIFIERS_DIR = path.join(PROJECT_ROOT, 'contracts', 'evm', 'src', 'verifiers')
const SEMAPHORE_ARTIFACTS_DIR = path.join(PROJECT_ROOT, 'node_modules', '@zk-kit', 'semaphore-artifacts')

export const DEFAULT_SEMAPHORE_DEPTH = 20
export const ATTESTATION_FIELDS = 8
export const TREE_DEPTH = 20

/** Where a circuit's proving and verification artifacts live. */
export interface CircuitArtifacts {
  readonly wasm: string
  readonly zkey: string
  readonly vkey: string
}

/**
 * One provable statement: its inputs by name and length (so a prove command is checked
 * before any witness is computed), the names of its public signals in snarkjs order
 * (outputs first, then public inputs), and where its artifacts are.
 */
export interface CircuitSpec {
  readonly circuit: CircuitName
  /** Stable id used for artifact files, the manifest and cache keys. */
  readonly id: string
  /** Our own circom source under circuits/src, or undefined for Semaphore's. */
  readonly source: string | undefined
  readonly inputs: Readonly<Record<string, number>>
  readonly publicSignals: readonly string[]
  readonly artifacts: CircuitArtifacts
  /** Name of the exported Solidity verifier contract. */
  readonly solidityContract: string
}

const ownArtifacts = (id: string): CircuitArtifacts => ({
  wasm: path.join(ARTIFACTS_DIR, `${id}.wasm`),
  zkey: path.join(ARTIFACTS_DIR, `${id}.zkey`),
  vkey: path.join(ARTIFACTS_DIR, `${id}.vkey.json`),
})

/** Semaphore v4 with the real ceremony artifacts for one tree depth (1–32). */
export function semaphoreSpec(depth = DEFAULT_SEMAPHORE_DEPTH): CircuitSpec {
  if (!Number.isInteger(depth) || depth < 1 || depth > 32) {
    throw new RangeError(`Semaphore tree depth must be a whole number from 1 to 32, got ${depth}`)
  }
  return {
    circuit: 'IDENTITY_MEMBERSHIP',
    id: `semaphore-${depth}`,
    source: undefined,
    inputs: {
      secret: 1,
      merkleProofLength: 1,
      merkleProofIndex: 1,
      merkleProofSiblings: depth,
      message: 1,
      scope: 1,
    },
    publicSignals: ['merkleTreeRoot', 'nullifier', 'message', 'scope'],
    artifacts: {
      wasm: path.join(SEMAPHORE_ARTIFACTS_DIR, `semaphore-${depth}.wasm`),
      zkey: path.join(SEMAPHORE_ARTIFACTS_DIR, `semaphore-${depth}.zkey`),
      vkey: path.join(SEMAPHORE_ARTIFACTS_DIR, `semaphore-${depth}.json`),
    },
    solidityContract: `SemaphoreDepth${depth}Verifier`,
  }
}

const disclosed = Array.from({ length: ATTESTATION_FIELDS }, (_, index) => `disclosed[${index}]`)

export const ATTESTATION_DISCLOSURE: CircuitSpec = {
  circuit: 'ATTESTATION_DISCLOSURE',
  id: 'attestation_disclosure',
  source: path.join(CIRCUITS_DIR, 'src', 'attestation_disclosure.circom'),
  inputs: {
    holderSecret: 1,
    fields: ATTESTATION_FIELDS,
    signatureR8: 2,
    signatureS: 1,
    siblings: TREE_DEPTH,
    pathIndices: TREE_DEPTH,
    issuerPublicKey: 2,
    discloseMask: 1,
    applicationId: 1,
    scope: 1,
    message: 1,
  },
  publicSignals: [
    'attestationRoot',
    'nullifier',
    ...disclosed,
    'issuerPublicKey[0]',
    'issuerPublicKey[1]',
    'discloseMask',
    'applicationId',
    'scope',
    'message',
  ],
  artifacts: ownArtifacts('attestation_disclosure'),
  solidityContract: 'AttestationDisclosureVerifier',
}

export const ERASURE: CircuitSpec = {
  circuit: 'ERASURE',
  id: 'erasure',
  source: path.join(CIRCUITS_DIR, 'src', 'erasure.circom'),
  inputs: {
    dataKey: 1,
    siblings: TREE_DEPTH,
    pathIndices: TREE_DEPTH,
    subjectHash: 1,
    oldRoot: 1,
    newRoot: 1,
  },
  publicSignals: ['subjectHash', 'oldRoot', 'newRoot'],
  artifacts: ownArtifacts('erasure'),
  solidityContract: 'ErasureVerifier',
}

/** Circuits with a circom source of our own, which the development ceremony sets up. */
export const OWN_CIRCUITS: readonly CircuitSpec[] = [ATTESTATION_DISCLOSURE, ERASURE]

/** The spec the pipeline uses for each circuit of the protocol. */
export function circuitSpecs(semaphoreDepth = DEFAULT_SEMAPHORE_DEPTH): Record<CircuitName, CircuitSpec> {
  return {
    IDENTITY_MEMBERSHIP: semaphoreSpec(semaphoreDepth),
    ATTESTATION_DISCLOSURE,
    ERASURE,
  }
}

/** Index of a named public signal, for root, nullifier and scope checks. */
export function publicSignalIndex(spec: CircuitSpec, name: string): number {
  const index = spec.publicSignals.indexOf(name)
  if (index < 0) throw new RangeError(`circuit ${spec.circuit} has no public signal '${name}'`)
  return index
}
