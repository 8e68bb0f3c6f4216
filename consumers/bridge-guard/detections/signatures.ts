import type { BridgeConfig } from '../../../core/bridge/config.ts'
import {
  messageIdOf,
  type Recovered,
  recoverGuardianSignatures,
  signedDigest,
} from '../../../producers/chains/evm/bridge/release-signatures.ts'
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
/** The release() call as sent, decoded from the transaction's input. */
export interface ReleaseCall {
  readonly sourceChainId: bigint
  readonly sourceGateway: string
  readonly nonce: bigint
  readonly signatures: readonly string[]
}

type ReleaseFact = Extract<BridgeFact, { type: 'release' }>

/** What guardians sign for this release (the digest lives with the chain code, shared with the gateway). */
export const signedDigestOf = (fact: ReleaseFact): string =>
  signedDigest({
    chain: fact.envelope.chain,
    gateway: fact.gateway,
    messageId: fact.messageId,
    mode: fact.release.mode,
    token: fact.release.token,
    recipient: fact.release.recipient,
    amount: fact.amount,
  })

export function checkSignatures(options: {
  readonly bridge: BridgeConfig
  readonly fact: ReleaseFact
  readonly call: ReleaseCall
  readonly guardians: readonly string[]
  readonly threshold: number
  /** The call's signatures already recovered over `signed`, this release's digest (evidence.ts). */
  readonly recovered?: { readonly signed: string; readonly outcomes: readonly Recovered[] }
}): { readonly findings: Finding[]; readonly validSigners: string[] } {
  const { bridge, fact, call, guardians, threshold, recovered } = options
  const {
    validSigners: valid,
    signedBy: seen,
    problems,
  } = recoverGuardianSignatures({
    signed: recovered?.signed ?? signedDigestOf(fact),
    signatures: call.signatures,
    guardians,
    setLabel: `at block ${fact.envelope.blockNumber}`,
    recovered: recovered?.outcomes,
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
