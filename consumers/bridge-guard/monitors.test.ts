import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GuardConfig, loadGuardConfig } from '../../core/bridge/config.ts'
import { loadConfig } from '../../core/config/env.ts'
import { type Common, createCommon } from '../../core/context.ts'
import { migrate } from '../../core/db/migrate.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'
import { randomNamespace, testEnv } from '../../test/support/harness.ts'
import { createChainStates } from './chain-state.ts'
import { createGuardMonitors } from './monitors.ts'

/**
 * The periodic reserves check against the real local anvils (the gateways and token `up`
 * deployed, read at each chain's finalized height), writing into a Postgres schema of this
 * file's own: a shortfall raises a RESERVE_SHORTFALL incident, the next passing check
 * withdraws it with the check that resolved it.
 */
const schema = `guard_monitors_${randomBytes(4).toString('hex')}`
let admin: Pool
let pool: Pool
let common: Common
let base: GuardConfig

beforeAll(async () => {
  const config = loadConfig({ ...testEnv(randomNamespace()) })
  common = createCommon('guard-monitors-test', { config, exit: () => undefined })
  base = loadGuardConfig({ home: config.home, file: undefined })
  admin = createPool(config.database, common.logger, 'veridis-test')
  await admin.query(`CREATE SCHEMA ${schema}`)
  const url = new URL(config.database.url)
  url.searchParams.set('options', `-c search_path=${schema}`)
  pool = createPool({ ...config.database, url: url.toString(), poolSize: 2 }, common.logger, 'veridis-test')
  await migrate(pool)
})

afterAll(async () => {
  await pool?.end()
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await admin?.end()
})

const withReserves = (custodyChain: string, nonBridgedSupply: Record<string, bigint>): GuardConfig => ({
  ...base,
  bridges: base.bridges.map((bridge) => ({
    ...bridge,
    tokens: bridge.tokens.map((token) => ({
      ...token,
      reserves: { custodyChain, nonBridgedSupply, tolerance: 0n, inFlightLookbackMs: 3_600_000 },
    })),
  })),
})

describe('reserves monitor on the local anvils', () => {
  test('behavior: a shortfall raises an incident with the read heights; a passing check withdraws it', async () => {
    const bridge = base.bridges[0]!
    const token = bridge.tokens[0]!
    const [home, remote] = Object.keys(bridge.gateways) as [string, string]
    const states = createChainStates(base, common.logger)
    const published: number[] = []
    const run = (config: GuardConfig) =>
      createGuardMonitors({
        common,
        pool,
        config,
        topic: 'monitors-test.veridis.alert.v1',
        publish: async () => published.push(1),
      }).runOnce()

    // Custody read on the chain that holds the wrapped token: its gateway holds next to nothing
    // while the canonical token's whole supply on the other chain counts as owed.
    expect(await run(withReserves(remote, {}))).toBe(true)
    const latestRemote = await states.get(remote)!.finalizedBlock()
    const { rows: checks } = await pool.query(
      'SELECT token, custody_chain, custody_block::int, shortfall::text, heights FROM bridge_reserve_checks ORDER BY id',
    )
    expect(checks).toHaveLength(1)
    expect(checks[0]).toMatchObject({ token: token.symbol, custody_chain: remote })
    expect(checks[0].custody_block).toBeLessThanOrEqual(latestRemote)
    expect(BigInt(checks[0].shortfall)).toBeGreaterThan(0n)
    expect(Object.keys(checks[0].heights).sort()).toEqual([home, remote].sort())
    const { rows: raised } = await pool.query<{
      record: { kind: string; status: string; details: Record<string, string> }
    }>("SELECT record FROM bridge_alert_outbox WHERE record->>'detection' = 'reserves' ORDER BY revision")
    expect(raised.map((row) => [row.record.kind, row.record.status])).toEqual([
      ['RESERVE_SHORTFALL', 'RAISED'],
    ])

    // Custody on the canonical chain, everything on the wrapped chain declared non-bridged: covered.
    const remoteSupply = await states.get(remote)!.totalSupply(token.addresses[remote]!, latestRemote + 5)
    expect(await run(withReserves(home, { [remote]: remoteSupply + 10n ** 30n }))).toBe(true)
    const { rows: after } = await pool.query<{ record: { status: string; details: Record<string, string> } }>(
      "SELECT record FROM bridge_alert_outbox WHERE record->>'detection' = 'reserves' ORDER BY revision",
    )
    expect(after.map((row) => row.record.status)).toEqual(['RAISED', 'WITHDRAWN'])
    expect(after[1]!.record.details.resolvedBy).toMatch(/^reserves check \d+$/)
    expect(published).toHaveLength(2)
  })
})
