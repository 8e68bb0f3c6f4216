import { AbiCoder, getBytes, id, keccak256, MessagePrefix, ParamType, Signature } from 'ethers'
import { recover as recoverPublicKeyWasm } from 'tiny-secp256k1'
import { checksumAddress } from '../../../../core/bridge/addresses.ts'
import { type EvmNativeAddon, evmNative } from '../native.ts'
import { encodeStaticWords } from './canonical-abi.ts'

/**
 * What a `BridgeGateway` (contracts/evm/src/BridgeGateway.sol) has guardians sign for a release,
 * and who signed it: the bridge guard's signature-forgery detection
 * (consumers/bridge-guard/detections/signatures.ts) and the gateway's attestation check
 * (`POST /api/v1/security/attestations/process`) both answer from here, so the two cannot
 * disagree about a signature.
 *
 * The digest is the contract's `releaseDigest`: keccak256(abi.encode(RELEASE_TYPEHASH, chain id,
 * gateway, message id, mode, token, recipient, amount)), domain-separated by the destination
 * chain and gateway; guardians sign it with the EIP-191 personal-message prefix.
 */
const RELEASE_TYPEHASH = id('veridis.bridge.Release.v1')
export const RELEASE_MODES = { MINT: 0, UNLOCK: 1 } as const
const coder = AbiCoder.defaultAbiCoder()
// Parsed once: given as strings, ethers parses every type again on every call.
const paramTypes = (...types: string[]) => types.map((type) => ParamType.from(type))
const DIGEST_TYPES = paramTypes(
  'bytes32',
  'uint256',
  'address',
  'bytes32',
  'uint8',
  'address',
  'address',
  'uint256',
)
const MESSAGE_ID_TYPES = paramTypes('uint256', 'address', 'uint256')

/** The fields of one release the digest covers; `chain` is the destination (CAIP-2 eip155). */
export interface ReleaseFields {
  readonly chain: string
  readonly gateway: string
  readonly messageId: string
  readonly mode: keyof typeof RELEASE_MODES
  readonly token: string
  readonly recipient: string
  readonly amount: bigint
}

/** What guardians sign for this release (EIP-191 over the gateway's release digest). */
export function signedDigest(fields: ReleaseFields): string {
  const chainId = BigInt(fields.chain.split(':')[1]!)
  const mode = RELEASE_MODES[fields.mode]
  // Word by word when every value is one ethers would take as it is (canonical-abi.ts).
  const preimage =
    encodeStaticWords([
      ['bytes32', RELEASE_TYPEHASH],
      ['uint', chainId, 256],
      ['address', fields.gateway],
      ['bytes32', fields.messageId],
      ['uint', BigInt(mode), 8],
      ['address', fields.token],
      ['address', fields.recipient],
      ['uint', fields.amount, 256],
    ]) ??
    coder.encode(DIGEST_TYPES, [
      RELEASE_TYPEHASH,
      chainId,
      fields.gateway,
      fields.messageId,
      mode,
      fields.token,
      fields.recipient,
      fields.amount,
    ])
  return keccak256(Buffer.concat([PERSONAL_PREFIX_32, bytesOf(keccak256(bytesOf(preimage)))]))
}

/**
 * ethers' `hashMessage` for a 32-byte message: keccak256 of "\x19Ethereum Signed Message:\n32"
 * and the message. `hashMessage` and `keccak256` given hex parse it a character pair at a time
 * (and `concat` makes hex again in between); a sixth of the guard's CPU went there.
 */
const PERSONAL_PREFIX_32 = Buffer.from(`${MessagePrefix}32`, 'utf8')
const HEX = /^0x(?:[0-9a-fA-F]{2})*$/
/** getBytes for well-formed hex by Buffer's native parser; anything else to getBytes (which throws). */
const bytesOf = (hex: string): Uint8Array =>
  HEX.test(hex) ? Buffer.from(hex.slice(2), 'hex') : getBytes(hex)

/** The contract's `messageIdOf`: the same id on both chains, so a lock and its release meet. */
export const messageIdOf = (sourceChainId: bigint, sourceGateway: string, nonce: bigint) =>
  keccak256(
    bytesOf(
      encodeStaticWords([
        ['uint', sourceChainId, 256],
        ['address', sourceGateway],
        ['uint', nonce, 256],
      ]) ?? coder.encode(MESSAGE_ID_TYPES, [sourceChainId, sourceGateway, nonce]),
    ),
  ).toLowerCase()

