import { getBytes, Wallet } from 'ethers'
import { describe, expect, test } from 'vitest'
import { type BridgeConfig, parseGuardConfig } from '../../../core/bridge/config.ts'
import type { SourceLock } from '../../../producers/chains/evm/bridge/chain-reader.ts'
import { signedDigest } from '../../../producers/chains/evm/bridge/release-signatures.ts'
import {
  A,
  B,
  envelope,
  GATEWAY_A,
  GATEWAY_B,
  lockFact,
  MESSAGE_ID,
  message,
  RECIPIENT,
  releaseFact,
  sorted,
  TOKEN_A,
  TOKEN_B,
} from '../../../test/bridge/guard-facts.ts'
import { type BridgeFact, factOf } from '../facts.ts'
import { checkGovernance } from './governance.ts'
import { checkLockValue } from './lock-without-value.ts'
import { checkConcentration, checkThreshold, operatorsToForge } from './quorum-health.ts'
import { releaseWithoutSource } from './release-without-source.ts'
import { checkProof, checkReplay } from './replay.ts'
import { checkSignatures, type ReleaseCall } from './signatures.ts'
import { confirmSource } from './source-confirmation.ts'

/** Edge cases of the guard's per-event detections, on hand-built events and real signatures. */
const GOVERNOR = '0x0000000000000000000000000000000000000060'
const TIMELOCK = '0x0000000000000000000000000000000000000070'

function bridgeConfig(overrides: Record<string, unknown> = {}): BridgeConfig {
  return parseGuardConfig(
    {
      chains: { [A]: { rpcUrls: ['http://a1', 'http://a2'] }, [B]: { rpcUrls: ['http://b1', 'http://b2'] } },
      bridges: [
        {
          id: 'test',
          gateways: { [A]: GATEWAY_A, [B]: GATEWAY_B },
          minThreshold: 3,
          governance: { senders: [GOVERNOR], timelocks: [TIMELOCK] },
          operators: Object.fromEntries(sorted.slice(0, 3).map((g) => [g.address, 'one-operator'])),
          tokens: [{ symbol: 'T', addresses: { [A]: TOKEN_A, [B]: TOKEN_B } }],
          ...overrides,
        },
      ],
    },
    'test',
  ).bridges[0]!
}

const sourceLock = (overrides: Partial<SourceLock> = {}): SourceLock => ({
  messageId: MESSAGE_ID,
  token: TOKEN_A,
  amount: 1000n,
  recipient: RECIPIENT,
  destinationChainId: 31338n,
  txHash: `0x${'33'.repeat(32)}`,
  blockNumber: 90,
  blockHash: `0x${'44'.repeat(32)}`,
  ...overrides,
})
const answer = (endpoint: string, locks: SourceLock[]) =>
  ({ endpoint, ok: true, locks: new Map(locks.map((lock) => [lock.messageId, lock])) }) as const

