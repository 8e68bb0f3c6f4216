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
    expect(verify(forged)).toEqual(['broken-link@5', 'broken-link@6'])
  })

  test('error: a chain that does not start at sequence 0 is missing its beginning', () => {
    expect(verify(chainOf(10).slice(3))).toEqual(['removed@0'])
    // From an offset, the first record read is trusted as the start.
    expect(verify(chainOf(10).slice(3), false)).toEqual([])
  })
})
