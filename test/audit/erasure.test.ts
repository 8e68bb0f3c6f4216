import type { ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ERASURE } from '../../circuits/catalog.ts'
import { terminateCurves } from '../../circuits/curve.ts'
import { exportSubject } from '../../consumers/audit/export.ts'
import { auditPlacement } from '../../consumers/audit/index.ts'
import {
  type AuditKeys,
  loadAuditKeys,
  open,
  subjectHashOf,
  UndecryptableError,
  unwrapDataKey,
} from '../../consumers/audit/keys.ts'
import { replayAudit } from '../../consumers/audit/replay.ts'
import { countOverdue, purgeExpired } from '../../consumers/audit/retention.ts'
import { readSubjectData } from '../../consumers/audit/subjects.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import { loadConfig } from '../../core/config/env.ts'
import { eventually, openTestBus, type TestBus, testEnv, testProducer } from '../support/harness.ts'
import {
  cleanAuditTables,
  erasureCommand,
  projectedCount,
  publishCommands,
  rawRecords,
  registerCommand,
  startAuditProcess,
  stopProcesses,
  waitForProjected,
} from './support.ts'

const OPS_PORT = 19_478
const ALICE = 'alice@example.com'
const BOB = 'bob@example.com'

let testBus: TestBus
let producer: BusProducer
let keys: AuditKeys
let scope: string
const children: ChildProcess[] = []

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  keys = loadAuditKeys(loadConfig(testEnv(testBus.namespace)))
  scope = testBus.bus.topics.audit.name
  // The retention job stays out of the way (hourly); the test runs it when it wants.
  startAuditProcess(testBus, OPS_PORT, children, { VERIDIS_AUDIT_RETENTION_INTERVAL_MS: '3600000' })
}, 60_000)

afterAll(async () => {
  await stopProcesses(children)
  await producer?.disconnect()
  await terminateCurves()
  if (testBus) await cleanAuditTables(testBus)
  await testBus?.close()
})

async function recordsOf(action: string) {
  const { rows } = await testBus.pool.query<{
    refs: string[]
    details: Record<string, string>
    subject_hash: string | null
  }>('SELECT refs, details, subject_hash FROM audit_records WHERE scope = $1 AND action = $2', [
    scope,
    action,
  ])
  return rows
}

async function gauge(): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${OPS_PORT}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('gdpr_data_retention_violations'))
  return line === undefined ? undefined : Number(line.split(' ').pop())
}

