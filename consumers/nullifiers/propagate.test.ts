import { pino } from 'pino'
import { describe, expect, test, vi } from 'vitest'
import type { Pool, PoolClient } from '../../core/db/pool.ts'
import { advanceAll, createPropagationDriver, type PropagationRow } from './propagate.ts'
import type { createSenderLock } from './sender-lock.ts'
import { AlreadyPresentError, type NullifierWriter } from './writers/writer.ts'

const TARGET = 'eip155:31338'
const MAX_QUERIES = 50

/**
 * A database in which another driver has already finished the row: every guarded UPDATE
 * (state = 'PLANNED') matches nothing. Past MAX_QUERIES it throws, so a driver that keeps
 * trying fails the test instead of hanging it (the loop never yields to a timer).
 */
function finishedElsewhere() {
  const queries: string[] = []
  const query = vi.fn(async (sql: string) => {
    queries.push(sql)
    if (queries.length > MAX_QUERIES) throw new Error(`still querying after ${MAX_QUERIES} queries`)
    return { rows: [], rowCount: 0 }
  })
  return { pool: { query } as unknown as Pool, client: { query } as unknown as PoolClient, queries }
}

function writer(overrides: Partial<NullifierWriter> = {}): NullifierWriter {
  return {
    chain: TARGET,
    sender: '0x0000000000000000000000000000000000000008',
    isUsed: async () => false,
    nextNonce: async () => 0n,
    prepare: async () => ({ txHash: '0xabc', nonce: '0', signed: '0x00' }),
    broadcast: async () => undefined,
    status: async () => ({ state: 'pending' }),
    close: () => undefined,
    ...overrides,
  }
}

function plannedRow(overrides: Partial<PropagationRow> = {}): PropagationRow {
  return {
    source_event_id: 'source-1',
    target_chain: TARGET,
    scope: '1',
    nullifier: '2',
    source_chain: 'eip155:31337',
    merkle_tree_root: '3',
    source_observed_ms: Date.now(),
    state: 'PLANNED',
    outcome: null,
    nonce: null,
    tx_hash: null,
    signed_tx: null,
    attempts: 0,
    reason: null,
    latency_ms: null,
    source_retracted: false,
    completed_ms: null,
    sent_ms: null,
    ...overrides,
  }
}

function driverFor(target: NullifierWriter) {
  const db = finishedElsewhere()
  const publish = vi.fn(async () => undefined)
  const onOutcome = vi.fn()
  const withSenderLock = (async (
    _chain: string,
    _sender: string,
    work: (client: PoolClient) => Promise<unknown>,
  ) => work(db.client)) as ReturnType<typeof createSenderLock>
  const driver = createPropagationDriver({
    pool: db.pool,
    writers: new Map([[TARGET, target]]),
    withSenderLock,
    logger: pino({ level: 'silent' }),
    maxAttempts: 3,
    backoffMs: 1,
    backoffMaxMs: 1,
    fault: undefined,
    publish,
    onOutcome,
  })
  return { driver, db, publish, onOutcome }
}

const context = { signal: new AbortController().signal, heartbeat: async () => undefined }

describe('propagation driver: a row another driver already finished', () => {
  test.each([
    ['the source use was retracted', plannedRow({ source_retracted: true }), writer()],
    ['the target already holds the nullifier', plannedRow(), writer({ isUsed: async () => true })],
    [
      'the registry refuses the write as already used',
      plannedRow(),
      writer({
        prepare: async () => {
          throw new AlreadyPresentError('already there')
        },
      }),
    ],
  ])(
    'behavior: %s → advance returns after one guarded update, nothing published',
    async (_case, row, target) => {
      const { driver, db, publish, onOutcome } = driverFor(target)
      await driver.advance(row, context)
      expect(db.queries.filter((sql) => sql.includes("SET state = 'DONE'"))).toHaveLength(1)
      expect(publish).not.toHaveBeenCalled()
      expect(onOutcome).not.toHaveBeenCalled()
    },
  )
})

describe('advanceAll', () => {
  const rows = Array.from({ length: 10 }, (_, index) => plannedRow({ source_event_id: `source-${index}` }))

  test('behavior: heartbeats before advancing each propagation', async () => {
    const events: string[] = []
    const heartbeat = vi.fn(async () => {
      events.push('heartbeat')
    })
    await advanceAll(
      {
        advance: async (row) => {
          events.push(row.source_event_id)
        },
      },
      rows,
      { signal: new AbortController().signal, heartbeat },
      1,
    )
    expect(events).toEqual(rows.flatMap((row) => ['heartbeat', row.source_event_id]))
  })

  test('error: a heartbeat that throws stops the rest and is rethrown', async () => {
    const advanced: string[] = []
    let beats = 0
    const abandoned = new Error('partition taken away')
    const heartbeat = async () => {
      if (++beats > 3) throw abandoned
    }
    await expect(
      advanceAll(
        {
          advance: async (row) => {
            advanced.push(row.source_event_id)
          },
        },
        rows,
        { signal: new AbortController().signal, heartbeat },
        2,
      ),
    ).rejects.toBe(abandoned)
    expect(advanced).toHaveLength(3)
  })
})
