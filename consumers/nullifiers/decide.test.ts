import { describe, expect, test } from 'vitest'
import { decide, doubleUseAlertId, type Use } from './decide.ts'

let arrival = 0
const use = (chain: string, finality: Use['finality'], source: Use['source'] = 'PROOF'): Use => ({
  eventId: `${chain}-${arrival}`,
  chain,
  source,
  finality,
  txHash: `0x${arrival}`,
  blockNumber: 1,
  arrival: arrival++,
})

describe('decide', () => {
  test('behavior: the first PROOF use wins; relayed copies are not second uses', () => {
    const first = use('eip155:1', 'FINALIZED')
    const relayed = use('eip155:2', 'FINALIZED', 'RELAYER')
    expect(decide([relayed, first])).toMatchObject({ first, status: 'USED', doubleUses: [] })
  })

  test('behavior: uses on two chains are a double use, alerted only once both are final', () => {
    const a = use('eip155:1', 'PENDING')
    const b = use('eip155:2', 'PENDING')
    expect(decide([a, b])).toMatchObject({ first: a, status: 'DOUBLE_USE', doubleUses: [] })
    expect(decide([{ ...a, finality: 'FINALIZED' }, b]).doubleUses).toEqual([])
    const final = decide([
      { ...a, finality: 'FINALIZED' },
      { ...b, finality: 'FINALIZED' },
    ])
    expect(final.doubleUses.map(([x, y]) => [x.eventId, y.eventId])).toEqual([[a.eventId, b.eventId]])
  })

  test('behavior: a retracted first use gives way to the next; no double use remains', () => {
    const a = use('eip155:1', 'RETRACTED')
    const b = use('eip155:2', 'FINALIZED')
    const decision = decide([a, b])
    expect(decision).toMatchObject({ first: b, status: 'USED', doubleUses: [] })
    expect(decision.retracted).toEqual([a])
  })

  test('behavior: a re-inclusion on the same chain is the same use, not a double use', () => {
    const orphaned = use('eip155:1', 'RETRACTED')
    const reincluded = use('eip155:1', 'FINALIZED')
    const pendingBoth = decide([{ ...orphaned, finality: 'PENDING' }, reincluded])
    expect(pendingBoth).toMatchObject({ status: 'USED', doubleUses: [] })
    expect(decide([orphaned, reincluded])).toMatchObject({ first: reincluded, status: 'USED' })
  })

  test('behavior: only retracted PROOF uses → RETRACTED; only relayed copies → RELAYED', () => {
    expect(decide([use('eip155:1', 'RETRACTED')])).toMatchObject({ first: undefined, status: 'RETRACTED' })
    expect(decide([use('eip155:1', 'PENDING', 'RELAYER')])).toMatchObject({
      first: undefined,
      status: 'RELAYED',
    })
  })

  test('behavior: alert ids are deterministic over both occurrences', () => {
    const a = use('eip155:1', 'FINALIZED')
    const b = use('eip155:2', 'FINALIZED')
    expect(doubleUseAlertId('1', '2', a, b)).toBe(doubleUseAlertId('1', '2', a, b))
    expect(doubleUseAlertId('1', '2', a, b)).not.toBe(doubleUseAlertId('1', '2', b, a))
    expect(doubleUseAlertId('1', '2', a, b)).toMatch(/^[0-9a-f]{64}$/)
  })
})
