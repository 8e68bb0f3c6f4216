import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { appendToChains, type ChainPlacement } from '../../consumers/audit/chain.ts'
import { auditPlacement } from '../../consumers/audit/index.ts'
import { type AuditFactDraft, chainRecord } from '../../consumers/audit/record.ts'
import { createAuditRelay } from '../../consumers/audit/relay.ts'
import { replayAudit } from '../../consumers/audit/replay.ts'
import type { AuditEvent } from '../../core/bus/types.ts'
import { createCommon } from '../../core/context.ts'
import { inTransaction } from '../../core/db/pool.ts'
import { eventually, openTestBus, type TestBus } from '../support/harness.ts'
import { cleanAuditTables, projectedCount, rawRecords } from './support.ts'

let testBus: TestBus
let placement: ChainPlacement
let topic: string

beforeAll(async () => {
  testBus = await openTestBus()
  placement = await auditPlacement(testBus.bus)
  topic = testBus.bus.topics.audit.name
})

afterAll(async () => {
  if (testBus) await cleanAuditTables(testBus)
  await testBus?.close()
})

const draft = (n: number): AuditFactDraft => ({
  auditId: `relay-test:${n}`,
  action: 'command.received',
  actor: { kind: 'SERVICE', id: 'relay-test' },
  subjectHash: null,
  gdprCategory: 'NONE',
  legalBasis: 'NOT_APPLICABLE',
  retentionDays: null,
  references: [`ref-${n}`],
  details: {},
  occurredAt: 1_700_000_000_000 + n,
})

function chain(drafts: AuditFactDraft[]) {
  return inTransaction(testBus.pool, (client) => appendToChains(client, placement, drafts))
}

/** What a relay that died after its Kafka commit, before its Postgres commit, leaves behind. */
async function publishBehindTheRelay(records: { partition: number; key: string; record: AuditEvent }[]) {
  const producer = testBus.bus.kafka.producer({
    transactionalId: `${topic}.relay`,
    idempotent: true,
    maxInFlightRequests: 1,
  })
  await producer.connect()
  const transaction = await producer.transaction()
  await transaction.send({
    topic,
    messages: records.map(({ partition, key, record }) => ({
      partition,
      key: testBus.bus.codec.encodeKey(topic, key),
      value: testBus.bus.codec.encodeValue(topic, record),
    })),
  })
  await transaction.commit()
  await producer.disconnect()
}

function relayProcess() {
  const common = createCommon('test-relay', { config: testBus.common.config, exit: () => undefined })
  const relay = createAuditRelay(common, {
    bus: testBus.bus,
    pool: testBus.pool,
    topic,
    transactionalId: `${topic}.relay`,
  })
  relay.start()
  return { common, relay }
}

async function outboxSize() {
  const { rows } = await testBus.pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM audit_outbox WHERE scope = $1',
    [topic],
  )
  return Number(rows[0]!.n)
}

describe('audit relay', () => {
  test('behavior: records a crashed relay committed to Kafka are projected, not published twice', async () => {
    const placed = await chain(Array.from({ length: 40 }, (_, n) => draft(n)))
    // The crashed relay had published the first half of every chain.
    const prefix = placed.filter(({ partition, record }) => {
      const ofChain = placed.filter((p) => p.partition === partition)
      return record.sequence < Math.floor(ofChain.length / 2)
    })
    await publishBehindTheRelay(prefix)
    const { relay } = relayProcess()
    await eventually(
      async () => ((await outboxSize()) === 0 ? true : undefined),
      60_000,
      'the outbox to drain',
    )
    await relay.stop()
    expect(await projectedCount(testBus)).toBe(40)
    const report = await replayAudit(testBus.bus, testBus.pool, { rebuild: false })
    expect(report.problems).toEqual([])
    expect(report.records).toBe(40)
  }, 120_000)

  test('error: a record on the topic that differs from the chain state is a fork, and the relay stops', async () => {
    const placed = await chain([draft(100), draft(101)])
    const [first] = placed
    // Someone published another record at the position the chain state holds.
    const other = chainRecord(
      { ...draft(999), action: 'forged' },
      { chainId: first!.record.chainId, sequence: first!.record.sequence, prevHash: first!.record.prevHash },
    )
    await publishBehindTheRelay([{ ...first!, record: other }])
    const before = await rawRecords(testBus, topic)
    const { common, relay } = relayProcess()
    await eventually(
      async () => (common.shutdown.signal.aborted ? true : undefined),
      60_000,
      'the relay to stop',
    )
    await relay.stop()
    // Nothing of the chain state's branch was written after the fork.
    const after = await rawRecords(testBus, topic)
    expect([...after.values()].flat().length).toBe([...before.values()].flat().length)
    expect(await outboxSize()).toBe(2)
  }, 120_000)
})
