import { describe, expect, test } from 'vitest'
import { parseGuardConfig } from '../../../core/bridge/config.ts'
import { type GuardianRecord, meanLatencyMs, participationFindings, pendingFinding } from './liveness.ts'

const HOME = 'eip155:31337'
const REMOTE = 'eip155:31338'
const GATEWAY = '0x00000000000000000000000000000000000000aa'
const TOKEN = '0x00000000000000000000000000000000000000bb'

const bridge = parseGuardConfig(
  {
    chains: {
      [HOME]: { rpcUrls: ['http://127.0.0.1:1'], minConfirmations: 1 },
      [REMOTE]: { rpcUrls: ['http://127.0.0.1:2'], minConfirmations: 1 },
    },
    bridges: [
      {
        id: 'b',
        gateways: { [HOME]: GATEWAY, [REMOTE]: GATEWAY },
        minThreshold: 2,
        pendingSlaMs: 600_000,
        participation: { floor: 0.5, minSample: 10, window: 100 },
        tokens: [{ symbol: 'T', addresses: { [HOME]: TOKEN, [REMOTE]: TOKEN } }],
      },
    ],
  },
  'test',
).bridges[0]!

const record = (
  guardian: string,
  signed: number,
  eligible: number,
  gateway = GATEWAY.toLowerCase(),
): GuardianRecord => ({
  chain: HOME,
  gateway,
  guardian,
  operator: null,
  signed,
  eligible,
  latencyMsTotal: signed * 1_000,
  latencySamples: signed,
})

describe('liveness', () => {
  test('behavior: participation exactly at the floor passes; below it fires once the sample is big enough', () => {
    const now = Date.UTC(2030, 0, 1)
    const findings = participationFindings(
      bridge,
      [record('0x01', 5, 10), record('0x02', 4, 10), record('0x03', 0, 9)],
      now,
    )
    // 0x01 at 50 % passes, 0x02 at 40 % fires, 0x03 has too few releases to judge.
    expect(findings.map((finding) => finding.details.guardian)).toEqual(['0x02'])
    expect(findings[0]).toMatchObject({
      detection: 'liveness',
      kind: 'LIVENESS',
      scope: `b:${HOME}:guardian:0x02`,
      subject: { eventId: `liveness:guardian:b:${HOME}:0x02:2030-01-01` },
    })
  })

  test('behavior: a guardian of another gateway on the chain is not this bridge’s', () => {
    expect(participationFindings(bridge, [record('0x02', 0, 50, '0xdead')], 0)).toEqual([])
  })

  test('behavior: mean latency over the releases with a known source lock, none without', () => {
    expect(meanLatencyMs({ ...record('0x01', 4, 4), latencyMsTotal: 6_000, latencySamples: 3 })).toBe(2_000)
    expect(meanLatencyMs({ ...record('0x01', 4, 4), latencySamples: 0 })).toBeUndefined()
  })

  test('behavior: a pending lock is a finding about the lock, scoped to its corridor', () => {
    const observedAt = Date.UTC(2030, 0, 1)
    const finding = pendingFinding(
      bridge,
      {
        eventId: 'lock-1',
        messageId: '0xabc',
        chain: HOME,
        destinationChain: REMOTE,
        txHash: '0x1',
        blockNumber: 7,
        amount: '5',
        token: TOKEN,
        observedAt,
      },
      observedAt + 30 * 60_000,
    )
    expect(finding).toMatchObject({
      scope: `b:${HOME}->${REMOTE}`,
      subject: { eventId: 'lock-1', chain: HOME },
      key: 'pending-sla',
    })
    expect(finding.summary).toContain('waited 30 min')
  })
})