/** One signature's signer, or why it has none. */
export type Recovered = { readonly signer: string } | { readonly problem: string }
/** The curve work of one recovery: the signer's address from a digest, r ‖ s and y parity. */
type RecoverSigner = (digest: Uint8Array, compact: Uint8Array, yParity: 0 | 1) => Recovered

// Checksummed through the guard's remembered checksums: the same few guardians sign everything.
const addressOf = (publicKey: Uint8Array) => checksumAddress(`0x${keccak256(publicKey).slice(-40)}`)

/** tiny-secp256k1: Bitcoin Core's libsecp256k1 compiled to WebAssembly. */
const wasmRecovery: RecoverSigner = (digest, compact, yParity) => {
  try {
    const publicKey = recoverPublicKeyWasm(digest, compact, yParity, false)
    if (!publicKey) return { problem: 'does not recover (no curve point for this signature)' }
    return { signer: addressOf(publicKey.subarray(1)) }
  } catch (error) {
    return { problem: `does not recover (${(error as Error).message.split(' (')[0]})` }
  }
}

const NATIVE_REFUSALS = [
  undefined,
  'recovery id out of range',
  'r or s is not below the curve order',
  'no curve point for this signature',
]

/** One answer of the addon (a status byte and 64 bytes of key) as a signer or a problem. */
function nativeOutcome(answer: Buffer, at: number): Recovered {
  const status = answer[at]!
  if (status !== 0) return { problem: `does not recover (${NATIVE_REFUSALS[status] ?? `status ${status}`})` }
  return { signer: addressOf(answer.subarray(at + 1, at + 65)) }
}

/** r ‖ s ‖ recovery id, as the addon takes a signature. */
function nativeSignature(compact: Uint8Array, yParity: 0 | 1): Uint8Array {
  const signature = new Uint8Array(65)
  signature.set(compact)
  signature[64] = yParity
  return signature
}

/** The same library compiled natively (producers/chains/evm/native): about four times faster. */
const nativeRecovery =
  (addon: EvmNativeAddon): RecoverSigner =>
  (digest, compact, yParity) =>
    nativeOutcome(addon.recoverPublicKeys(digest, nativeSignature(compact, yParity)), 0)

/** Both ways of recovering, for the tests that hold each equal to ethers. */
export const signerRecoveries = {
  wasm: wasmRecovery,
  native: (): RecoverSigner => {
    const backend = signatureRecovery()
    if (!backend.addon) throw new Error(`the native secp256k1 addon is not in use: ${backend.backend}`)
    return backend.recover
  },
}

type Backend = {
  readonly recover: RecoverSigner
  readonly addon: EvmNativeAddon | undefined
  readonly backend: string
}
let chosen: Backend | undefined
/**
 * The recovery this process uses, chosen on first use: the native addon when this checkout's
 * build of it is on the machine (`veridis up` and the tests build it), the WebAssembly build
 * otherwise. Both answer the same (release-signatures.test.ts); `backend` says which, for the
 * guard's start-up log.
 */
export function signatureRecovery(): Backend {
  if (chosen) return chosen
  const loaded = evmNative.load()
  chosen = loaded.addon
    ? {
        recover: nativeRecovery(loaded.addon),
        addon: loaded.addon,
        backend: `libsecp256k1, native (${loaded.path})`,
      }
    : {
        recover: wasmRecovery,
        addon: undefined,
        backend: `libsecp256k1, WebAssembly (native addon ${loaded.reason})`,
      }
  return chosen
}

/** The digest's bytes, r ‖ s and y parity of one well-formed signature. */
type Parsed = { readonly digest: Uint8Array; readonly compact: Uint8Array; readonly yParity: 0 | 1 }

/**
 * A signature made ready for the curve, or why it cannot be: `recover` below answers as
 * ethers' `recoverAddress`, with the curve work done by libsecp256k1 instead of ethers'
 * pure-JavaScript curve. The bridge guard recovers every signature of every release, and the
 * JavaScript recovery was half of its CPU (docs/benchmarks.md, "Bridge guard"). The signature
 * is parsed by ethers' own `Signature.from`, so what is accepted (v as 27/28 or 0/1, s below
 * 2^255) and the reasons for refusing stay ethers'; release-signatures.test.ts holds both
 * recoveries equal to ethers on valid, tampered, wrong-v and out-of-range signatures.
 */