describe('source confirmation and release without source', () => {
  const bridge = bridgeConfig()
  const fact = releaseFact()

  test('behavior: two endpoints reporting the matching lock back the release', () => {
    const { verdict, findings } = confirmSource({
      bridge,
      fact,
      answers: [answer('a1', [sourceLock()]), answer('a2', [sourceLock()])],
      minConfirmations: 2,
    })
    expect(verdict.verdict).toBe('backed')
    expect(findings).toEqual([])
    expect(releaseWithoutSource({ bridge, fact, verdict, claimedSourceGateway: GATEWAY_A })).toEqual([])
  })

  test('edge: endpoints that disagree are a finding of their own, never a failover', () => {
    const { verdict, findings } = confirmSource({
      bridge,
      fact,
      answers: [answer('a1', [sourceLock()]), answer('a2', [])],
      minConfirmations: 2,
    })
    expect(verdict.verdict).toBe('disputed')
    expect(findings.map((f) => [f.detection, f.kind, f.severity])).toEqual([
      ['source-confirmation', 'SOURCE_DISAGREEMENT', 'CRITICAL'],
    ])
    expect(findings[0]!.details).toMatchObject({ endpoint0: 'a1: present', endpoint1: 'a2: absent' })
  })

  test('edge: one confirmation where two are required, and an endpoint down, is unconfirmed — not backed', () => {
    const { verdict, findings } = confirmSource({
      bridge,
      fact,
      answers: [answer('a1', [sourceLock()]), { endpoint: 'a2', ok: false, error: 'timeout' }],
      minConfirmations: 2,
    })
    expect(verdict.verdict).toBe('unconfirmed')
    expect(findings[0]!.severity).toBe('MEDIUM')
    expect(findings[0]!.details.error0).toBe('a2: timeout')
  })

  test('behavior: no lock anywhere → release-without-source with the release as evidence', () => {
    const { verdict } = confirmSource({
      bridge,
      fact,
      answers: [answer('a1', []), answer('a2', [])],
      minConfirmations: 2,
    })
    const findings = releaseWithoutSource({ bridge, fact, verdict, claimedSourceGateway: GATEWAY_A })
    expect(findings.map((f) => [f.detection, f.kind, f.key])).toEqual([
      ['release-without-source', 'MINT_WITHOUT_LOCK', 'absent'],
    ])
    expect(findings[0]!.evidence[0]).toMatchObject({ chain: B, role: 'release' })
  })

  test.each([
    ['amount', { amount: 999n }, /1000 released/],
    ['recipient', { recipient: '0x00000000000000000000000000000000000000ff' }, /pays/],
    ['destination', { destinationChainId: 1n }, /for chain 1/],
    ['token', { token: '0x000000000000000000000000000000000000cccc' }, /does not map/],
  ])('edge: a source lock with a different %s is a mismatch', (_, change, reason) => {
    const { verdict } = confirmSource({
      bridge,
      fact,
      answers: [answer('a1', [sourceLock(change)]), answer('a2', [sourceLock(change)])],
      minConfirmations: 2,
    })
    expect(verdict.verdict).toBe('mismatch')
    const findings = releaseWithoutSource({ bridge, fact, verdict, claimedSourceGateway: GATEWAY_A })
    expect(findings[0]!.summary).toMatch(reason)
  })

  test('edge: a release naming a source gateway that is not the bridge’s is unbacked whatever its logs say', () => {
    const findings = releaseWithoutSource({
      bridge,
      fact,
      verdict: { verdict: 'backed', lock: sourceLock() },
      claimedSourceGateway: '0x00000000000000000000000000000000000000c3',
    })
    expect(findings.map((f) => f.key)).toEqual(['foreign-source-gateway'])
  })

  test('edge: a source chain where the bridge has no gateway', () => {
    const findings = releaseWithoutSource({
      bridge,
      fact: releaseFact({ sourceChain: 'eip155:5' }),
      verdict: undefined,
      claimedSourceGateway: undefined,
    })
    expect(findings.map((f) => f.key)).toEqual(['unknown-source-chain'])
  })
})

