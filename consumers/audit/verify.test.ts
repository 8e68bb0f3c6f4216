import { describe, expect, test } from 'vitest'
import type { AuditEvent } from '../../core/bus/types.ts'
import { chainIdOf, chainRecord, GENESIS_HASH, recordHashOf } from './record.ts'
import { createChainVerifier } from './verify.ts'

function chainOf(length: number, partition = 0): AuditEvent[] {
  const records: AuditEvent[] = []
  let prevHash = GENESIS_HASH
  for (let sequence = 0; sequence < length; sequence++) {
    const record = chainRecord(
      {
        auditId: `a${sequence}`,
        action: 'command.received',
        actor: { kind: 'SERVICE', id: 'test' },
        subjectHash: null,
        gdprCategory: 'NONE',
        legalBasis: 'NOT_APPLICABLE',
        retentionDays: null,
        references: [`r${sequence}`],
        details: { b: '2', a: '1' },
        occurredAt: 1_700_000_000_000 + sequence,
      },
      { chainId: chainIdOf(partition), sequence, prevHash },
    )
    records.push(record)
    prevHash = record.recordHash
  }
  return records
}

function verify(records: readonly AuditEvent[], fromStart = true) {
  const verifier = createChainVerifier({ fromStart })
  for (const [offset, record] of records.entries()) verifier.accept(0, String(offset), record)
  return verifier.problems.map(({ kind, offset }) => `${kind}@${offset}`)
}

describe('chain verification', () => {
  test('behavior: an intact chain verifies; details order does not change the hash', () => {
    const records = chainOf(10)
    expect(verify(records)).toEqual([])
    const reordered = { ...records[3]!, details: { a: '1', b: '2' } }
    expect(recordHashOf(reordered)).toBe(records[3]!.recordHash)
  })

  test('error: a changed field is reported once, at its offset', () => {
    const records = chainOf(10)
    records[4] = { ...records[4]!, actor: { kind: 'SERVICE', id: 'tset' } }
    expect(verify(records)).toEqual(['changed@4'])
  })

  test('error: a removed record, a swap and a forged link are told apart', () => {
    const removed = chainOf(10).filter((_, index) => index !== 6)
    expect(verify(removed)).toEqual(['removed@6'])
    const swapped = chainOf(10)
    ;[swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!]
    expect(verify(swapped)).toEqual(['reordered@2'])
    // A record rewritten with a recomputed hash no longer links to its predecessor's successor.
    const forged = chainOf(10)
    const rewritten = { ...forged[5]!, prevHash: '1'.repeat(64) }
    forged[5] = { ...rewritten, recordHash: recordHashOf(rewritten) }
    // One bad record, one report: record 6 links to the genuine 5 the forgery replaced.
    expect(verify(forged)).toEqual(['broken-link@5'])
  })

  test('error: a record with a wrong hash in front of genuine ones is reported alone', () => {
    const records = chainOf(10)
    // A copy of record 5 claiming its sequence and link, with content that does not match its hash.
    const inserted = { ...records[5]!, action: 'erasure.completed' }
    const withForgery = [...records.slice(0, 5), inserted, ...records.slice(5)]
    expect(verify(withForgery)).toEqual(['changed@5'])
    // Claiming a later sequence, or another hash, blames nobody else either.
    const aheadAndRelinked = { ...inserted, sequence: 7, recordHash: '2'.repeat(64) }
    expect(verify([...records.slice(0, 5), aheadAndRelinked, ...records.slice(5)])).toEqual(['changed@5'])
    // Two in a row, and one that does not decode, likewise.
    const verifier = createChainVerifier({ fromStart: true })
    for (const [offset, record] of records.slice(0, 5).entries()) verifier.accept(0, String(offset), record)
    verifier.accept(0, '5', inserted)
    verifier.undecodable(0, '6', 'garbage')
    for (const [index, record] of records.slice(5).entries()) verifier.accept(0, String(7 + index), record)
    expect(verifier.problems.map(({ kind, offset }) => `${kind}@${offset}`)).toEqual([
      'changed@5',
      'undecodable@6',
    ])
    expect(verifier.chains.get(0)!.verified).toBe(10)
  })

  test('error: a record changed in place, even in its hash, is one report; so is a changed last record', () => {
    const records = chainOf(10)
    records[4] = { ...records[4]!, recordHash: '3'.repeat(64) }
    expect(verify(records)).toEqual(['changed@4'])
    const verifier = createChainVerifier({ fromStart: true })
    const last = chainOf(10)
    last[9] = { ...last[9]!, action: 'erasure.completed' }
    for (const [offset, record] of last.entries()) verifier.accept(0, String(offset), record)
    expect(verifier.problems.map(({ kind }) => kind)).toEqual(['changed'])
    // The changed record may stand for the tenth: a chain state of 10 published records is met.
    expect(verifier.reach(0)).toBe(10)
  })

  test('error: a second record at a sequence, linked like the first, is one report; the chain goes on', () => {
    const records = chainOf(10)
    const sibling = { ...records[5]!, action: 'erasure.completed' }
    const sealed = { ...sibling, recordHash: recordHashOf(sibling) }
    // The forgery first, then the genuine record 5 and the rest, which link to the genuine one.
    expect(verify([...records.slice(0, 5), sealed, ...records.slice(5)])).toEqual(['reordered@6'])
  })

  test('behavior: an anchor from the chain state is found, or the record in its place is named', () => {
    const records = chainOf(10)
    const anchors = new Map([[0, { sequence: 6, recordHash: records[6]!.recordHash }]])
    const matching = createChainVerifier({ fromStart: true, anchors })
    for (const [offset, record] of records.entries()) matching.accept(0, String(offset), record)
    expect(matching.anchorOutcome(0)).toEqual({ matched: true })
    const other = createChainVerifier({
      fromStart: true,
      anchors: new Map([[0, { sequence: 6, recordHash: '4'.repeat(64) }]]),
    })
    for (const [offset, record] of records.entries()) other.accept(0, String(offset), record)
    expect(other.anchorOutcome(0)).toEqual({ matched: false, mismatchOffset: '6' })
  })

  test('error: a chain that does not start at sequence 0 is missing its beginning', () => {
    expect(verify(chainOf(10).slice(3))).toEqual(['removed@0'])
    // From an offset, the first record read is trusted as the start.
    expect(verify(chainOf(10).slice(3), false)).toEqual([])
  })
})
