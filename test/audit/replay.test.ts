import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { recordHashOf } from '../../consumers/audit/record.ts'
import { replayAudit } from '../../consumers/audit/replay.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { AuditEvent } from '../../core/bus/types.ts'
import { openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import {
  cleanAuditTables,
  intakeFact,
  PROOF_SECRET,
  proveCommand,
  publishCommands,
  publishFacts,
  rawRecords,
  registerCommand,
  startAuditProcess,
  stopProcesses,
  waitForProjected,
} from './support.ts'

const COMMANDS = 2_400
const REGISTERED = 300
const FACTS = 600
// Each command one record; each registration one more (its subject data stored).
const EXPECTED = COMMANDS + REGISTERED * 2 + FACTS

let testBus: TestBus
let producer: BusProducer
const children: ChildProcess[] = []
let original: Map<number, import('kafkajs').KafkaMessage[]>

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  await publishCommands(testBus, producer, [
    ...Array.from({ length: COMMANDS }, (_, n) => proveCommand(n)),
    ...Array.from({ length: REGISTERED }, (_, n) =>
      registerCommand(`subject-${n % 50}@example.com`, String(1000 + n)),
    ),
  ])
  await publishFacts(
    testBus,
    producer,
    Array.from({ length: FACTS }, (_, n) => intakeFact(n)),
  )
  startAuditProcess(testBus, 19_477, children)
  await waitForProjected(testBus, EXPECTED)
  await stopProcesses(children)
  original = await rawRecords(testBus, testBus.bus.topics.audit.name)
}, 240_000)

afterAll(async () => {
  await stopProcesses(children)
  await producer?.disconnect()
  if (testBus) {
    await cleanAuditTables(testBus)
    const admin = testBus.bus.kafka.admin()
    await admin.connect()
    const copies = ['audit-flipped', 'audit-removed', 'audit-swapped', 'audit-inserted'].map(
      (name) => `${testBus.namespace}.${name}`,
    )
    await admin.deleteTopics({ topics: copies }).catch(() => undefined)
    await admin.disconnect()
  }
  await testBus?.close()
})

/** Writes records to a fresh topic of the namespace, partition by partition, as given. */
async function copyTopic(
  name: string,
  edit: (partition: number, messages: import('kafkajs').KafkaMessage[]) => import('kafkajs').KafkaMessage[],
) {
  const topic = `${testBus.namespace}.${name}`
  const admin = testBus.bus.kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: original.size }], waitForLeaders: true })
  await admin.disconnect()
  const kafka = testBus.bus.kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await kafka.connect()
  for (const [partition, messages] of original) {
    await kafka.send({
      topic,
      acks: -1,
      messages: edit(partition, messages).map((m) => ({
        partition,
        key: m.key,
        value: m.value,
        headers: m.headers,
      })),
    })
  }
  await kafka.disconnect()
  return topic
}

