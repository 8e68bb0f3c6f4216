import { describe, expect, test } from 'vitest'
import { evaluatePartition, groupStatus, type Observation } from './evaluate.ts'
import { OffsetTable } from './offset-table.ts'

describe('offset table', () => {
  const table = new OffsetTable()
  table.add(100, 10_000)
  table.add(100, 12_000) // did not move: message 100 was produced after 12 s, not after 10 s
  table.add(200, 20_000)
  table.add(400, 30_000)

  test('behavior: interpolates between the samples around an offset, from the end of a flat segment', () => {
    expect(table.producedAt(150)).toBe(16_000)
    expect(table.producedAt(300)).toBe(25_000)
    expect(table.lagSeconds(300, 40_000)).toBe(15)
  })

  test('behavior: a partition idle for an hour does not date its next message an hour back', () => {
    const idle = new OffsetTable()
    idle.add(1_000, 0)
    for (let at = 5_000; at <= 3_600_000; at += 5_000) idle.add(1_000, at)
    idle.add(1_001, 3_605_000)
    expect(idle.lagSeconds(1_000, 3_606_000)).toBeLessThanOrEqual(6)
  })

  test('behavior: a consumer at or past the log end has no lag', () => {
    expect(table.producedAt(400)).toBeUndefined()
    expect(table.lagSeconds(400, 99_000)).toBe(0)
  })

  test('behavior: before the first sample it extrapolates the overall rate, never later than the first sample', () => {
    // 300 offsets over 20 s: 50 offsets ≈ 3.33 s before the first sample.
    expect(table.producedAt(50)).toBeCloseTo(10_000 - (50 * 20_000) / 300)
    const single = new OffsetTable()
    single.add(10, 5_000)
    expect(single.producedAt(3)).toBe(5_000)
  })

  test('behavior: keeps a bounded number of samples and starts afresh when the log end goes backwards', () => {
    const bounded = new OffsetTable(3)
    for (let offset = 1; offset <= 10; offset++) bounded.add(offset, offset * 1_000)
    expect(bounded.size).toBe(3)
    bounded.add(2, 99_000)
    expect(bounded.size).toBe(1)
  })
})

const window = (...entries: [committed: number, lag: number][]): Observation[] =>
  entries.map(([committed, lag], index) => ({ at: index * 1_000, committed, lag }))

describe('burrow-style evaluation', () => {
  test('behavior: OK when the lag touched zero in the window', () => {
    expect(evaluatePartition(window([10, 5], [10, 0], [10, 7]), true)).toBe('OK')
  })
  test('behavior: STALL when members are there but the offset does not move', () => {
    expect(evaluatePartition(window([10, 5], [10, 8], [10, 9]), true)).toBe('STALL')
  })
  test('behavior: nothing but OK or REWIND until the window is full', () => {
    expect(evaluatePartition(window([10, 5], [10, 8], [10, 9]), true, 4)).toBe('OK')
    expect(evaluatePartition(window([10, 5], [10, 8], [10, 9], [10, 11]), true, 4)).toBe('STALL')
    expect(evaluatePartition(window([10, 0], [4, 6]), true, 4)).toBe('REWIND')
  })
  test('behavior: STOP when nobody is left in the group', () => {
    expect(evaluatePartition(window([10, 5], [10, 8], [10, 9]), false)).toBe('STOP')
  })
  test('behavior: WARN when offsets move but the lag grows every time', () => {
    expect(evaluatePartition(window([10, 5], [12, 8], [15, 9]), true)).toBe('WARN')
    expect(evaluatePartition(window([10, 5], [12, 8], [15, 8]), true)).toBe('OK')
  })
  test('behavior: REWIND when the committed offset goes backwards', () => {
    expect(evaluatePartition(window([10, 0], [4, 6]), true)).toBe('REWIND')
  })
  test('behavior: group status is the worst partition, ERR when offsets are unreadable', () => {
    expect(groupStatus(['OK', 'WARN'])).toBe('WARN')
    expect(groupStatus(['OK', 'STOP', 'WARN'])).toBe('ERR')
    expect(groupStatus(['OK'], false)).toBe('ERR')
    expect(groupStatus([])).toBe('OK')
  })
})