describe('guardian signatures', () => {
  const bridge = bridgeConfig()
  const set = sorted.map((g) => g.address)
  const call = (signatures: string[], nonce = 7n): ReleaseCall => ({
    sourceChainId: 31337n,
    sourceGateway: GATEWAY_A,
    nonce,
    signatures,
  })
  const sign = (fact: Extract<BridgeFact, { type: 'release' }>, signers: Wallet[]) => {
    const digest = signedDigest({
      chain: fact.envelope.chain,
      gateway: fact.gateway,
      messageId: fact.messageId,
      mode: fact.release.mode,
      token: fact.release.token,
      recipient: fact.release.recipient,
      amount: fact.amount,
    })
    // signedDigest is already EIP-191 prefixed: sign the raw hash.
    return signers.map((signer) => signer.signingKey.sign(digest).serialized)
  }

  test('behavior: threshold-many distinct guardians over the exact digest pass', () => {
    const fact = releaseFact({ signers: sorted.slice(0, 3).map((g) => g.address) })
    const result = checkSignatures({
      bridge,
      fact,
      call: call(sign(fact, sorted.slice(0, 3))),
      guardians: set,
      threshold: 3,
    })
    expect(result.findings).toEqual([])
    expect(result.validSigners).toEqual(sorted.slice(0, 3).map((g) => g.address))
  })

  test('edge: the digest is the gateway’s (signMessage over releaseDigest recovers the same signers)', async () => {
    const fact = releaseFact({ signers: [sorted[0]!.address, sorted[1]!.address, sorted[2]!.address] })
    // What guardians do with the gateway's releaseDigest: EIP-191 signMessage of the 32 bytes.
    const { AbiCoder, keccak256, id } = await import('ethers')
    const digest = keccak256(
      AbiCoder.defaultAbiCoder().encode(
        ['bytes32', 'uint256', 'address', 'bytes32', 'uint8', 'address', 'address', 'uint256'],
        [id('veridis.bridge.Release.v1'), 31338n, GATEWAY_B, MESSAGE_ID, 0, TOKEN_B, RECIPIENT, 1000n],
      ),
    )
    const signatures = await Promise.all(sorted.slice(0, 3).map((g) => g.signMessage(getBytes(digest))))
    expect(
      checkSignatures({ bridge, fact, call: call(signatures), guardians: set, threshold: 3 }).findings,
    ).toEqual([])
  })

  test.each([
    ['a forged key', () => [new Wallet(`0x${'ab'.repeat(32)}`)], /not a guardian/],
    ['a duplicate guardian', () => [sorted[0]!, sorted[0]!, sorted[1]!], /repeats guardian/],
    ['too few signatures', () => [sorted[0]!, sorted[1]!], /2 valid guardian signature\(s\), threshold 3/],
  ])('edge: %s is signature forgery', (_, signers, problem) => {
    const fact = releaseFact({ signers: [] })
    const findings = checkSignatures({
      bridge,
      fact,
      call: call(sign(fact, signers())),
      guardians: set,
      threshold: 3,
    }).findings
    expect(findings.map((f) => [f.detection, f.kind])).toEqual([['signature-forgery', 'FORGED_QUORUM']])
    expect(Object.values(findings[0]!.details).join('\n')).toMatch(problem)
  })

  test('edge: a signature over a different message recovers to a stranger', () => {
    const fact = releaseFact({ signers: [] })
    const other = releaseFact({ amount: '1001' })
    const findings = checkSignatures({
      bridge,
      fact,
      call: call(sign(other, sorted.slice(0, 3))),
      guardians: set,
      threshold: 3,
    })
    expect(findings.findings[0]!.details.problem0).toMatch(/not a guardian/)
  })

  test('edge: malformed signatures and signers the gateway claims but who did not sign (a bypassed verifier)', () => {
    const fact = releaseFact({ signers: sorted.slice(0, 3).map((g) => g.address) })
    const claimed = sorted.slice(0, 3).map((g) => g.address.toLowerCase())
    const findings = checkSignatures({
      bridge,
      fact,
      call: call(claimed),
      guardians: set,
      threshold: 3,
    }).findings
    const problems = Object.entries(findings[0]!.details)
      .filter(([key]) => key.startsWith('problem'))
      .map(([, v]) => v)
    expect(problems).toEqual([
      'signature #0 20 bytes, not a 65-byte ECDSA signature',
      'signature #1 20 bytes, not a 65-byte ECDSA signature',
      'signature #2 20 bytes, not a 65-byte ECDSA signature',
      '0 valid guardian signature(s), threshold 3',
      `the gateway reports signers that did not sign: ${sorted
        .slice(0, 3)
        .map((g) => g.address)
        .join(', ')}`,
    ])
  })

  test('edge: a message id that does not follow from the source fields', () => {
    const fact = releaseFact({ signers: sorted.slice(0, 3).map((g) => g.address) })
    const findings = checkSignatures({
      bridge,
      fact,
      call: call(sign(fact, sorted.slice(0, 3)), 8n),
      guardians: set,
      threshold: 3,
    })
    expect(findings.findings[0]!.details.problem0).toMatch(/does not follow from source chain/)
  })
})

describe('quorum health and signer concentration', () => {
  const bridge = bridgeConfig()
  const fact = releaseFact()
  test('edge: zero is critical, below the minimum is high, at the minimum is fine', () => {
    const zero = checkThreshold({
      bridge,
      fact,
      thresholds: [
        { source: 'event', value: 3 },
        { source: 'chain', value: 0 },
      ],
    })
    expect(zero.map((f) => [f.key, f.severity])).toEqual([['zero', 'CRITICAL']])
    expect(zero[0]!.summary).toMatch(/threshold of zero \(chain\)/)
    expect(checkThreshold({ bridge, fact, thresholds: [{ source: 'event', value: 2 }] })[0]!.severity).toBe(
      'HIGH',
    )
    expect(checkThreshold({ bridge, fact, thresholds: [{ source: 'event', value: 3 }] })).toEqual([])
  })

  test('behavior: one operator holding threshold-many keys can release alone', () => {
    const set = sorted.map((g) => g.address)
    expect(operatorsToForge(bridge, set, 3)).toBe(1)
    expect(operatorsToForge(bridge, set, 4)).toBe(2)
    expect(operatorsToForge(bridge, set, 5)).toBe(3)
    const findings = checkConcentration({ bridge, fact, guardians: set, threshold: 3 })
    expect(findings.map((f) => [f.detection, f.key])).toEqual([['signer-concentration', 'one-operator']])
    expect(checkConcentration({ bridge, fact, guardians: set, threshold: 4 })).toEqual([])
  })
})