describe('erasure, retention and access', () => {
  test('behavior: subject data is stored encrypted, and the access report decrypts it', async () => {
    await publishCommands(testBus, producer, [
      registerCommand(ALICE, '11'),
      registerCommand(ALICE, '12'),
      registerCommand(BOB, '13'),
    ])
    await waitForProjected(testBus, 6)
    const { rows } = await testBus.pool.query<{ ciphertext: Buffer }>(
      'SELECT ciphertext FROM audit_subject_data WHERE scope = $1',
      [scope],
    )
    expect(rows).toHaveLength(3)
    for (const row of rows) expect(row.ciphertext.toString('latin1')).not.toContain('@example.com')

    const report = await exportSubject(testBus.pool, {
      keys,
      placement: await auditPlacement(testBus.bus),
      subjectId: ALICE,
      requestedBy: 'test',
    })
    expect(report.state).toBe('held')
    expect(report.personalData.map((item) => item.value)).toEqual([ALICE, ALICE])
    expect(report.auditTrail.map((entry) => entry.action).sort()).toEqual([
      'command.received',
      'command.received',
      'subject.data.stored',
      'subject.data.stored',
    ])
    // The export itself is on the trail.
    await eventually(async () =>
      (await recordsOf('subject.access.exported')).length === 1 ? true : undefined,
    )
  }, 120_000)

  test('behavior: an erasure destroys the key, its proof verifies, and the chain still verifies', async () => {
    const aliceHash = subjectHashOf(keys, ALICE)
    const { rows: before } = await testBus.pool.query<{ wrapped_key: Buffer }>(
      'SELECT wrapped_key FROM audit_subject_keys WHERE scope = $1 AND subject_hash = $2',
      [scope, aliceHash],
    )
    const formerKey = unwrapDataKey(keys, aliceHash, before[0]!.wrapped_key)
    const erase = erasureCommand(ALICE)
    await publishCommands(testBus, producer, [erase])
    const [completed] = await eventually(
      async () => {
        const rows = await recordsOf('erasure.completed')
        return rows.length > 0 ? rows : undefined
      },
      120_000,
      'the erasure to complete',
    )
    expect(completed!.subject_hash).toBe(aliceHash)
    expect(completed!.refs).toEqual([erase.commandId, `erasure:${erase.commandId}`])
    expect(completed!.details.proofVerified).toBe('true')

    // The data is unreadable: no key, and the ciphertexts do not open under the master key either.
    await expect(readSubjectData(testBus.pool, { scope, keys }, aliceHash)).rejects.toThrow(
      UndecryptableError,
    )
    const { rows: keyRows } = await testBus.pool.query<{ wrapped_key: Buffer | null }>(
      'SELECT wrapped_key FROM audit_subject_keys WHERE scope = $1 AND subject_hash = $2',
      [scope, aliceHash],
    )
    expect(keyRows[0]!.wrapped_key).toBeNull()
    const { rows: data } = await testBus.pool.query<{
      iv: Buffer
      ciphertext: Buffer
      kind: string
      reference: string
    }>(
      'SELECT iv, ciphertext, kind, reference FROM audit_subject_data WHERE scope = $1 AND subject_hash = $2',
      [scope, aliceHash],
    )
    expect(data).toHaveLength(2)
    for (const row of data) {
      expect(() =>
        open(keys.masterKey, row, `subject-data:${aliceHash}:${row.kind}:${row.reference}`),
      ).toThrow(UndecryptableError)
      // Control: the destroyed key did open it, so the test would see a wrong key path.
      expect(open(formerKey, row, `subject-data:${aliceHash}:${row.kind}:${row.reference}`).toString()).toBe(
        ALICE,
      )
    }
    // Bob is untouched.
    const bob = await readSubjectData(testBus.pool, { scope, keys }, subjectHashOf(keys, BOB))
    expect(bob.map((item) => item.value)).toEqual([BOB])

    // The proof verifies against the committed verification key; a changed root does not.
    const { rows: proofs } = await testBus.pool.query<{
      proof: snarkjs.Groth16Proof
      public_signals: string[]
      new_root: string
    }>('SELECT proof, public_signals, new_root FROM audit_erasures WHERE scope = $1 AND subject_hash = $2', [
      scope,
      aliceHash,
    ])
    const vkey = JSON.parse(await readFile(ERASURE.artifacts.vkey, 'utf8'))
    expect(await snarkjs.groth16.verify(vkey, proofs[0]!.public_signals, proofs[0]!.proof)).toBe(true)
    const forged = [...proofs[0]!.public_signals]
    forged[2] = (BigInt(forged[2]!) + 1n).toString()
    expect(await snarkjs.groth16.verify(vkey, forged, proofs[0]!.proof)).toBe(false)
    expect(proofs[0]!.public_signals[2]).toBe(proofs[0]!.new_root)
    expect(completed!.details.newRoot).toBe(proofs[0]!.new_root)

    // New data for an erased subject is refused, and said so on the trail.
    await publishCommands(testBus, producer, [registerCommand(ALICE, '14')])
    await eventually(async () => ((await recordsOf('subject.data.refused')).length === 1 ? true : undefined))

    const report = await replayAudit(testBus.bus, testBus.pool, { rebuild: false })
    expect(report.problems).toEqual([])
    const access = await exportSubject(testBus.pool, {
      keys,
      placement: await auditPlacement(testBus.bus),
      subjectId: ALICE,
      requestedBy: 'test',
    })
    expect(access.state).toBe('erased')
    expect(access.personalData).toEqual([])
    expect(access.erasures).toHaveLength(1)
    // The erasure reason (free text naming the subject) never reaches the topic.
    for (const messages of (await rawRecords(testBus, scope)).values())
      for (const message of messages) expect(message.value!.toString('latin1')).not.toContain(ALICE)
  }, 180_000)

  test('behavior: retention purges overdue data, leaves audit records, and the gauge counts what is overdue', async () => {
    const bobHash = subjectHashOf(keys, BOB)
    await testBus.pool.query(
      `UPDATE audit_subject_data SET retain_until = now() - interval '1 day' WHERE scope = $1 AND subject_hash = $2`,
      [scope, bobHash],
    )
    expect(await countOverdue(testBus.pool, scope)).toBe(1)
    await eventually(async () => ((await gauge()) === 1 ? true : undefined), 30_000, 'the gauge to show 1')
    const beforePurge = await projectedCount(testBus)
    expect(await purgeExpired(testBus.pool, await auditPlacement(testBus.bus))).toBe(1)
    expect(await countOverdue(testBus.pool, scope)).toBe(0)
    const { rows } = await testBus.pool.query(
      'SELECT 1 FROM audit_subject_data WHERE scope = $1 AND subject_hash = $2',
      [scope, bobHash],
    )
    expect(rows).toHaveLength(0)
    await eventually(async () => ((await gauge()) === 0 ? true : undefined), 30_000, 'the gauge to show 0')
    await waitForProjected(testBus, beforePurge + 1)
    const [purged] = await recordsOf('retention.purged')
    expect(purged!.subject_hash).toBe(bobHash)
    expect((await replayAudit(testBus.bus, testBus.pool, { rebuild: false })).problems).toEqual([])
  }, 120_000)
})
