import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Group } from '@semaphore-protocol/group'
import { Identity } from '@semaphore-protocol/identity'
import {
  ATTESTATION_FIELDS,
  type CircuitSpec,
  SNARK_SCALAR_FIELD,
  TREE_DEPTH,
} from '../../circuits/catalog.ts'
import {
  type DisclosureOptions,
  disclosureInputs,
  erasureInputs,
  type Hashers,
  pathBits,
  semaphoreInputs,
  signCredential,
} from '../../circuits/inputs.ts'
import { loadZkNative, type ZkNativeAddon } from '../../circuits/native.ts'
import type { VerificationKeyJson } from '../../consumers/verifier/batch.ts'

/** Deterministic field elements from a label, so failures are reproducible. */
export function fieldOf(label: string): bigint {
  return BigInt(`0x${createHash('sha256').update(label).digest('hex')}`) % SNARK_SCALAR_FIELD
}

export const siblingsOf = (label: string) =>
  Array.from({ length: TREE_DEPTH }, (_, level) => fieldOf(`${label}/sibling/${level}`))

export const ISSUER_KEY = Buffer.from(
  '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
  'hex',
)

/** A signed credential of 8 fields and the disclosure options around it. */
export function disclosureCase(hashers: Hashers, label: string, overrides: Partial<DisclosureOptions> = {}) {
  const credential = signCredential(hashers, ISSUER_KEY, {
    holderSecret: fieldOf(`${label}/holder`),
    fields: Array.from({ length: ATTESTATION_FIELDS }, (_, index) => fieldOf(`${label}/field/${index}`)),
  })
  const options: DisclosureOptions = {
    credential,
    siblings: siblingsOf(label),
    pathIndices: pathBits(5),
    discloseMask: 0b0000_0101,
    applicationId: fieldOf('app/dating'),
    scope: 42n,
    message: fieldOf(`${label}/message`),
    ...overrides,
  }
  return { options, inputs: disclosureInputs(options) }
}

export function erasureCase(hashers: Hashers, label: string) {
  return erasureInputs(hashers.poseidon, {
    subjectHash: fieldOf(`${label}/subject`),
    dataKey: fieldOf(`${label}/data-key`),
    siblings: siblingsOf(label),
    pathIndices: pathBits(9),
  })
}

/** A Semaphore group of three identities and inputs for member `index`. */
export function semaphoreCase(index: number, message: bigint, scope: bigint, depth = 20) {
  const identities = ['alice', 'bob', 'carol'].map((name) => new Identity(`veridis-test-${name}`))
  const group = new Group(identities.map((identity) => identity.commitment))
  const identity = identities[index]!
  const merkleProof = group.generateMerkleProof(index)
  return {
    identity,
    group,
    inputs: semaphoreInputs({ secret: identity.secretScalar, merkleProof, message, scope, depth }),
  }
}

export const readKey = (spec: CircuitSpec) =>
  JSON.parse(readFileSync(spec.artifacts.vkey, 'utf8')) as VerificationKeyJson

/**
 * The native addon, or a failure naming why it is absent: the tests that need it fail rather
 * than pass or skip when it is not built (test/setup/global.ts builds it for the run).
 */
export function requireZkNative(): ZkNativeAddon {
  const loaded = loadZkNative()
  if (!loaded.addon) throw new Error(`the native Groth16 addon is required here: ${loaded.reason}`)
  return loaded.addon
}
