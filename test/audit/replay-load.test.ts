import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { replayAudit } from '../../consumers/audit/replay.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import { eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import {
  cleanAuditTables,
  projectedCount,
  proveCommand,
  publishCommands,
  startAuditProcess,
  stopProcesses,
  waitForProjected,
} from './support.ts'

/**
 * Replay while the audit service keeps writing (issue 16, item 11): the real audit consumer
 * process chains a steady stream of commands and its relay publishes them while replays run.
 * Every replay must verify — what is written while it reads lies past the ends it took and is
 * for the next replay — and the projection it rebuilds must lose nothing the relay projects
 * meanwhile. Load is bounded: 10 commands every 100 ms on loopback, for the replays' length.
 */
const INITIAL = 600
const PER_TICK = 10
const TICK_MS = 100
const REPLAYS = 3

let testBus: TestBus
let producer: BusProducer
const children: ChildProcess[] = []
let sent = 0

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  startAuditProcess(testBus, 19_478, children)
  await publishCommands(
    testBus,
    producer,
    Array.from({ length: INITIAL }, (_, n) => proveCommand(n)),
  )
  sent = INITIAL
  await waitForProjected(testBus, INITIAL)
}, 180_000)

afterAll(async () => {
  await stopProcesses(children)
  await producer?.disconnect()
  if (testBus) await cleanAuditTables(testBus)
  await testBus?.close()
})

/** Records the audit service has chained so far, in every chain. */
async function chained(): Promise<number> {
  const { rows } = await testBus.pool.query<{ n: string }>(
    'SELECT coalesce(sum(next_sequence), 0)::text AS n FROM audit_chain_heads WHERE scope = $1',
    [testBus.bus.topics.audit.name],
  )
  return Number(rows[0]?.n ?? 0)
}

describe('audit replay under continuous writes', () => {
  test('behavior: replays verify while the audit service writes, and the rebuilt projection keeps up', async () => {
    let writing = true
    const load = (async () => {
      while (writing) {
        const tick = Date.now()
        await publishCommands(
          testBus,
          producer,
          Array.from({ length: PER_TICK }, (_, n) => proveCommand(sent + n)),
        )
        sent += PER_TICK
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, TICK_MS - (Date.now() - tick))))
      }
    })()
    const outcomes: { problems: string[]; writtenDuring: number; ms: number }[] = []
    try {
      for (let round = 0; round < REPLAYS; round++) {
        const before = await chained()
        const started = Date.now()
        const report = await replayAudit(testBus.bus, testBus.pool)
        outcomes.push({
          problems: report.problems.map((problem) => problem.message),
          writtenDuring: (await chained()) - before,
          ms: Date.now() - started,
        })
      }
    } finally {
      writing = false
      await load
    }
    if (process.env.VERIDIS_TEST_VERBOSE)
      process.stderr.write(`replays under load: ${JSON.stringify(outcomes)}\n`)
    for (const outcome of outcomes) {
      expect(outcome.problems).toEqual([])
      // The load really ran while each replay read.
      expect(outcome.writtenDuring).toBeGreaterThan(0)
    }

    // Once the relay has caught up, the projection holds every record exactly once, rebuilds
    // under load notwithstanding, and a last replay agrees.
    await waitForProjected(testBus, sent)
    await eventually(async () => ((await projectedCount(testBus)) === (await chained()) ? true : undefined))
    const final = await replayAudit(testBus.bus, testBus.pool, { rebuild: false })
    expect(final.problems).toEqual([])
    expect(final.records).toBe(sent)
    expect(await projectedCount(testBus)).toBe(sent)
  }, 300_000)
})
