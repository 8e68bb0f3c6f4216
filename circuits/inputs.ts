import { buildEddsa, buildPoseidon, type EdDSA, type Poseidon } from 'circomlibjs'
import { keccak256, toBeHex } from 'ethers'
import { ATTESTATION_FIELDS, DEFAULT_SEMAPHORE_DEPTH, TREE_DEPTH } from './catalog.ts'

/**
 * Building the inputs of each circuit from what a holder, issuer or erasure service has:
 * the reference for clients, and what tests and the bench use. Inputs are in the prove
 * command's form: signal name → decimal strings.
 */
export type CircuitInputs = Record<string, string[]>

/** The erasure circuit's domain tag: "veridis.erasure.tombstone" as a big-endian integer. */
export const TOMBSTONE_TAG = BigInt(`0x${Buffer.from('veridis.erasure.tombstone').toString('hex')}`)

export interface Hashers {
  readonly poseidon: (inputs: readonly bigint[]) => bigint
  readonly eddsa: EdDSA
}

let hashers: Promise<Hashers> | undefined

export function loadHashers(): Promise<Hashers> {
  hashers ??= (async () => {
    const poseidon: Poseidon = await buildPoseidon()
    const eddsa = await buildEddsa()
    return { poseidon: (inputs) => poseidon.F.toObject(poseidon(inputs)), eddsa }
  })()
  return hashers
}

const strings = (values: readonly bigint[]) => values.map((value) => value.toString())

/** Semaphore's hash of a message or scope: keccak256 of its 32 bytes, shifted into the field. */
export function semaphoreHash(value: bigint): bigint {
  return BigInt(keccak256(toBeHex(value, 32))) >> 8n
}

/** Root of a fixed-depth Poseidon tree from a leaf and its path, as circuits/src/merkle.circom computes it. */
export function merkleRoot(
  poseidon: Hashers['poseidon'],
  leaf: bigint,
  siblings: readonly bigint[],
  pathIndices: readonly number[],
): bigint {
  let node = leaf
  siblings.forEach((sibling, level) => {
    node = pathIndices[level] ? poseidon([sibling, node]) : poseidon([node, sibling])
  })
  return node
}

/** A leaf position as path bits, lowest level first. */
export function pathBits(index: number, depth = TREE_DEPTH): number[] {
  return Array.from({ length: depth }, (_, level) => Math.floor(index / 2 ** level) % 2)
}

export interface SemaphoreInputOptions {
  readonly secret: bigint
  readonly merkleProof: { readonly index: number; readonly siblings: readonly bigint[] }
  readonly message: bigint
  readonly scope: bigint
  readonly depth?: number
}

/** The Semaphore v4 circuit's inputs, as @semaphore-protocol/proof builds them. */
export function semaphoreInputs(options: SemaphoreInputOptions): CircuitInputs {
  const depth = options.depth ?? DEFAULT_SEMAPHORE_DEPTH
  const siblings = [...options.merkleProof.siblings]
  while (siblings.length < depth) siblings.push(0n)
  return {
    secret: [options.secret.toString()],
    merkleProofLength: [String(options.merkleProof.siblings.length)],
    merkleProofIndex: [String(options.merkleProof.index)],
    merkleProofSiblings: strings(siblings),
    message: [semaphoreHash(options.message).toString()],
    scope: [semaphoreHash(options.scope).toString()],
  }
}

export interface Credential {
  readonly holderSecret: bigint
  readonly fields: readonly bigint[]
}

export interface SignedCredential extends Credential {
  readonly issuerPublicKey: readonly [bigint, bigint]
  readonly signature: { readonly R8: readonly [bigint, bigint]; readonly S: bigint }
  readonly leaf: bigint
}

/** The credential hash Poseidon(Poseidon(holderSecret), fields...) the issuer signs and puts in its tree. */
export function credentialLeaf(poseidon: Hashers['poseidon'], credential: Credential): bigint {
  if (credential.fields.length !== ATTESTATION_FIELDS) {
    throw new RangeError(`a credential has ${ATTESTATION_FIELDS} fields, got ${credential.fields.length}`)
  }
  return poseidon([poseidon([credential.holderSecret]), ...credential.fields])
}

/** Issuer side: sign a credential with EdDSA-Poseidon on BabyJubJub. */
export function signCredential(
  { poseidon, eddsa }: Hashers,
  issuerPrivateKey: Uint8Array,
  credential: Credential,
): SignedCredential {
  const leaf = credentialLeaf(poseidon, credential)
  const F = eddsa.F
  const signature = eddsa.signPoseidon(issuerPrivateKey, F.e(leaf))
  const publicKey = eddsa.prv2pub(issuerPrivateKey)
  return {
    ...credential,
    leaf,
    issuerPublicKey: [F.toObject(publicKey[0]), F.toObject(publicKey[1])],
    signature: { R8: [F.toObject(signature.R8[0]), F.toObject(signature.R8[1])], S: signature.S },
  }
}

export interface DisclosureOptions {
  readonly credential: SignedCredential
  readonly siblings: readonly bigint[]
  readonly pathIndices: readonly number[]
  /** Bit i set: field i is disclosed. */
  readonly discloseMask: number
  readonly applicationId: bigint
  readonly scope: bigint
  readonly message: bigint
}

export function disclosureInputs(options: DisclosureOptions): CircuitInputs {
  const { credential } = options
  return {
    holderSecret: [credential.holderSecret.toString()],
    fields: strings(credential.fields),
    signatureR8: strings(credential.signature.R8),
    signatureS: [credential.signature.S.toString()],
    siblings: strings(options.siblings),
    pathIndices: options.pathIndices.map(String),
    issuerPublicKey: strings(credential.issuerPublicKey),
    discloseMask: [String(options.discloseMask)],
    applicationId: [options.applicationId.toString()],
    scope: [options.scope.toString()],
    message: [options.message.toString()],
  }
}

/** What the disclosure circuit outputs for these inputs: root, nullifier, disclosed fields. */
export function expectedDisclosure(poseidon: Hashers['poseidon'], options: DisclosureOptions) {
  const { credential } = options
  return {
    attestationRoot: merkleRoot(poseidon, credential.leaf, options.siblings, options.pathIndices),
    nullifier: poseidon([credential.holderSecret, options.applicationId, options.scope]),
    disclosed: credential.fields.map((field, index) => ((options.discloseMask >> index) & 1 ? field : 0n)),
  }
}

export interface ErasureOptions {
  readonly subjectHash: bigint
  readonly dataKey: bigint
  readonly siblings: readonly bigint[]
  readonly pathIndices: readonly number[]
}

/** The erasure proof's inputs, with the old and new roots computed from the shared path. */
export function erasureInputs(poseidon: Hashers['poseidon'], options: ErasureOptions) {
  const commitment = poseidon([options.subjectHash, options.dataKey])
  const tombstone = poseidon([TOMBSTONE_TAG, options.subjectHash])
  const oldRoot = merkleRoot(poseidon, commitment, options.siblings, options.pathIndices)
  const newRoot = merkleRoot(poseidon, tombstone, options.siblings, options.pathIndices)
  const inputs: CircuitInputs = {
    dataKey: [options.dataKey.toString()],
    siblings: strings(options.siblings),
    pathIndices: options.pathIndices.map(String),
    subjectHash: [options.subjectHash.toString()],
    oldRoot: [oldRoot.toString()],
    newRoot: [newRoot.toString()],
  }
  return { inputs, oldRoot, newRoot }
}
