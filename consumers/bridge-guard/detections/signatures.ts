import { AbiCoder, getBytes, hashMessage, id, keccak256, recoverAddress } from 'ethers'
import type { BridgeConfig } from '../config.ts'
import type { BridgeFact } from '../facts.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './finding.ts'

/**
 * Invariant: every release of a guardian-quorum bridge carries, in its own calldata, at least
 * `threshold` signatures by distinct members of the guardian set in force at that block, each
 * over the exact digest the gateway signs for that release (domain-separated by chain, gateway
 * and message). The gateway's own BridgeReleased event is not trusted for this: a gateway whose
 * verification was bypassed reports whatever signers it was told (Wormhole 2022).
 *
 * Findings: a signature that is malformed or recovers to someone outside the set (a forged key,
 * or a signature over a different message), the same guardian twice, fewer valid signatures
 * than the threshold, a message id that does not follow from the source fields, and signers
 * in the event that did not sign.
 */
const RELEASE_TYPEHASH = id('veridis.bridge.Release.v1')
const RELEASE_MODES = { MINT: 0, UNLOCK: 1 } as const
const coder = AbiCoder.defaultAbiCoder()

/** The release() call as sent, decoded from the transaction's input. */
export interface ReleaseCall {
  readonly sourceChainId: bigint
  readonly sourceGateway: string
  readonly nonce: bigint
  readonly signatures: readonly string[]
}

type ReleaseFact = Extract<BridgeFact, { type: 'release' }>

/** What guardians sign for this release (EIP-191 over the gateway's release digest). */
export function signedDigest(fact: ReleaseFact): string {
  const chainId = BigInt(fact.envelope.chain.split(':')[1]!)
  const digest = keccak256(
    coder.encode(
      ['bytes32', 'uint256', 'address', 'bytes32', 'uint8', 'address', 'address', 'uint256'],
      [
        RELEASE_TYPEHASH,
        chainId,
        fact.gateway,
        fact.messageId,
        RELEASE_MODES[fact.release.mode],
        fact.release.token,
        fact.release.recipient,
        fact.amount,
      ],
    ),
  )
  return hashMessage(getBytes(digest))
}

export const messageIdOf = (sourceChainId: bigint, sourceGateway: string, nonce: bigint) =>
  keccak256(
    coder.encode(['uint256', 'address', 'uint256'], [sourceChainId, sourceGateway, nonce]),
  ).toLowerCase()

/** The signer of one signature, or why there is none. */
function recover(signed: string, signature: string): { signer: string } | { problem: string } {
  const bytes = (signature.length - 2) / 2
  if (bytes !== 65) return { problem: `${bytes} bytes, not a 65-byte ECDSA signature` }
  try {
    return { signer: recoverAddress(signed, signature) }
  } catch (error) {
    return { problem: `does not recover (${(error as Error).message.split(' (')[0]})` }
  }
}

export function checkSignatures(options: {
  readonly bridge: BridgeConfig
  readonly fact: ReleaseFact
  readonly call: ReleaseCall
  readonly guardians: readonly string[]
  readonly threshold: number
}): { readonly findings: Finding[]; readonly validSigners: string[] } {
  const { bridge, fact, call, guardians, threshold } = options
  const set = new Set(guardians.map(lower))
  const signed = signedDigest(fact)
  const problems: string[] = []
  const valid: string[] = []
  const seen = new Set<string>()
  call.signatures.forEach((signature, index) => {
    const outcome = recover(signed, signature)
    if ('problem' in outcome) {
      problems.push(`signature #${index} ${outcome.problem}`)
      return
    }
    const signer = lower(outcome.signer)
    if (!set.has(signer)) {
      problems.push(
        `signature #${index} recovers to ${outcome.signer}, not a guardian at block ${fact.envelope.blockNumber} (forged, or signed over a different message)`,
      )
    } else if (seen.has(signer)) {
      problems.push(`signature #${index} repeats guardian ${outcome.signer}`)
    } else {
      seen.add(signer)
      valid.push(outcome.signer)
    }
  })
  const recomputed = messageIdOf(call.sourceChainId, call.sourceGateway, call.nonce)
  if (recomputed !== fact.messageId) {
    problems.push(
      `message id ${fact.messageId} does not follow from source chain ${call.sourceChainId}, gateway ${call.sourceGateway}, nonce ${call.nonce} (${recomputed})`,
    )
  }
  if (valid.length < threshold) {
    problems.push(`${valid.length} valid guardian signature(s), threshold ${threshold}`)
  }
  const claimedNotSigned = fact.release.signers.filter((signer) => !seen.has(lower(signer)))
  if (claimedNotSigned.length > 0) {
    problems.push(`the gateway reports signers that did not sign: ${claimedNotSigned.join(', ')}`)
  }
  if (problems.length === 0) return { findings: [], validSigners: valid }
  return {
    validSigners: valid,
    findings: [
      {
        detection: 'signature-forgery',
        kind: 'FORGED_QUORUM',
        severity: 'CRITICAL',
        scope: `${bridge.id}:${fact.envelope.chain}:${lower(fact.gateway)}`,
        key: 'signatures',
        subject: subjectOf(fact.envelope),
        summary: `release of message ${fact.messageId} on ${fact.envelope.chain}: ${problems[0]}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`,
        evidence: [evidenceOf(fact.envelope, 'release')],
        details: {
          messageId: fact.messageId,
          signatures: String(call.signatures.length),
          validSignatures: String(valid.length),
          threshold: String(threshold),
          guardians: guardians.join(','),
          reportedSigners: fact.release.signers.join(','),
          ...Object.fromEntries(problems.map((problem, index) => [`problem${index}`, problem])),
        },
        chains: [fact.envelope.chain],
      },
    ],
  }
}
