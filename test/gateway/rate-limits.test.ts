import { describe, expect, test } from 'vitest'
import { createExhaustedKeys } from '../../producers/gateway/exhausted-keys.ts'
import { createWindowLimiter, decide, policyField } from '../../producers/gateway/rate-limits.ts'
import { groupHits, spreadCounts } from '../../producers/gateway/shared-rate-limits.ts'

/**
 * The parts of the rate limits that need no service: the in-memory store, the local pre-check
 * of the shared store, and how one batched statement's counts are handed back to its requests.
 * The shared store itself runs against the real Postgres (shared-rate-limits.test.ts,
 * instances.test.ts).
 */

describe('in-memory windows', () => {
  test('behavior: a new window starts a fresh count; reset counts down to the window end', () => {
    const limiter = createWindowLimiter({ policy: 'caller', limit: 2, windowMs: 10_000 })
    const start = 1_800_000_000_000 // a window boundary (a multiple of 10 s)
    expect(limiter.hit('a', start + 1_000)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 9 })
    expect(limiter.hit('a', start + 9_999)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 1 })
    expect(limiter.hit('a', start + 9_999)).toMatchObject({ allowed: false, remaining: 0 })
    // The next window: counted from one again.
    expect(limiter.hit('a', start + 10_000)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 10 })
  })

  test('behavior: beyond maxKeys keys in one window, new keys share one count; known keys keep theirs', () => {
    const limiter = createWindowLimiter({ policy: 'source', limit: 2, windowMs: 60_000, maxKeys: 3 })
    const now = 1_800_000_000_000
    for (const key of ['a', 'b', 'c']) expect(limiter.hit(key, now).allowed).toBe(true)
    // d and e are new once the window holds three keys: they share the overflow count.
    expect(limiter.hit('d', now)).toMatchObject({ allowed: true, remaining: 1 })
    expect(limiter.hit('e', now)).toMatchObject({ allowed: true, remaining: 0 })
    expect(limiter.hit('f', now).allowed).toBe(false)
    // A key counted before the table filled keeps its own count.
    expect(limiter.hit('a', now)).toMatchObject({ allowed: true, remaining: 0 })
    // The next window has room again.
    expect(limiter.hit('f', now + 60_000)).toMatchObject({ allowed: true, remaining: 1 })
  })

  test('behavior: the IETF policy member names quota and window in whole seconds, at least one', () => {
    expect(policyField({ policy: 'caller', limit: 600, windowMs: 60_000 })).toBe('"caller";q=600;w=60')
    expect(policyField({ policy: 'source', limit: 5, windowMs: 100 })).toBe('"source";q=5;w=1')
    expect(decide('caller', 3, 4, 1)).toEqual({
      policy: 'caller',
      allowed: false,
      limit: 3,
      remaining: 0,
      resetSeconds: 1,
    })
  })
})

describe('local pre-check (keys known exhausted)', () => {
  test('behavior: a key is known exhausted until its window ends, then forgotten', () => {
    let clock = 1_000
    const keys = createExhaustedKeys({ maxKeys: 10, now: () => clock })
    expect(keys.remainingMs('a')).toBeUndefined()
    keys.exhausted('a', 1_500)
    expect(keys.remainingMs('a')).toBe(500)
    clock = 1_499
    expect(keys.remainingMs('a')).toBe(1)
    clock = 1_500
    expect(keys.remainingMs('a')).toBeUndefined()
    expect(keys.size).toBe(0)
  })

  test('behavior: when full, expired keys make room; with none expired a new key is not remembered', () => {
    let clock = 0
    const keys = createExhaustedKeys({ maxKeys: 2, now: () => clock })
    keys.exhausted('a', 100)
    keys.exhausted('b', 200)
    // Full and nothing expired: c is left to Postgres, a and b stay.
    keys.exhausted('c', 300)
    expect(keys.remainingMs('c')).toBeUndefined()
    expect(keys.size).toBe(2)
    // A known key is updated in place even when full.
    keys.exhausted('b', 250)
    expect(keys.remainingMs('b')).toBe(250)
    clock = 150
    keys.exhausted('c', 300)
    expect(keys.remainingMs('c')).toBe(150)
    expect(keys.remainingMs('a')).toBeUndefined()
    expect(keys.size).toBe(2)
  })
})

describe('one statement for a batch of hits', () => {
  const hits = [
    { policy: 'p|source', key: '10.0.0.2', windowMs: 60_000 },
    { policy: 'p|caller', key: 'USER:b', windowMs: 60_000 },
    { policy: 'p|source', key: '10.0.0.1', windowMs: 60_000 },
    { policy: 'p|caller', key: 'USER:a', windowMs: 60_000 },
    { policy: 'p|source', key: '10.0.0.2', windowMs: 60_000 },
    { policy: 'p|source', key: '10.0.0.2', windowMs: 60_000 },
  ]

  test('behavior: one row per policy and key, sorted (one lock order for every statement)', () => {
    const groups = groupHits(hits)
    expect(groups.map((group) => [group.policy, group.key, group.members])).toEqual([
      ['p|caller', 'USER:a', [3]],
      ['p|caller', 'USER:b', [1]],
      ['p|source', '10.0.0.1', [2]],
      ['p|source', '10.0.0.2', [0, 4, 5]],
    ])
  })

  test('behavior: the hits of a row take its last places, in the order they arrived', () => {
    const groups = groupHits(hits)
    // 10.0.0.2 had 7 before this statement: its three hits are the 8th, 9th and 10th.
    const counted = spreadCounts(hits.length, groups, [
      { policy: 'p|source', key: '10.0.0.2', count: 10, ms_left: 1_234 },
      { policy: 'p|caller', key: 'USER:a', count: 1, ms_left: 1_234 },
      { policy: 'p|source', key: '10.0.0.1', count: 4, ms_left: 1_234 },
      { policy: 'p|caller', key: 'USER:b', count: 2, ms_left: 1_234 },
    ])
    expect(counted.map((entry) => entry.used)).toEqual([8, 2, 4, 1, 9, 10])
    expect(counted.every((entry) => entry.msLeft === 1_234)).toBe(true)
  })

  test('error: a row missing from the statement result fails the batch instead of guessing', () => {
    const groups = groupHits(hits.slice(0, 2))
    expect(() =>
      spreadCounts(2, groups, [{ policy: 'p|source', key: '10.0.0.2', count: 1, ms_left: 10 }]),
    ).toThrow(/missing/)
  })
})
