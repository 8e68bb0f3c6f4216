import { describe, expect, test } from 'vitest'
import { chainEventId } from '../../producers/chains/common/event-id.ts'
import { bundleSchema } from '../../schemas/load.ts'
import { isTransient, NonRetryableError, RetryableError } from '../errors.ts'
import { backoffDelay } from './retry.ts'
import { nextTraceparent, parseTraceparent } from './trace.ts'

describe('backoff', () => {
  test('behavior: full jitter stays within the exponential ceiling and the cap', () => {
    expect(backoffDelay(1, 100, 5_000, () => 1)).toBe(100)
    expect(backoffDelay(4, 100, 5_000, () => 1)).toBe(800)
    expect(backoffDelay(20, 100, 5_000, () => 1)).toBe(5_000)
    expect(backoffDelay(3, 100, 5_000, () => 0)).toBe(0)
    const samples = Array.from({ length: 200 }, () => backoffDelay(3, 100, 5_000))
    expect(Math.max(...samples)).toBeLessThanOrEqual(400)
    expect(new Set(samples).size).toBeGreaterThan(10)
  })
})

describe('traceparent', () => {
  test('behavior: a child keeps the trace id and gets a new span id', () => {
    const root = nextTraceparent()
    const child = nextTraceparent(root)
    expect(parseTraceparent(child)?.traceId).toBe(parseTraceparent(root)?.traceId)
    expect(parseTraceparent(child)?.spanId).not.toBe(parseTraceparent(root)?.spanId)
  })

  test('error: malformed or all-zero trace ids are not accepted as parents', () => {
    expect(parseTraceparent('00-00000000000000000000000000000000-0000000000000001-01')).toBeUndefined()
    expect(parseTraceparent('garbage')).toBeUndefined()
    expect(parseTraceparent(nextTraceparent('garbage'))).toBeDefined()
  })
})

describe('chain event ids', () => {
  const fact = { chain: 'eip155:1', blockHash: '0xAB', txHash: '0xCD', logIndex: 3 }
  test('behavior: deterministic, case-insensitive in hashes', () => {
    expect(chainEventId(fact)).toBe(chainEventId({ ...fact, blockHash: '0xab', txHash: '0xcd' }))
    expect(chainEventId(fact)).toMatch(/^[0-9a-f]{64}$/)
  })
  test('behavior: the same transaction in another block, chain or position is another fact', () => {
    const ids = new Set([
      chainEventId(fact),
      chainEventId({ ...fact, blockHash: '0xAC' }),
      chainEventId({ ...fact, chain: 'eip155:10' }),
      chainEventId({ ...fact, logIndex: 4 }),
    ])
    expect(ids.size).toBe(4)
  })
})

describe('schema bundling', () => {
  test('behavior: a shared type is inlined at its first use and referenced by name afterwards', () => {
    const shared = new Map([
      [
        'io.x.Point',
        { type: 'record', name: 'Point', namespace: 'io.x', fields: [{ name: 'x', type: 'int' }] },
      ],
    ])
    const bundled = bundleSchema(
      {
        type: 'record',
        name: 'Line',
        namespace: 'io.x',
        fields: [
          { name: 'from', type: 'io.x.Point' },
          { name: 'to', type: 'Point' },
        ],
      },
      shared,
    ) as { fields: { type: unknown }[] }
    expect(bundled.fields[0]!.type).toEqual(shared.get('io.x.Point'))
    expect(bundled.fields[1]!.type).toBe('io.x.Point')
  })
})

describe('error classification', () => {
  test('behavior: infrastructure failures are transient, bad input is not', () => {
    expect(isTransient(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true)
    expect(isTransient(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true)
    expect(isTransient(Object.assign(new Error('serialization'), { code: '40001' }))).toBe(true)
    expect(isTransient(Object.assign(new Error('unique violation'), { code: '23505' }))).toBe(false)
    expect(isTransient(new RetryableError('later'))).toBe(true)
    expect(
      isTransient(
        new NonRetryableError('never', { cause: Object.assign(new Error(), { code: 'ECONNRESET' }) }),
      ),
    ).toBe(false)
    expect(
      isTransient(new Error('wrapped', { cause: Object.assign(new Error(), { retriable: true }) })),
    ).toBe(true)
    expect(isTransient(new Error('plain bug'))).toBe(false)
    // The system, not the message: dead-lettering the backlog would not help.
    expect(isTransient(Object.assign(new Error('relation does not exist'), { code: '42P01' }))).toBe(true)
    expect(isTransient(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe(
      true,
    )
    expect(isTransient(new Error('timeout exceeded when trying to connect'))).toBe(true)
    expect(isTransient(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false)
  })
})
