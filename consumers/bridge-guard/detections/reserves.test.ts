import { describe, expect, test } from 'vitest'
import { parseGuardConfig } from '../../../core/bridge/config.ts'
import type { GatewayRelease } from '../chain-state.ts'
import { assessReserves, type ReserveSnapshot, racingValue, reserveFinding } from './reserves.ts'

const HOME = 'eip155:31337'
const REMOTE = 'eip155:31338'
const THIRD = 'eip155:31339'
const GATEWAY = '0x00000000000000000000000000000000000000aa'
const TOKEN = '0x00000000000000000000000000000000000000bb'

const snapshot = (over: Partial<ReserveSnapshot> = {}): ReserveSnapshot => ({
  custody: 1_000n,
  custodyChain: HOME,
  heights: { [HOME]: 100, [REMOTE]: 200 },
  wrapped: { [REMOTE]: 900n },
  pending: 100n,
  racing: 0n,
  ...over,
})

const release = (id: string, amount: bigint, sourceChain: string, blockNumber = 150): GatewayRelease => ({
  messageId: id,
  mode: 'MINT',
  token: TOKEN,
  amount,
  sourceChain,
  blockNumber,
  txHash: `0x${id}`,
})

describe('reserves', () => {
  test('behavior: covered exactly (wrapped + in flight = custody) is no shortfall; one unit more is', () => {
    expect(assessReserves(snapshot(), 0n)).toEqual({
      wrappedSupply: 900n,
      inFlight: 100n,
      shortfall: 0n,
      short: false,
    })
    expect(assessReserves(snapshot({ pending: 101n }), 0n)).toMatchObject({ shortfall: 1n, short: true })
  })

  test('behavior: tolerance absorbs a shortfall up to and including itself', () => {
    expect(assessReserves(snapshot({ custody: 995n }), 5n)).toMatchObject({ shortfall: 5n, short: false })
    expect(assessReserves(snapshot({ custody: 994n }), 5n)).toMatchObject({ shortfall: 6n, short: true })
  })

  test('behavior: a release racing the custody read (its lock above the custody height) is not a shortfall', () => {
    // The destination minted 50 at a height where the source lock (block 101) is above the custody read (100).
    const heights = { [HOME]: 100, [REMOTE]: 200 }
    const releases = [release('a', 50n, HOME)]
    const racing = racingValue(releases, new Map([['a', 101]]), heights)
    expect(racing).toBe(50n)
    const raced = snapshot({ wrapped: { [REMOTE]: 950n }, racing })
    expect(assessReserves(raced, 0n)).toMatchObject({ inFlight: 50n, short: false })
    // Without counting the race the same reads would raise: the race is what in flight is for.
    expect(assessReserves({ ...raced, racing: 0n }, 0n).short).toBe(true)
  })

  test('behavior: a release whose lock is at or below the source height, or exists nowhere, is not in flight', () => {
    const heights = { [HOME]: 100, [REMOTE]: 200 }
    const releases = [release('at', 10n, HOME), release('below', 20n, HOME), release('forged', 40n, HOME)]
    const locks = new Map([
      ['at', 100],
      ['below', 3],
    ])
    expect(racingValue(releases, locks, heights)).toBe(0n)
  })

  test('behavior: releases from a chain the check did not read are ignored', () => {
    expect(
      racingValue([release('x', 10n, THIRD)], new Map([['x', 10_000]]), { [HOME]: 1, [REMOTE]: 1 }),
    ).toBe(0n)
  })

  test('behavior: a Wormhole-style unbacked mint is a critical finding naming every read height', () => {
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
            tokens: [
              {
                symbol: 'T',
                addresses: { [HOME]: TOKEN, [REMOTE]: TOKEN },
                reserves: { custodyChain: HOME },
              },
            ],
          },
        ],
      },
      'test',
    ).bridges[0]!
    const forged = snapshot({ wrapped: { [REMOTE]: 120_900n } })
    const assessment = assessReserves(forged, 0n)
    const finding = reserveFinding({
      bridge,
      token: bridge.tokens[0]!,
      checkId: '42',
      snapshot: forged,
      assessment,
      tolerance: 0n,
    })
    expect(finding).toMatchObject({
      detection: 'reserves',
      kind: 'RESERVE_SHORTFALL',
      severity: 'CRITICAL',
      scope: 'b:T',
      subject: { eventId: 'reserves:b:T:42', chain: HOME },
      details: { shortfall: '120000', custody: '1000', [`height.${REMOTE}`]: '200' },
    })
    expect(finding.evidence.map((entry) => [entry.chain, entry.blockNumber])).toEqual([
      [HOME, 100],
      [REMOTE, 200],
    ])
  })
})
