import { describe, expect, test } from 'vitest'
import { parseGuardConfig } from '../../../core/bridge/config.ts'
import type { BridgeFact } from '../facts.ts'
import { checkFlow, limitsOf } from './flow-limits.ts'

const HOME = 'eip155:31337'
const REMOTE = 'eip155:31338'
const GATEWAY = '0x00000000000000000000000000000000000000aa'
const TOKEN = '0x00000000000000000000000000000000000000bb'

const config = (token: Record<string, unknown> = {}) =>
  parseGuardConfig(
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
          tokens: [{ symbol: 'T', addresses: { [HOME]: TOKEN, [REMOTE]: TOKEN }, ...token }],
        },
      ],
    },
    'test',
  ).bridges[0]!

const envelope = (chain = HOME) => ({
  eventId: `e-${chain}`,
  chain,
  blockNumber: 10,
  blockHash: `0x${'1'.repeat(64)}`,
  txHash: `0x${'2'.repeat(64)}`,
  logIndex: 0,
  emitter: GATEWAY,
  finality: 'PENDING' as const,
  observedAt: 1_000_000,
})

const release = (amount: bigint, mode: 'MINT' | 'UNLOCK' = 'UNLOCK', chain = HOME) =>
  ({
    type: 'release',
    envelope: envelope(chain),
    gateway: GATEWAY,
    message: undefined as never,
    messageId: `0x${'3'.repeat(64)}`,
    amount,
    release: {
      mode,
      recipient: GATEWAY,
      token: TOKEN,
      amount: amount.toString(),
      sourceChain: REMOTE,
      nonce: '1',
      signers: [],
      threshold: 2,
      proofRoot: null,
    },
  }) satisfies BridgeFact

const lock = (amount: bigint) =>
  ({
    type: 'lock',
    envelope: envelope(),
    gateway: GATEWAY,
    message: undefined as never,
    messageId: `0x${'4'.repeat(64)}`,
    amount,
    lock: {
      mode: 'LOCK',
      sender: GATEWAY,
      recipient: GATEWAY,
      token: TOKEN,
      amount: amount.toString(),
      destinationChain: REMOTE,
      nonce: '1',
      transfers: [],
    },
  }) satisfies BridgeFact

const keys = (findings: { key: string }[]) => findings.map((finding) => finding.key).sort()

