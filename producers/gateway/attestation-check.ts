import type { GuardConfig } from '../../core/bridge/config.ts'
import type { Pool } from '../../core/db/pool.ts'
import type { ChainReader } from '../chains/evm/bridge/chain-reader.ts'
import {
  messageIdOf,
  recoverGuardianSignatures,
  signedDigest,
} from '../chains/evm/bridge/release-signatures.ts'
import { describeRpcError } from '../chains/evm/rpc/client.ts'
import { HttpError } from './errors.ts'

/**
 * A guardian attestation checked as the destination gateway would check it, and as the bridge
 * guard's signature-forgery detection does (the same digest and recovery:
 * producers/chains/evm/bridge/release-signatures.ts): the message id recomputed from the source
 * fields, the digest the gateway signs recomputed from the release fields, every signature
 * recovered, and the signers compared with the guardian set and threshold the gateway holds at
 * the latest block (read from the chain, not from configuration). The verdict is `valid` only
 * with no reason against it; the reasons name the signature, the set or the field.
 */
export interface AttestationInput {
  readonly bridgeId: string
  readonly destinationChain: string
  readonly gateway: string
  readonly release: {
    readonly mode: 'MINT' | 'UNLOCK'
    readonly token: string
    readonly recipient: string
    readonly amount: string
    readonly sourceChain: string
    readonly nonce: string
    readonly messageId?: string
  }
  readonly signatures: readonly string[]
}

const badField = (field: string, message: string) =>
  new HttpError(400, 'invalid_request', `${field}: ${message}`, { field })

const chainIdOf = (chain: string) => BigInt(chain.split(':')[1]!)

export async function checkAttestation(options: {
  readonly input: AttestationInput
  readonly bridges: GuardConfig | undefined
  readonly readers: ReadonlyMap<string, ChainReader>
  readonly pool: Pool
}) {
  const { input, bridges, readers, pool } = options
  const bridge = bridges?.bridges.find((candidate) => candidate.id === input.bridgeId)
  if (!bridge) {
    throw new HttpError(404, 'bridge_not_found', `body.bridgeId: no bridge ${input.bridgeId} is configured`, {
      field: 'body.bridgeId',
    })
  }
  if (bridge.kind !== 'guardian-quorum') {
    throw badField(
      'body.bridgeId',
      `bridge ${bridge.id} is ${bridge.kind}: its releases carry no guardian signatures`,
    )
  }
  const gateway = bridge.gateways[input.destinationChain]
  if (!gateway) throw badField('body.destinationChain', `not a chain of bridge ${bridge.id}`)
  if (gateway.toLowerCase() !== input.gateway.toLowerCase()) {
    throw badField('body.gateway', `not the gateway of bridge ${bridge.id} on ${input.destinationChain}`)
  }
  const { release } = input
  const sourceGateway = bridge.gateways[release.sourceChain]
  if (!sourceGateway || release.sourceChain === input.destinationChain) {
    throw badField('body.release.sourceChain', `not another chain of bridge ${bridge.id}`)
  }
  const reader = readers.get(input.destinationChain)
  if (!reader || !input.destinationChain.startsWith('eip155:')) {
    throw badField('body.destinationChain', 'no EVM endpoint is configured for this chain')
  }
  // Both are canonical decimals below 2^256 (format uint256, checked with the body).
  const amount = BigInt(release.amount)
  const nonce = BigInt(release.nonce)

  const reasons: string[] = []
  const messageId = messageIdOf(chainIdOf(release.sourceChain), sourceGateway, nonce)
  if (release.messageId !== undefined && release.messageId.toLowerCase() !== messageId) {
    reasons.push(
      `message id ${release.messageId} does not follow from source chain ${release.sourceChain}, gateway ${sourceGateway}, nonce ${nonce} (${messageId})`,
    )
  }
  const signed = signedDigest({
    chain: input.destinationChain,
    gateway,
    messageId,
    mode: release.mode,
    token: release.token,
    recipient: release.recipient,
    amount,
  })

  let quorum: { guardians: string[]; threshold: number }
  let blockNumber: number
  try {
    // The block first: the set is then read at that block, so both answers are about one state.
    blockNumber = await reader.blockNumber()
    quorum = await reader.quorumAt(gateway, blockNumber)
  } catch (error) {
    throw new HttpError(
      503,
      'chain_unavailable',
      `${input.destinationChain}: the gateway's guardian set could not be read from any endpoint (${describeRpcError(error)}); retry later`,
      { cause: error, retryAfterSeconds: 1 },
    )
  }
  const recovered = recoverGuardianSignatures({
    signed,
    signatures: input.signatures,
    guardians: quorum.guardians,
    setLabel: `of ${input.destinationChain} at block ${blockNumber}`,
  })
  reasons.push(...recovered.problems)
  if (recovered.validSigners.length < quorum.threshold) {
    reasons.push(
      `${recovered.validSigners.length} valid guardian signature(s), threshold ${quorum.threshold}`,
    )
  }
  if (quorum.threshold < bridge.minThreshold) {
    reasons.push(
      `the gateway's threshold ${quorum.threshold} is below bridge ${bridge.id}'s minimum ${bridge.minThreshold}: a quorum that low proves nothing`,
    )
  }

  const { rows } = await pool.query<{ locks: number; releases: number }>(
    `SELECT (SELECT count(*) FROM bridge_locks WHERE message_id = $1) AS locks,
            (SELECT count(*) FROM bridge_releases WHERE message_id = $1) AS releases`,
    [messageId],
  )
  const known = rows[0]!
  return {
    verdict: reasons.length === 0 ? ('valid' as const) : ('invalid' as const),
    reasons,
    bridgeId: bridge.id,
    destinationChain: input.destinationChain,
    gateway,
    messageId,
    signedDigest: signed,
    guardianSet: { guardians: quorum.guardians, threshold: quorum.threshold, blockNumber },
    validSigners: recovered.validSigners,
    signatures: input.signatures.length,
    // What the guard has seen of this message: a valid attestation for a message with no known
    // source lock is what release-without-source looks for; one already released cannot be again.
    message: { sourceLockSeen: known.locks > 0, releasesSeen: known.releases },
    checkedAt: new Date().toISOString(),
  }
}
