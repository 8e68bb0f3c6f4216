import type { BridgeConfig } from '../../../core/bridge/config.ts'
import type { BridgeFact } from '../facts.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './finding.ts'
import type { SourceVerdict } from './source-confirmation.ts'

/**
 * Invariant: every mint or unlock matches a lock or burn on its source chain — same message
 * id, amount, token (as the bridge maps it), recipient and chains — on the bridge's own
 * source gateway. A release whose source lock is still in flight to the guard (the source
 * listener lags) is backed if the source chain's endpoints confirm it; a release whose lock
 * later leaves the canonical chain becomes unbacked then (../guard.ts re-judges it).
 *
 * Wormhole 2022, Ronin 2022, Harmony 2022, Nomad 2022, BNB Bridge 2022, Poly Network 2023,
 * Orbit 2023: value released with nothing locked at the source.
 */
type ReleaseFact = Extract<BridgeFact, { type: 'release' }>

export function releaseWithoutSource(options: {
  readonly bridge: BridgeConfig
  readonly fact: ReleaseFact
  readonly verdict: SourceVerdict | undefined
  /** The source gateway the release transaction named, when its calldata could be read. */
  readonly claimedSourceGateway: string | undefined
}): Finding[] {
  const { bridge, fact, verdict, claimedSourceGateway } = options
  const { release } = fact
  const expectedGateway = bridge.gateways[release.sourceChain]
  const raise = (key: string, summary: string, details: Record<string, string> = {}): Finding[] => [
    {
      detection: 'release-without-source',
      kind: 'MINT_WITHOUT_LOCK',
      severity: 'CRITICAL',
      scope: `${bridge.id}:${fact.envelope.chain}:${lower(fact.gateway)}`,
      key,
      subject: subjectOf(fact.envelope),
      summary,
      evidence: [evidenceOf(fact.envelope, 'release')],
      details: {
        messageId: fact.messageId,
        mode: release.mode,
        token: release.token,
        amount: fact.amount.toString(),
        recipient: release.recipient,
        sourceChain: release.sourceChain,
        destinationChain: fact.envelope.chain,
        ...details,
      },
      chains: [release.sourceChain, fact.envelope.chain],
    },
  ]
  const what = `${release.mode.toLowerCase()} of ${fact.amount} ${release.token} to ${release.recipient} on ${fact.envelope.chain}`
  if (!expectedGateway) {
    return raise(
      'unknown-source-chain',
      `${what} names source chain ${release.sourceChain}, where bridge ${bridge.id} has no gateway`,
    )
  }
  if (claimedSourceGateway && lower(claimedSourceGateway) !== lower(expectedGateway)) {
    return raise(
      'foreign-source-gateway',
      `${what} claims source gateway ${claimedSourceGateway}, not the bridge's ${expectedGateway} on ${release.sourceChain}`,
      { claimedSourceGateway, expectedSourceGateway: expectedGateway },
    )
  }
  if (!verdict) return []
  if (verdict.verdict === 'absent')
    return raise('absent', `${what} with no lock at the source: ${verdict.reason}`)
  if (verdict.verdict === 'mismatch') {
    return raise('mismatch', `${what} does not match its source lock: ${verdict.reason}`, {
      sourceLockTx: verdict.lock?.txHash ?? '',
      sourceLockAmount: verdict.lock?.amount.toString() ?? '',
    })
  }
  return []
}

/** A lock that left the canonical chain after its message was released: the release is unbacked now. */
export function releaseOrphaned(options: {
  readonly bridge: BridgeConfig
  readonly release: {
    readonly eventId: string
    readonly chain: string
    readonly gateway: string
    readonly txHash: string
    readonly blockNumber: number
    readonly messageId: string
    readonly amount: string
    readonly token: string
  }
  readonly lock: {
    readonly eventId: string
    readonly chain: string
    readonly txHash: string
    readonly blockNumber: number
  }
}): Finding {
  const { bridge, release, lock } = options
  return {
    detection: 'release-without-source',
    kind: 'MINT_WITHOUT_LOCK',
    severity: 'CRITICAL',
    scope: `${bridge.id}:${release.chain}:${lower(release.gateway)}`,
    key: `orphaned:${lock.eventId}`,
    subject: { eventId: release.eventId, chain: release.chain },
    summary: `the source lock of message ${release.messageId} (tx ${lock.txHash} on ${lock.chain}) left the canonical chain after ${release.amount} ${release.token} was released on ${release.chain}`,
    evidence: [
      {
        eventId: release.eventId,
        chain: release.chain,
        txHash: release.txHash,
        blockNumber: release.blockNumber,
        role: 'release',
      },
      {
        eventId: lock.eventId,
        chain: lock.chain,
        txHash: lock.txHash,
        blockNumber: lock.blockNumber,
        role: 'retracted source lock',
      },
    ],
    details: { messageId: release.messageId, amount: release.amount, token: release.token },
    chains: [lock.chain, release.chain],
  }
}