describe('flow limits', () => {
  test('behavior: exactly at the single-transfer and daily limits is allowed, one unit above is a finding', () => {
    const bridge = config({ singleTransferLimit: '100', dailyLimit: '1000' })
    const token = bridge.tokens[0]!
    const at = (amount: bigint, day: bigint) =>
      keys(
        checkFlow({
          bridge,
          token,
          fact: release(amount, 'MINT'),
          totals: { day, unlockedInWindow: 0n },
          vaultBalance: undefined,
        }),
      )
    expect(at(100n, 1000n)).toEqual([])
    expect(at(101n, 1000n)).toEqual(['single-transfer'])
    expect(at(100n, 1001n)).toEqual(['daily-release'])
    expect(at(101n, 1001n)).toEqual(['daily-release', 'single-transfer'])
  })

  test('behavior: locks are held to dailyLockLimit, not to the release limit', () => {
    const bridge = config({ dailyLimit: '10', dailyLockLimit: '1000' })
    const token = bridge.tokens[0]!
    const findings = (day: bigint) =>
      checkFlow({
        bridge,
        token,
        fact: lock(5n),
        totals: { day, unlockedInWindow: 0n },
        vaultBalance: undefined,
      })
    expect(findings(500n)).toEqual([])
    const over = findings(1001n)
    expect(keys(over)).toEqual(['daily-lock'])
    expect(over[0]!.scope).toBe(`b:${HOME}:T:daily-lock`)
  })

  test('behavior: no limit configured, no finding however large', () => {
    const bridge = config()
    expect(
      checkFlow({
        bridge,
        token: bridge.tokens[0]!,
        fact: release(10n ** 30n, 'MINT'),
        totals: { day: 10n ** 31n, unlockedInWindow: 0n },
        vaultBalance: undefined,
      }),
    ).toEqual([])
  })

  test('behavior: per-chain limits override the token limits on that chain only', () => {
    const bridge = config({
      singleTransferLimit: '1000',
      chainLimits: { [REMOTE]: { singleTransferLimit: '10' } },
    })
    const token = bridge.tokens[0]!
    expect(limitsOf(token, REMOTE).singleTransferLimit).toBe(10n)
    expect(limitsOf(token, HOME).singleTransferLimit).toBe(1000n)
    const on = (chain: string) =>
      keys(
        checkFlow({
          bridge,
          token,
          fact: release(50n, 'MINT', chain),
          totals: { day: 50n, unlockedInWindow: 0n },
          vaultBalance: undefined,
        }),
      )
    expect(on(REMOTE)).toEqual(['single-transfer'])
    expect(on(HOME)).toEqual([])
  })

  test('behavior: drain share counts what was unlocked earlier in the window as custody that was there', () => {
    // 20 % of the custody seen in the window: balance before this block 800, 100 unlocked earlier.
    const bridge = config({ drainShare: 0.2 })
    const token = bridge.tokens[0]!
    const drain = (amount: bigint, unlockedInWindow: bigint, vaultBalance: bigint | undefined) =>
      checkFlow({ bridge, token, fact: release(amount), totals: { day: 0n, unlockedInWindow }, vaultBalance })
    // custody during the window = 800 + 100 = 900; 20 % of it is 180.
    expect(drain(79n, 179n, 800n)).toEqual([])
    const at = drain(80n, 180n, 800n)
    expect(keys(at)).toEqual(['drain'])
    expect(at[0]).toMatchObject({
      severity: 'CRITICAL',
      details: { custodyInWindow: '900', unlockedInWindow: '180' },
    })
  })

  test('behavior: drain applies to UNLOCK only, and never without the vault balance or with an empty vault', () => {
    const bridge = config({ drainShare: 0.1 })
    const token = bridge.tokens[0]!
    const totals = { day: 0n, unlockedInWindow: 1_000n }
    expect(checkFlow({ bridge, token, fact: release(1_000n, 'MINT'), totals, vaultBalance: 1n })).toEqual([])
    expect(checkFlow({ bridge, token, fact: release(1_000n), totals, vaultBalance: undefined })).toEqual([])
    expect(checkFlow({ bridge, token, fact: release(1_000n), totals, vaultBalance: 0n })).toEqual([])
    // The whole vault in one unlock (Forta's "asset drained"): 100 % ≥ any share.
    expect(keys(checkFlow({ bridge, token, fact: release(1_000n), totals, vaultBalance: 1_000n }))).toEqual([
      'drain',
    ])
  })

  test('edge: below drainMinAmount (default: the single-transfer limit) a large share of a small vault is no drain', () => {
    const withFloor = config({ drainShare: 0.2, drainMinAmount: '500' })
    const floorToken = withFloor.tokens[0]!
    const drain = (unlockedInWindow: bigint) =>
      keys(
        checkFlow({
          bridge: withFloor,
          token: floorToken,
          fact: release(unlockedInWindow),
          totals: { day: 0n, unlockedInWindow },
          vaultBalance: 1_000n,
        }),
      )
    // 50 % of the vault, but not more than the floor: ordinary withdrawals from a small vault.
    expect(drain(500n)).toEqual([])
    expect(drain(501n)).toEqual(['drain'])
    const byLimit = config({ drainShare: 0.2, singleTransferLimit: '10000' })
    expect(
      checkFlow({
        bridge: byLimit,
        token: byLimit.tokens[0]!,
        fact: release(900n),
        totals: { day: 0n, unlockedInWindow: 900n },
        vaultBalance: 1_000n,
      }),
    ).toEqual([])
  })

  test('error: a drain share outside (0, 1] is refused by the configuration', () => {
    expect(() => config({ drainShare: 0 })).toThrow(/drainShare/)
    expect(() => config({ drainShare: 1.5 })).toThrow(/drainShare/)
  })
})