describe('governance, lock value, replay, proofs', () => {
  const bridge = bridgeConfig()
  const change = factOf(
    message({
      envelope: envelope(B),
      gateway: GATEWAY_B,
      messageId: null,
      action: {
        'io.veridis.chain.GuardianSetChanged': { guardians: [RECIPIENT], threshold: 1, setIndex: 2 },
      },
    }),
  ) as Extract<BridgeFact, { type: 'configChange' }>

  test('behavior: a change sent by governance, or executed by its timelock, passes; anything else is a bypass', () => {
    expect(
      checkGovernance({
        bridge,
        fact: change,
        transaction: { from: GOVERNOR, to: GATEWAY_B, logEmitters: [] },
      }),
    ).toEqual([])
    expect(
      checkGovernance({
        bridge,
        fact: change,
        transaction: { from: RECIPIENT, to: TIMELOCK, logEmitters: [TIMELOCK, GATEWAY_B] },
      }),
    ).toEqual([])
    const bypass = checkGovernance({
      bridge,
      fact: change,
      transaction: { from: RECIPIENT, to: GATEWAY_B, logEmitters: [GATEWAY_B] },
    })
    expect(bypass.map((f) => [f.detection, f.kind, f.severity])).toEqual([
      ['governance-bypass', 'GOVERNANCE_BYPASS', 'CRITICAL'],
    ])
    expect(bypass[0]!.summary).toMatch(/not made by governance/)
  })

  test('edge: a lock with no value, too little, or an unknown token', () => {
    expect(
      checkLockValue({ bridge, fact: lockFact([{ token: TOKEN_A, to: GATEWAY_A, amount: '1000' }]) }),
    ).toEqual([])
    expect(checkLockValue({ bridge, fact: lockFact([]) })[0]!.key).toBe('short')
    expect(
      checkLockValue({ bridge, fact: lockFact([{ token: TOKEN_A, to: GATEWAY_A, amount: '999' }]) })[0]!
        .details.received,
    ).toBe('999')
    // Value sent somewhere else does not back the lock.
    expect(
      checkLockValue({ bridge, fact: lockFact([{ token: TOKEN_A, to: RECIPIENT, amount: '1000' }]) }),
    ).toHaveLength(1)
    expect(
      checkLockValue({ bridge, fact: lockFact([], '0x0000000000000000000000000000000000000000') })[0]!.key,
    ).toBe('unknown-token')
  })

  test('edge: a second release of one message is a replay; the same event again is not', () => {
    const fact = releaseFact()
    expect(
      checkReplay({
        bridge,
        fact,
        prior: [{ eventId: fact.envelope.eventId, chain: B, txHash: '0x1', blockNumber: 1 }],
      }),
    ).toEqual([])
    const replay = checkReplay({
      bridge,
      fact,
      prior: [{ eventId: 'earlier', chain: B, txHash: '0x1', blockNumber: 1 }],
    })
    expect(replay.map((f) => [f.detection, f.kind])).toEqual([['replay', 'REPLAYED_MESSAGE']])
    expect(replay[0]!.evidence.map((e) => e.role)).toEqual(['first release', 'repeated release'])
  })

  test('edge: an optimistic bridge’s release against the zero root or no root is unproven; guardian bridges ignore roots', () => {
    const optimistic = bridgeConfig({ kind: 'optimistic-root' })
    expect(
      checkProof({ bridge: optimistic, fact: releaseFact({ proofRoot: `0x${'00'.repeat(32)}` }) })[0]!.key,
    ).toBe('zero-root')
    expect(checkProof({ bridge: optimistic, fact: releaseFact({ proofRoot: null }) })[0]!.key).toBe('no-root')
    expect(
      checkProof({ bridge: optimistic, fact: releaseFact({ proofRoot: `0x${'01'.repeat(32)}` }) }),
    ).toEqual([])
    expect(checkProof({ bridge, fact: releaseFact({ proofRoot: null }) })).toEqual([])
  })
})

describe('configuration', () => {
  test('error: every problem is named with its path', () => {
    expect(() =>
      parseGuardConfig(
        {
          chains: { [A]: { rpcUrls: ['http://a1'], minConfirmations: 2 } },
          bridges: [{ id: 'x', gateways: { [A]: 'nope', [B]: GATEWAY_B }, minThreshold: 0, tokens: [] }],
        },
        'bridges.json',
      ),
    ).toThrow(
      /bridges\.json: bridges\.0\.gateways\.eip155:31337: must be a 0x-prefixed 20-byte address[\s\S]*minThreshold[\s\S]*tokens[\s\S]*chains\.eip155:31337\.minConfirmations: needs 2 endpoints, 1 configured/,
    )
  })
})
