import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { Finality } from '../../core/bus/types.ts'
import { pruneProcessedMessages } from '../../core/db/exactly-once.ts'
import { runConsumerProcess } from '../../core/service/consumer-process.ts'
import { createChainEventPublisher } from '../../producers/chains/common/publisher.ts'
import { eventually, openTestBus, type TestBus, testProducer } from '../../test/support/harness.ts'
import { sampleNullifier } from '../../test/support/records.ts'
import { ledgerConsumer } from './index.ts'
import { applyChainEvents, type ChainEventValue } from './project.ts'

let testBus: TestBus
let producer: BusProducer
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  const running = await runConsumerProcess(testBus.common, ledgerConsumer, { opsPort: 0 })
  stop = () => running.runner.stop()
})

afterAll(async () => {
  await stop?.()
  await producer?.disconnect()
  await testBus?.close()
})

async function finalityOf(eventIds: string[]): Promise<Record<string, string>> {
  const { rows } = await testBus.pool.query<{ event_id: string; finality: string }>(
    'SELECT event_id, finality FROM chain_events WHERE event_id = ANY($1)',
    [eventIds],
  )
  return Object.fromEntries(rows.map((row) => [row.event_id, row.finality]))
}

describe('ledger consumer', () => {
  test('behavior: follows each fact to FINALIZED or RETRACTED, never backwards, and a finalized re-inclusion wins', async () => {
    const publisher = createChainEventPublisher({ bus: testBus.bus, producer })
    const facts = [0, 1, 2, 3].map((n) => sampleNullifier(n, testBus.namespace))
    const at = (index: number, finality: Finality) => ({
      topic: 'nullifier' as const,
      value: { ...facts[index]!, envelope: { ...facts[index]!.envelope, finality } },
    })
    // 0: finalized; 1: retracted by a reorg; 2: a late PENDING replay after FINALIZED must not
    // regress it; 3: reorg A→B→A — retracted, included again, then finalized.
    await publisher.publish([
      at(0, 'PENDING'),
      at(1, 'PENDING'),
      at(2, 'PENDING'),
      at(0, 'FINALIZED'),
      at(1, 'RETRACTED'),
      at(2, 'FINALIZED'),
    ])
    await publisher.publish([at(2, 'PENDING')])
    await publisher.publish([at(3, 'PENDING'), at(3, 'RETRACTED')])
    await publisher.publish([at(3, 'PENDING'), at(3, 'FINALIZED')])

    const ids = facts.map((fact) => fact.envelope.eventId)
    const expected = {
      [ids[0]!]: 'FINALIZED',
      [ids[1]!]: 'RETRACTED',
      [ids[2]!]: 'FINALIZED',
      [ids[3]!]: 'FINALIZED',
    }
    await eventually(
      async () => {
        const stats = await testBus.pool.query<{ total: number }>(
          'SELECT COALESCE(SUM(events_total), 0)::int AS total FROM chain_event_stats WHERE topic = $1',
          [testBus.bus.topics.nullifier.name],
        )
        // 11 messages; the replayed PENDING of fact 2 and the second PENDING of fact 3 are
        // recognised as already applied.
        return stats.rows[0]!.total === 9 ? true : undefined
      },
      30_000,
      'ledger to apply the events',
    )
    expect(await finalityOf(ids)).toEqual(expected)

    const { rows } = await testBus.pool.query<{ kind: string; chain: string; block_number: number }>(
      'SELECT kind, chain, block_number FROM chain_events WHERE event_id = $1',
      [ids[0]],
    )
    expect(rows[0]).toEqual({
      kind: 'NullifierUsed',
      chain: facts[0]!.envelope.chain,
      block_number: facts[0]!.envelope.blockNumber,
    })
  })
})

