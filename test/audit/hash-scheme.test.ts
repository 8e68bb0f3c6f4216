import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import {
  type AuditFactDraft,
  chainIdOf,
  chainRecord,
  GENESIS_HASH,
  recordHashOf,
} from '../../consumers/audit/record.ts'
import type { AuditEvent } from '../../core/bus/types.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'

/**
 * docs/audit.md must give the whole record-hash scheme (issue 16, item 13): an outside verifier
 * reading only the page matched none of 50 records. The page carries a worked example and a
 * Python verifier written from its description; this test runs that block as the page has it
 * (Python's JSON writer, not ours) on the example and on records the audit service hashed, so
 * the page cannot drift from `recordHashOf`.
 */
const page = readFileSync(path.join(PROJECT_ROOT, 'docs', 'audit.md'), 'utf8')

/** The fenced block right after `<!-- audit-hash-example:<name> -->`. */
function block(name: string): string {
  const found = new RegExp(`<!-- audit-hash-example:${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``).exec(
    page,
  )
  if (!found?.[1]) throw new Error(`docs/audit.md has no worked-example block '${name}'`)
  return found[1]
}

/** Runs the page's Python verifier on records (one JSON line each): per record, its hash and verdict. */
function pythonVerifier(records: readonly unknown[]): { hash: string; verdict: string }[] {
  const run = spawnSync('python3', ['-c', block('verifier')], {
    input: records.map((record) => JSON.stringify(record)).join('\n'),
    encoding: 'utf8',
  })
  if (run.status !== 0) throw new Error(`the page's verifier failed: ${run.stderr}`)
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [hash = '', verdict = ''] = line.split(' ')
      return { hash, verdict }
    })
}

/** Records hashed by the service, with what trips a verifier up: escapes, non-ASCII, key order, nulls. */
function awkwardRecords(): AuditEvent[] {
  const drafts: Pick<AuditFactDraft, 'details' | 'subjectHash' | 'retentionDays' | 'references'>[] = [
    {
      details: {
        'z-last': 'a "quoted" \\ back\\slash',
        'a-first': 'tab\there\nnewline \u0001 \u001f \u007f /',
      },
      subjectHash: null,
      retentionDays: null,
      references: [],
    },
    {
      // U+1F600 is the surrogate pair D83D DE00: before U+FB01 in UTF-16 order, after it in code points.
      details: { '\u{1F600}': 'emoji key', '\uFB01': 'ligature key', é: 'café, Straße, 日本' },
      subjectHash: 'ab'.repeat(32),
      retentionDays: 0,
      references: ['one', 'two', 'erasure:三'],
    },
    { details: {}, subjectHash: 'cd'.repeat(32), retentionDays: 2_147_483_647, references: ['\u2028\u2029'] },
  ]
  let prevHash = GENESIS_HASH
  return drafts.map((draft, sequence) => {
    const record = chainRecord(
      {
        auditId: `awkward-${sequence}`,
        action: 'subject.data.stored',
        actor: { kind: 'USER', id: 'dpo ü' },
        gdprCategory: 'SPECIAL_CATEGORY',
        legalBasis: 'LEGAL_OBLIGATION',
        occurredAt: 1_764_583_200_123 + sequence,
        ...draft,
      },
      { chainId: chainIdOf(2), sequence, prevHash },
    )
    prevHash = record.recordHash
    return record
  })
}

describe('the record hash as docs/audit.md gives it', () => {
  test('behavior: the worked example: its text hashes to its hash, which the service computes too', () => {
    const record = JSON.parse(block('record')) as AuditEvent
    const canonical = block('canonical')
    const hash = block('hash').trim()
    expect(createHash('sha256').update(canonical, 'utf8').digest('hex')).toBe(hash)
    expect(page).toContain(`one line, ${Buffer.byteLength(canonical, 'utf8')} bytes in UTF-8`)
    expect(record.recordHash).toBe(hash)
    expect(recordHashOf(record)).toBe(hash)
  })

  test("behavior: the page's Python verifier recomputes the example and the service's awkward records", () => {
    const example = JSON.parse(block('record')) as AuditEvent
    const awkward = awkwardRecords()
    const results = pythonVerifier([example, ...awkward])
    expect(results).toEqual(
      [example, ...awkward].map((record) => ({ hash: record.recordHash, verdict: 'ok' })),
    )
  })

  test("error: the page's verifier tells a changed record", () => {
    const [record] = awkwardRecords()
    const changed = { ...record!, occurredAt: record!.occurredAt + 1 }
    expect(pythonVerifier([changed])).toEqual([{ hash: recordHashOf(changed), verdict: 'MISMATCH' }])
  })
})
