import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadConfig } from '../../core/config/env.ts'
import { MIGRATIONS_DIR, migrate } from '../../core/db/migrate.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'
import { chainMetrics } from '../../core/metrics/protocol.ts'
import { createChainFollower } from '../../producers/chains/common/engine.ts'
import { type ChainEvent, createChainEventPublisher } from '../../producers/chains/common/publisher.ts'
import { createCursorStore } from '../../producers/chains/common/store/cursor-store.ts'
import { createListenerStateWriter } from '../../producers/chains/common/store/listener-state.ts'
import { resolveChain } from '../../producers/chains/evm/config.ts'
import { evmFamily } from '../../producers/chains/evm/family.ts'
import { eventually, openTestBus, type TestBus, testEnv, testProducer } from '../support/harness.ts'
import { chainEntry, startTestChain, type TestChain } from './support.ts'

/**
 * Upgrading a running installation: its EVM listener kept cursors in the evm_listener_*
 * tables (migrations up to 0009). After the upgrade (migration 0010 and the family-neutral
 * engine) the same listener resumes from the block its old cursor named: nothing at or
 * below it again, nothing after it missed. The old schema lives in a schema of its own on
 * the stack's Postgres, so the shared tables are not touched.
 */
const schema = `upgrade_${Date.now().toString(36)}`
let chain: TestChain
let testBus: TestBus
let pool: Pool

beforeAll(async () => {
  chain = await startTestChain()
  testBus = await openTestBus()
  await testBus.pool.query(`CREATE SCHEMA ${schema}`)
  const url = new URL(testBus.common.config.database.url)
  url.searchParams.set('options', `-c search_path=${schema}`)
  pool = createPool(
    loadConfig({ ...testEnv(testBus.namespace), VERIDIS_DATABASE_URL: url.toString() }).database,
    testBus.common.logger,
    'veridis-upgrade-test',
  )
})

afterAll(async () => {
  await pool?.end()
  await testBus?.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await testBus?.close()
  await chain?.stop()
})

describe('upgrade: listener cursors in the old evm_listener_* tables', () => {
  test('behavior: after migrating, the listener resumes from the block the old cursor named', async () => {
    // The installation before the upgrade: migrations 0001–0009 only.
    const before = mkdtempSync(path.join(os.tmpdir(), 'veridis-migrations-'))
    try {
      for (const file of readdirSync(MIGRATIONS_DIR).filter((name) => name < '0010')) {
        copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(before, file))
      }
      await migrate(pool, before)
    } finally {
      rmSync(before, { recursive: true, force: true })
    }

    // Three nullifier uses in three blocks; the old listener had published the first two.
    const recordUse = chain.contract('NullifierRegistry').getFunction('recordUse')
    const receipts = []
    for (const nullifier of [1n, 2n, 3n]) receipts.push((await (await recordUse(5n, nullifier, 1n)).wait())!)
    await chain.mine(3)
    const cursorBlock = receipts[1]!.blockNumber
    const cursorHash = (await chain.provider.getBlock(cursorBlock))!.hash!
    await pool.query(
      `INSERT INTO evm_listener_cursor (listener, chain, cursor_block, cursor_hash, finalized_block, finalized_hash)
       VALUES ('default', $1, $2, $3, $2, $3)`,
      [chain.chain, cursorBlock, cursorHash],
    )

    // The upgrade.
    const applied = await migrate(pool)
    expect(applied).toContain('0010_chain_listener_family.sql')
    const store = createCursorStore(pool, 'default')
    expect(await store.cursor(chain.chain)).toEqual({
      cursorBlock,
      cursorHash,
      finalizedBlock: cursorBlock,
      finalizedHash: cursorHash,
    })
    const { rows } = await pool.query<{ family: string }>(
      'SELECT family FROM chain_listener_cursor WHERE chain = $1',
      [chain.chain],
    )
    expect(rows).toEqual([{ family: 'evm' }])

    // The new engine, publishing to Kafka, from that cursor.
    const resolved = resolveChain(
      chainEntry(chain, { finality: { rule: 'confirmations', confirmations: 0 } }),
    )
    if (!('config' in resolved)) throw new Error(resolved.problem)
    const producer = await testProducer(testBus)
    const publisher = createChainEventPublisher({ bus: testBus.bus, producer })
    const published: ChainEvent[] = []
    const follower = createChainFollower({
      common: testBus.common,
      source: evmFamily.createSource(resolved.config, {
        logger: testBus.common.logger,
        onRpcError: () => undefined,
      }),
      settings: resolved.config,
      store,
      state: createListenerStateWriter(pool),
      metrics: chainMetrics(testBus.common.metrics.registry),
      publish: async (events) => {
        await publisher.publish(events)
        published.push(...events)
      },
    })
    const controller = new AbortController()
    const loop = follower.run(controller.signal)
    try {
      const head = await chain.blockNumber()
      await eventually(
        async () => ((await store.cursor(chain.chain))!.cursorBlock >= head ? true : undefined),
        30_000,
        'the cursor to reach the head',
      )
    } finally {
      controller.abort()
      await loop
      await producer.disconnect()
    }
    const nullifiers = published
      .filter((event) => event.topic === 'nullifier')
      .map((event) => [event.value.envelope.blockNumber, (event.value as { nullifier: string }).nullifier])
    expect(nullifiers).toEqual([[receipts[2]!.blockNumber, '3']])
    expect(published.every((event) => event.value.envelope.blockNumber > cursorBlock)).toBe(true)
  })
})