describe('audit replay', () => {
  test('behavior: thousands of records replay, every chain verifies and the projection is rebuilt', async () => {
    const report = await replayAudit(testBus.bus, testBus.pool)
    expect(report.problems).toEqual([])
    expect(report.records).toBe(EXPECTED)
    expect(report.chains.reduce((sum, chain) => sum + chain.verified, 0)).toBe(EXPECTED)
    // Each partition is one chain whose sequences run from 0 without a gap.
    for (const chain of report.chains) expect(chain.nextSequence).toBe(chain.records)
    const { rows } = await testBus.pool.query<{ n: string; ids: string }>(
      'SELECT count(*) AS n, count(DISTINCT audit_id) AS ids FROM audit_records WHERE scope = $1',
      [testBus.bus.topics.audit.name],
    )
    expect(Number(rows[0]!.n)).toBe(EXPECTED)
    expect(Number(rows[0]!.ids)).toBe(EXPECTED)
  }, 120_000)

  test('behavior: no proof input and no raw subject id reaches the topic', () => {
    for (const messages of original.values()) {
      for (const message of messages) {
        const bytes = message.value!.toString('latin1')
        expect(bytes).not.toContain(PROOF_SECRET)
        expect(bytes).not.toContain('@example.com')
      }
    }
  })

  test('error: one flipped byte is reported as changed at its partition and offset', async () => {
    const [partition, messages] = [...original].find(([, list]) => list.length > 20)!
    const target = 17
    const topic = await copyTopic('audit-flipped', (p, list) =>
      p !== partition
        ? list
        : list.map((message, index) => {
            if (index !== target) return message
            const value = Buffer.from(message.value!)
            // Flip a byte inside the action text ("command.…"), so the record still decodes.
            const at = value.indexOf('command.') + 3
            value[at] = value[at]! ^ 0x01
            return { ...message, value }
          }),
    )
    expect(messages.length).toBeGreaterThan(target)
    const report = await replayAudit(testBus.bus, testBus.pool, { topic })
    expect(report.problems.map(({ kind, partition: p, offset }) => ({ kind, p, offset }))).toEqual([
      { kind: 'changed', p: partition, offset: String(target) },
    ])
  }, 120_000)

  test('error: one inserted record with a wrong hash is one report; the genuine records after it verify', async () => {
    const [partition, messages] = [...original].find(([, list]) => list.length > 20)!
    const target = 17
    // A forger puts a tampered copy of record 17 in front of it: same sequence, same link, wrong hash.
    const topic = await copyTopic('audit-inserted', (p, list) => {
      if (p !== partition) return list
      const value = Buffer.from(list[target]!.value!)
      const at = value.indexOf('command.') + 3
      value[at] = value[at]! ^ 0x01
      return [...list.slice(0, target), { ...list[target]!, value }, ...list.slice(target)]
    })
    const report = await replayAudit(testBus.bus, testBus.pool, { topic, rebuild: false })
    expect(report.problems.map(({ kind, partition: p, offset }) => ({ kind, p, offset }))).toEqual([
      { kind: 'changed', p: partition, offset: String(target) },
    ])
    const chain = report.chains.find((c) => c.partition === partition)!
    expect(chain.records).toBe(messages.length + 1)
    // Every genuine record verifies, the one after the forgery included.
    expect(chain.verified).toBe(messages.length)
    expect(chain.nextSequence).toBe(messages.length)
  }, 120_000)

  test('error: a removed record is reported where the gap is', async () => {
    const [partition] = [...original].find(([, list]) => list.length > 20)!
    const topic = await copyTopic('audit-removed', (p, list) =>
      p !== partition ? list : list.filter((_, i) => i !== 9),
    )
    const report = await replayAudit(testBus.bus, testBus.pool, { topic })
    expect(report.problems.map(({ kind, partition: p, offset }) => ({ kind, p, offset }))).toEqual([
      { kind: 'removed', p: partition, offset: '9' },
    ])
  }, 120_000)

  test('error: two swapped records are reported as reordered at the first of them', async () => {
    const [partition] = [...original].find(([, list]) => list.length > 20)!
    const topic = await copyTopic('audit-swapped', (p, list) => {
      if (p !== partition) return list
      const copy = [...list]
      ;[copy[4], copy[5]] = [copy[5]!, copy[4]!]
      return copy
    })
    const report = await replayAudit(testBus.bus, testBus.pool, { topic })
    expect(report.problems.map(({ kind, partition: p, offset }) => ({ kind, p, offset }))).toEqual([
      { kind: 'reordered', p: partition, offset: '4' },
    ])
  }, 120_000)

  test('error: a forged record produced into the live topic is found, with its offset', async () => {
    const auditTopic = testBus.bus.topics.audit.name
    const [partition, list] = [...original].find(([, l]) => l.length > 20)!
    const victim = (await testBus.bus.codec.decodeValue(auditTopic, list[3]!.value)) as AuditEvent
    // A forger rewrites a record and even recomputes its hash: the chain still shows it.
    const forged = { ...victim, action: 'erasure.completed' }
    const sealed = { ...forged, recordHash: recordHashOf(forged) }
    const kafka = testBus.bus.kafka.producer()
    await kafka.connect()
    const [sent] = await kafka.send({
      topic: auditTopic,
      acks: -1,
      messages: [{ partition, key: list[3]!.key, value: testBus.bus.codec.encodeValue(auditTopic, sealed) }],
    })
    await kafka.disconnect()
    const report = await replayAudit(testBus.bus, testBus.pool, { rebuild: false })
    expect(report.problems.map(({ kind, partition: p, offset }) => ({ kind, p, offset }))).toEqual([
      { kind: 'reordered', p: partition, offset: sent!.baseOffset },
    ])
  }, 120_000)

  test('behavior: a replay from an offset verifies the rest of each chain', async () => {
    const report = await replayAudit(testBus.bus, testBus.pool, {
      fromOffset: '100',
      rebuild: false,
      topic: `${testBus.namespace}.audit-removed`,
    })
    expect(report.fromStart).toBe(false)
    // The copy with a record removed at 9: starting at 100 sees no problem.
    expect(report.problems).toEqual([])
  }, 120_000)
})
