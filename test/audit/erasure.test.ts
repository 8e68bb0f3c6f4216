import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
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
import { createCommandSealerFor } from '../../consumers/audit/vault.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { Command } from '../../core/bus/types.ts'
import { loadConfig } from '../../core/config/env.ts'
import type { CommandSealer } from '../../core/crypto/command-seal.ts'
import { loadProverKeyPair } from '../../core/crypto/prover-key.ts'
import { openProveInputs } from '../../core/crypto/prover-seal.ts'
import type { Gateway } from '../../producers/gateway/index.ts'
import { bearer, startTestGateway } from '../gateway/support.ts'
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
let sealer: CommandSealer
let gateway: Gateway | undefined
const children: ChildProcess[] = []
/** Everything the audit consumer process printed: an erased subject must not be in it either. */
let auditOutput = ''

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  keys = loadAuditKeys(loadConfig(testEnv(testBus.namespace)))
  scope = testBus.bus.topics.audit.name
  // Seals as the gateway does: under subject keys of this namespace's vault.
  sealer = await createCommandSealerFor(testBus.common.config, testBus.pool, scope)
  // The retention job stays out of the way (hourly); the test runs it when it wants.
  const audit = startAuditProcess(testBus, OPS_PORT, children, {
    VERIDIS_AUDIT_RETENTION_INTERVAL_MS: '3600000',
    VERIDIS_LOG_LEVEL: 'debug',
  })
  for (const stream of [audit.stdout, audit.stderr])
    stream?.on('data', (chunk: Buffer) => {
      auditOutput += chunk.toString('utf8')
    })
}, 60_000)

afterAll(async () => {
  await gateway?.close()
  await stopProcesses(children)
  await producer?.disconnect()
  await terminateCurves()
  if (testBus) await cleanAuditTables(testBus)
  await testBus?.close()
})