describe('ledger kinds', () => {
  test('behavior: a nullifier fact is named after its on-chain log: NullifierUsed, NullifierRelayed, NullifierUsedWithProof', async () => {
    const publisher = createChainEventPublisher({ bus: testBus.bus, producer })
    const [used, relayed, withProof] = [10, 11, 12].map((n) => sampleNullifier(n, testBus.namespace))
    const relayedCopy = { ...relayed!, source: 'RELAYER' as const, originChain: 'eip155:31337' }
    const usedWithProof = {
      ...withProof!,
      proof: {
        piA: ['1', '2', '1'],
        piB: [
          ['1', '2'],
          ['3', '4'],
          ['1', '0'],
        ],
        piC: ['5', '6', '1'],
        protocol: 'groth16',
        curve: 'bn128',
      },
      publicSignals: ['1', '2', '3', '4'],
      message: '7',
    }
    await publisher.publish(
      [used!, relayedCopy, usedWithProof].map((value) => ({ topic: 'nullifier' as const, value })),
    )
    const ids = [used!, relayedCopy, usedWithProof].map((value) => value.envelope.eventId)
    const kinds = await eventually(
      async () => {
        const { rows } = await testBus.pool.query<{ event_id: string; kind: string }>(
          'SELECT event_id, kind FROM chain_events WHERE event_id = ANY($1)',
          [ids],
        )
        return rows.length === 3 ? Object.fromEntries(rows.map((row) => [row.event_id, row.kind])) : undefined
      },
      30_000,
      'ledger to apply the nullifier events',
    )
    expect(kinds).toEqual({
      [ids[0]!]: 'NullifierUsed',
      [ids[1]!]: 'NullifierRelayed',
      [ids[2]!]: 'NullifierUsedWithProof',
    })
  })
})

describe('ledger transitions', () => {
  test('behavior: two statements applying the same facts at once (a zombie member and its successor) count each transition once', async () => {
    const topic = testBus.bus.topics.nullifier.name
    const facts = Array.from({ length: 2_000 }, (_, n) =>
      sampleNullifier(100 + n, `${testBus.namespace}-race`),
    )
    const message = (index: number, finality: Finality, offset: number) =>
      ({
        topic,
        partition: 0,
        offset: String(offset),
        value: { ...facts[index]!, envelope: { ...facts[index]!.envelope, finality } },
      }) as unknown as ConsumedMessage<ChainEventValue>
    const pending = facts.map((_, index) => message(index, 'PENDING', index))
    const finalized = facts.flatMap((_, index) => [
      message(index, 'PENDING', index),
      message(index, 'FINALIZED', facts.length + index),
    ])
    const totals = async () => {
      const { rows } = await testBus.pool.query<{ finality: Finality; total: number }>(
        `SELECT finality, SUM(events_total)::int AS total FROM chain_event_stats
         WHERE topic = $1 AND chain = ANY($2) GROUP BY finality`,
        [topic, [...new Set(facts.map((fact) => fact.envelope.chain))]],
      )
      const byFinality = { PENDING: 0, SAFE: 0, FINALIZED: 0, RETRACTED: 0 }
      for (const row of rows) byFinality[row.finality] = row.total
      return byFinality
    }
    const before = await totals()
    const clients = await Promise.all([testBus.pool.connect(), testBus.pool.connect()])
    try {
      // Each fact reaches PENDING and FINALIZED once, whichever statement commits first: the
      // later one sees the row the first one wrote (not its own snapshot) and counts only
      // what it moves beyond that.
      const transitions = await Promise.all([
        applyChainEvents(pending, clients[0]),
        applyChainEvents(finalized, clients[1]),
      ])
      expect(transitions[0] + transitions[1]).toBe(2 * facts.length)
      expect(await applyChainEvents(finalized, clients[0])).toBe(0)
    } finally {
      for (const client of clients) client.release()
    }
    const after = await totals()
    expect({
      PENDING: after.PENDING - before.PENDING,
      FINALIZED: after.FINALIZED - before.FINALIZED,
    }).toEqual({
      PENDING: facts.length,
      FINALIZED: facts.length,
    })
    const ids = facts.map((fact) => fact.envelope.eventId)
    expect(Object.values(await finalityOf(ids)).filter((finality) => finality === 'FINALIZED')).toHaveLength(
      facts.length,
    )
  })
})

describe('exactly-once bookkeeping', () => {
  test('behavior: ids older than the retention are pruned, recent ones kept', async () => {
    const group = `${testBus.namespace}.prune-test`
    await testBus.pool.query(
      `INSERT INTO bus_processed_messages (consumer_group, message_id, processed_at)
       SELECT $1, 'old-' || n, now() - interval '40 days' FROM generate_series(1, 25000) AS n
       UNION ALL SELECT $1, 'new-' || n, now() FROM generate_series(1, 10) AS n`,
      [group],
    )
    expect(await pruneProcessedMessages(testBus.pool, group, 30)).toBe(25_000)
    const { rows } = await testBus.pool.query<{ count: number }>(
      'SELECT COUNT(*)::int AS count FROM bus_processed_messages WHERE consumer_group = $1',
      [group],
    )
    expect(rows[0]!.count).toBe(10)
    await testBus.pool.query('DELETE FROM bus_processed_messages WHERE consumer_group = $1', [group])
  })
})