function parse(signed: string, signature: string): Parsed | { readonly problem: string } {
  const bytes = (signature.length - 2) / 2
  if (bytes !== 65) return { problem: `${bytes} bytes, not a 65-byte ECDSA signature` }
  try {
    const digest = bytesOf(signed)
    if (digest.length !== 32) return { problem: `does not recover (a ${digest.length}-byte digest, not 32)` }
    const parsed = Signature.from(signature)
    // `s` refuses a value with its top bit set: ethers' line, so also the guard's.
    return { digest, compact: bytesOf(`${parsed.r}${parsed.s.slice(2)}`), yParity: parsed.yParity }
  } catch (error) {
    return { problem: `does not recover (${(error as Error).message.split(' (')[0]})` }
  }
}

/** The signer of one signature, or why there is none. */
function recover(signed: string, signature: string, recoverSigner: RecoverSigner): Recovered {
  const parsed = parse(signed, signature)
  return 'problem' in parsed ? parsed : recoverSigner(parsed.digest, parsed.compact, parsed.yParity)
}

/**
 * The signers of many releases' signatures (`signed` is each release's digest), in order. With
 * the native addon the curve work runs in one batch on a thread of libuv's pool, so the bridge
 * guard recovers a chunk's signatures while its event loop goes on with the chain questions;
 * without it, here and now in WebAssembly. The outcomes are recoverGuardianSignatures's own.
 */
export async function recoverSignersOfMany(
  releases: readonly { readonly signed: string; readonly signatures: readonly string[] }[],
  backend: Backend = signatureRecovery(),
): Promise<Recovered[][]> {
  const parsed = releases.map(({ signed, signatures }) =>
    signatures.map((signature) => parse(signed, signature)),
  )
  const { addon } = backend
  if (!addon) {
    return parsed.map((signatures) =>
      signatures.map((one) =>
        'problem' in one ? one : backend.recover(one.digest, one.compact, one.yParity),
      ),
    )
  }
  const curve = parsed.flat().filter((one): one is Parsed => !('problem' in one))
  const digests = Buffer.allocUnsafe(curve.length * 32)
  const signatures = Buffer.allocUnsafe(curve.length * 65)
  curve.forEach((one, i) => {
    digests.set(one.digest, i * 32)
    signatures.set(nativeSignature(one.compact, one.yParity), i * 65)
  })
  const answers = curve.length > 0 ? await addon.recoverPublicKeysBatch(digests, signatures) : Buffer.alloc(0)
  let next = 0
  return parsed.map((ones) =>
    ones.map((one) => ('problem' in one ? one : nativeOutcome(answers, 65 * next++))),
  )
}

/**
 * Recovers every signature over `signed` and sorts them: valid (a member of `guardians`, first
 * time seen), or a problem naming the signature's index — malformed, recovering to someone
 * outside the set (a forged key, or a signature over a different message), or a repeat.
 * `setLabel` says which set was checked ("at block 123", "at the latest block").
 */
export function recoverGuardianSignatures(options: {
  readonly signed: string
  readonly signatures: readonly string[]
  readonly guardians: readonly string[]
  readonly setLabel: string
  /** Which recovery to use; the process's own by default (signatureRecovery). */
  readonly recoverSigner?: RecoverSigner
  /** The signatures' outcomes already recovered (recoverSignersOfMany), in their order. */
  readonly recovered?: readonly Recovered[]
}): { readonly validSigners: string[]; readonly signedBy: ReadonlySet<string>; readonly problems: string[] } {
  const set = new Set(options.guardians.map((guardian) => guardian.toLowerCase()))
  const problems: string[] = []
  const validSigners: string[] = []
  const seen = new Set<string>()
  const recoverSigner = options.recoverSigner ?? signatureRecovery().recover
  options.signatures.forEach((signature, index) => {
    const outcome = options.recovered?.[index] ?? recover(options.signed, signature, recoverSigner)
    if ('problem' in outcome) {
      problems.push(`signature #${index} ${outcome.problem}`)
      return
    }
    const signer = outcome.signer.toLowerCase()
    if (!set.has(signer)) {
      problems.push(
        `signature #${index} recovers to ${outcome.signer}, not a guardian ${options.setLabel} (forged, or signed over a different message)`,
      )
    } else if (seen.has(signer)) {
      problems.push(`signature #${index} repeats guardian ${outcome.signer}`)
    } else {
      seen.add(signer)
      validSigners.push(outcome.signer)
    }
  })
  return { validSigners, signedBy: seen, problems }
}
