import { AbiCoder, getAddress, getBytes, hashMessage, id, keccak256, ParamType, Signature } from 'ethers'
import { recover as recoverPublicKey } from 'tiny-secp256k1'

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
  const digest = keccak256(
    coder.encode(DIGEST_TYPES, [
      RELEASE_TYPEHASH,
      chainId,
      fields.gateway,
      fields.messageId,
      RELEASE_MODES[fields.mode],
      fields.token,
      fields.recipient,
      fields.amount,
    ]),
  )
  return hashMessage(getBytes(digest))
}

/** The contract's `messageIdOf`: the same id on both chains, so a lock and its release meet. */
export const messageIdOf = (sourceChainId: bigint, sourceGateway: string, nonce: bigint) =>
  keccak256(coder.encode(MESSAGE_ID_TYPES, [sourceChainId, sourceGateway, nonce])).toLowerCase()

/**
 * The signer of one signature, or why there is none: ethers' `recoverAddress`, with the curve
 * work done by libsecp256k1 (tiny-secp256k1's WebAssembly build of Bitcoin Core's library)
 * instead of ethers' pure-JavaScript curve. The bridge guard recovers every signature of every
 * release, and the JavaScript recovery was half of its CPU (docs/benchmarks.md, "Bridge guard").
 * The signature is parsed by ethers' own `Signature.from`, so what is accepted (v as 27/28 or
 * 0/1, s below 2^255) and the reasons for refusing stay ethers'; release-signatures.test.ts holds
 * the two recoveries equal on valid, tampered, wrong-v and out-of-range signatures.
 */
function recover(signed: string, signature: string): { signer: string } | { problem: string } {
  const bytes = (signature.length - 2) / 2
  if (bytes !== 65) return { problem: `${bytes} bytes, not a 65-byte ECDSA signature` }
  try {
    const parsed = Signature.from(signature)
    const compact = getBytes(`${parsed.r}${parsed.s.slice(2)}`)
    const publicKey = recoverPublicKey(getBytes(signed), compact, parsed.yParity, false)
    if (!publicKey) return { problem: 'does not recover (no curve point for this signature)' }
    return { signer: getAddress(`0x${keccak256(publicKey.subarray(1)).slice(-40)}`) }
  } catch (error) {
    return { problem: `does not recover (${(error as Error).message.split(' (')[0]})` }
  }
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
}): { readonly validSigners: string[]; readonly signedBy: ReadonlySet<string>; readonly problems: string[] } {
  const set = new Set(options.guardians.map((guardian) => guardian.toLowerCase()))
  const problems: string[] = []
  const validSigners: string[] = []
  const seen = new Set<string>()
  options.signatures.forEach((signature, index) => {
    const outcome = recover(options.signed, signature)
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