/** Commands as the gateway writes them: subject fields and prove inputs sealed. */
async function publishSealed(commands: readonly Command[]) {
  await publishCommands(testBus, producer, await Promise.all(commands.map((command) => sealer.seal(command))))
}

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
    await publishSealed([
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
    await publishSealed([erase])
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
    await publishSealed([registerCommand(ALICE, '14')])
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

  test('error: a subject id or erasure reason in plain text is refused with the field named, and not acted on', async () => {
    const dave = `dave-${randomBytes(6).toString('hex')}@example.com`
    const plainErasure = erasureCommand(dave)
    const plainRegister = registerCommand(dave, '21')
    await publishCommands(testBus, producer, [plainRegister, plainErasure])
    const refused = await eventually(
      async () => {
        const rows = await recordsOf('command.rejected')
        const ours = rows.filter((row) =>
          [plainErasure.commandId, plainRegister.commandId].includes(row.refs[0] ?? ''),
        )
        return ours.length === 2 ? ours : undefined
      },
      60_000,
      'two refusals',
    )
    const reasons = refused.map((row) => row.details.reason).sort()
    expect(reasons).toEqual([
      expect.stringMatching(/^RegisterAttestationCommand\.subjectId in plain text: .*sealed/),
      expect.stringMatching(
        /^RequestErasureCommand\.subjectId, RequestErasureCommand\.reason in plain text: .*sealed/,
      ),
    ])
    for (const row of refused) {
      expect(row.subject_hash).toBeNull()
      expect(JSON.stringify(row.details)).not.toContain(dave)
    }
    // Nothing was made, stored or erased for the subject.
    const daveHash = subjectHashOf(keys, dave)
    const { rows } = await testBus.pool.query(
      `SELECT 1 FROM audit_subject_keys WHERE scope = $1 AND subject_hash = $2
       UNION ALL SELECT 1 FROM audit_subject_data WHERE scope = $1 AND subject_hash = $2
       UNION ALL SELECT 1 FROM audit_erasures WHERE scope = $1 AND subject_hash = $2`,
      [scope, daveHash],
    )
    expect(rows).toEqual([])
  }, 120_000)

  test('behavior: after an erasure over HTTP, the subject id and reason are on no topic, in no table and in no log', async () => {
    const carol = `carol-${randomBytes(6).toString('hex')}@example.com`
    const reason = `${carol} asked to be forgotten`
    const secret = BigInt(`0x${randomBytes(20).toString('hex')}`).toString()
    gateway = await startTestGateway(testBus)
    const headers = await bearer('dpo', ['attester', 'compliance', 'prover'])
    const post = (url: string, payload: Record<string, unknown>) =>
      gateway!.app.inject({ method: 'POST', url, payload, headers })
    // 503 until the gateway's producer is connected; nothing is accepted before.
    const registered = await eventually(
      async () => {
        const response = await post('/api/v1/attestations', {
          chain: 'eip155:31337',
          registry: `0x${'ab'.repeat(20)}`,
          attestationId: '31',
          root: '1',
          subjectId: carol,
        })
        return response.statusCode === 503 ? undefined : response
      },
      30_000,
      'the gateway to take commands',
    )
    expect(registered.statusCode).toBe(202)
    const proved = await post('/api/v1/proofs/identity', { inputs: { secret: [secret] } })
    expect(proved.statusCode).toBe(202)
    const carolHash = subjectHashOf(keys, carol)
    await eventually(
      async () =>
        (await readSubjectData(testBus.pool, { scope, keys }, carolHash)).length === 1 ? true : undefined,
      60_000,
      "carol's data to be stored",
    )
    const erased = await post('/api/v1/erasure-requests', { subjectId: carol, reason })
    expect(erased.statusCode).toBe(202)
    const erasureId = (erased.json() as { commandId: string }).commandId
    await eventually(
      async () =>
        (await recordsOf('erasure.completed')).some((row) => row.refs[0] === erasureId) ? true : undefined,
      120_000,
      "carol's erasure to complete",
    )

    // What is on the command topic was sealed, not left out: carol's fields name her key, and
    // the prove inputs open with the prover's key (and only there).
    const commandRecords = [...(await rawRecords(testBus, testBus.bus.topics.command.name)).values()].flat()
    const decoded = await Promise.all(
      commandRecords.map(
        async (message) =>
          (await testBus.bus.codec.decodeValue(testBus.bus.topics.command.name, message.value!)) as Command,
      ),
    )
    const erasureOnTopic = decoded.find((command) => command.commandId === erasureId)!
    const sealedErasure = erasureOnTopic.payload['io.veridis.command.RequestErasureCommand']!
    expect(sealedErasure.subjectId).toMatch(new RegExp(`^vsub1\\.${carolHash}\\.`))
    expect(sealedErasure.reason).toMatch(new RegExp(`^vsub1\\.${carolHash}\\.`))
    const proveOnTopic = decoded.find(
      (command) => command.commandId === (proved.json() as { commandId: string }).commandId,
    )!
    const sealedInputs = proveOnTopic.payload['io.veridis.command.ProveCommand']!.inputs
    expect(
      openProveInputs(loadProverKeyPair(testBus.common.config), proveOnTopic.commandId, sealedInputs),
    ).toEqual({
      secret: [secret],
    })

    const needles = [carol, reason, secret]
    const hexNeedles = needles.map((needle) => Buffer.from(needle, 'utf8').toString('hex'))
    // Every topic of the namespace: keys, values and headers, raw bytes.
    for (const topic of testBus.bus.allTopics) {
      for (const message of [...(await rawRecords(testBus, topic.name)).values()].flat()) {
        const bytes = Buffer.concat([
          message.key ?? Buffer.alloc(0),
          message.value ?? Buffer.alloc(0),
          ...Object.values(message.headers ?? {}).map((value) => Buffer.from(String(value))),
        ])
        for (const needle of needles) expect(bytes.includes(needle), `${needle} on ${topic.name}`).toBe(false)
      }
    }
    // Every table of the database, text columns as text and byte columns as hex.
    const { rows: tables } = await testBus.pool.query<{ name: string }>(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    )
    expect(tables.length).toBeGreaterThan(10)
    for (const { name } of tables) {
      const { rows } = await testBus.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${name} AS r WHERE ${needles
          .map((_, i) => `strpos(r::text, $${i + 1}) > 0 OR strpos(r::text, $${needles.length + i + 1}) > 0`)
          .join(' OR ')}`,
        [...needles, ...hexNeedles],
      )
      expect(rows[0]!.n, `a row of ${name} holds the subject id, the reason or the secret`).toBe(0)
    }
    // The audit consumer's output (debug level) and every log of the local stack.
    for (const needle of needles) expect(auditOutput).not.toContain(needle)
    const logDir = path.join(testBus.common.config.home, 'logs')
    for (const file of await readdir(logDir, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue
      const text = await readFile(path.join(file.parentPath, file.name), 'utf8')
      for (const needle of needles) expect(text.includes(needle), `${needle} in ${file.name}`).toBe(false)
    }
  }, 240_000)
})
