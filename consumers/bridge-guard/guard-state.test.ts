import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parseGuardConfig } from '../../core/bridge/config.ts'
import { loadConfig } from '../../core/config/env.ts'
import { createCommon } from '../../core/context.ts'
import { migrate } from '../../core/db/migrate.ts'
import { createPool, inTransaction, type Pool } from '../../core/db/pool.ts'
import { randomNamespace, testEnv } from '../../test/support/harness.ts'
import { pruneFlowBuckets, recordFlow, unrecordFlow } from './detections/flow-limits.ts'
import {
  decayGuardianActivity,
  guardianRecords,
  participationFindings,
  pendingLocks,
  recordGuardianActivity,
  stuckCorridors,
} from './detections/liveness.ts'
import type { BridgeFact } from './facts.ts'

/**
 * The guard's own state for flow limits and liveness, in a Postgres schema of this file's own
 * (every migration applied there): the SQL the detections run inside the chunk transaction.
 */
const schema = `guard_state_${randomBytes(4).toString('hex')}`
const HOME = 'eip155:31337'
const REMOTE = 'eip155:31338'
const GATEWAY = '0x00000000000000000000000000000000000000aa'
const TOKEN = '0x00000000000000000000000000000000000000bb'
const G1 = '0x0000000000000000000000000000000000000001'
const G2 = '0x0000000000000000000000000000000000000002'
const G3 = '0x0000000000000000000000000000000000000003'
let admin: Pool
let pool: Pool

const bridge = parseGuardConfig(
  {
    chains: {
      [HOME]: { rpcUrls: ['http://127.0.0.1:1'], minConfirmations: 1 },
      [REMOTE]: { rpcUrls: ['http://127.0.0.1:2'], minConfirmations: 1 },
    },
    bridges: [
      {
        id: 'b',
        gateways: { [HOME]: GATEWAY, [REMOTE]: GATEWAY },
        minThreshold: 2,
        pendingSlaMs: 60_000,
        participation: { floor: 0.5, minSample: 4, window: 4 },
        tokens: [
          {
            symbol: 'T',
            addresses: { [HOME]: TOKEN, [REMOTE]: TOKEN },
            dailyLimit: '1000',
            drainShare: 0.5,
            drainWindowMs: 3_600_000,
          },
        ],
      },
    ],
  },
  'test',
).bridges[0]!

let serial = 0
const envelope = (chain: string, observedAt: number) => ({
  eventId: `e${++serial}`,
  chain,
  blockNumber: 10 + serial,
  blockHash: `0x${'1'.repeat(64)}`,
  txHash: `0x${serial.toString(16).padStart(64, '0')}`,
  logIndex: 0,
  emitter: GATEWAY,
  finality: 'PENDING' as const,
  observedAt,
})
const messageId = (n: number) => `0x${n.toString(16).padStart(64, '0')}`

const release = (n: number, amount: bigint, observedAt: number, mode: 'MINT' | 'UNLOCK', signers: string[]) =>
  ({
    type: 'release',
    envelope: envelope(HOME, observedAt),
    gateway: GATEWAY,
    message: undefined as never,
    messageId: messageId(n),
    amount,
    release: {
      mode,
      recipient: GATEWAY,
      token: TOKEN,
      amount: amount.toString(),
      sourceChain: REMOTE,
      nonce: String(n),
      signers,
      threshold: 2,
      proofRoot: null,
    },
  }) satisfies BridgeFact

const lock = (n: number, amount: bigint, observedAt: number) =>
  ({
    type: 'lock',
    envelope: envelope(REMOTE, observedAt),
    gateway: GATEWAY,
    message: undefined as never,
    messageId: messageId(n),
    amount,
    lock: {
      mode: 'BURN',
      sender: GATEWAY,
      recipient: GATEWAY,
      token: TOKEN,
      amount: amount.toString(),
      destinationChain: HOME,
      nonce: String(n),
      transfers: [],
    },
  }) satisfies BridgeFact

/** The read-model rows judge.ts writes, reduced to what these detections read. */
async function insertRow(fact: BridgeFact & { type: 'lock' | 'release' }) {
  const { envelope: e } = fact
  const common = [
    e.eventId,
    fact.messageId,
    e.chain,
    GATEWAY,
    e.blockNumber,
    e.txHash,
    fact.amount.toString(),
    e.observedAt,
  ]
  if (fact.type === 'lock') {
    await pool.query(
      `INSERT INTO bridge_locks (event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
         token, amount, recipient, destination_chain, observed_at)
       VALUES ($1, $2, 'b', $3, $4, $5, $6, 'PENDING', $9, $10, $7, $4, $11, to_timestamp($8 / 1000.0))`,
      [...common, fact.lock.mode, TOKEN, fact.lock.destinationChain],
    )
  } else {
    await pool.query(
      `INSERT INTO bridge_releases (event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
         token, amount, recipient, source_chain, signers, threshold, backed, observed_at)
       VALUES ($1, $2, 'b', $3, $4, $5, $6, 'PENDING', $9, $10, $7, $4, $11, '{}', 2, true, to_timestamp($8 / 1000.0))`,
      [...common, fact.release.mode, TOKEN, fact.release.sourceChain],
    )
  }
}

const flow = (fact: BridgeFact & { type: 'lock' | 'release' }, vaultBalance?: bigint) =>
  inTransaction(pool, (client) => recordFlow(client, { bridge, fact, vaultBalance }))

beforeAll(async () => {
  const config = loadConfig({ ...testEnv(randomNamespace()) })
  const common = createCommon('guard-state-test', { config, exit: () => undefined })
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

describe('flow buckets', () => {
  test('behavior: the 24-hour sum slides by the minute, and a retracted release leaves it', async () => {
    const t0 = Date.UTC(2030, 0, 1)
    const day = 24 * 3_600_000
    expect(await flow(release(1, 600n, t0, 'MINT', []))).toEqual([])
    // 23 h 59 min later the first release is still inside the window: 600 + 500 > 1000.
    const second = release(2, 500n, t0 + day - 60_000, 'MINT', [])
    const over = await flow(second)
    expect(over.map((finding) => finding.key)).toEqual(['daily-release'])
    expect(over[0]!.details.last24h).toBe('1100')
    // A day after the first, it has left the window: 500 + 400 ≤ 1000.
    expect(await flow(release(3, 400n, t0 + day, 'MINT', []))).toEqual([])
    // Locks are another direction: they never count against the release limit.
    expect(await flow(lock(4, 5_000n, t0 + day))).toEqual([])
    // The second release is retracted: its value leaves its minute's bucket.
    await insertRow(second)
    await inTransaction(pool, (client) => unrecordFlow(client, second))
    const { rows } = await pool.query<{ amount: string; transfers: number }>(
      `SELECT amount::text, transfers FROM bridge_flow_buckets WHERE direction = 'MINT'
       AND bucket = date_trunc('minute', to_timestamp($1 / 1000.0))`,
      [second.envelope.observedAt],
    )
    expect(rows).toEqual([{ amount: '0', transfers: 0 }])
  })

  test('behavior: drain share over the window, from the buckets and the vault balance before the block', async () => {
    const t0 = Date.UTC(2030, 1, 1)
    // Vault held 1000 before: 300 out (30 %), then 200 more with 700 left before its block (50 % of 1000).
    expect(await flow(release(10, 300n, t0, 'UNLOCK', []), 1_000n)).toEqual([])
    const drained = await flow(release(11, 200n, t0 + 60_000, 'UNLOCK', []), 700n)
    expect(drained.map((finding) => finding.key)).toEqual(['drain'])
    expect(drained[0]!.details).toMatchObject({ unlockedInWindow: '500', custodyInWindow: '1000' })
    // Two hours on, the window (1 h) holds only the new unlock.
    expect(await flow(release(12, 100n, t0 + 2 * 3_600_000, 'UNLOCK', []), 500n)).toEqual([])
  })

  test('behavior: pruning keeps what the longest window reads', async () => {
    await pool.query(
      `INSERT INTO bridge_flow_buckets (bridge_id, chain, token, direction, bucket, amount, transfers)
       VALUES ('b', $1, 'x', 'MINT', now() - interval '3 days', 1, 1), ('b', $1, 'x', 'MINT', now() - interval '1 hour', 1, 1)`,
      [HOME],
    )
    await pruneFlowBuckets(pool, bridge)
    const { rows } = await pool.query(`SELECT 1 FROM bridge_flow_buckets WHERE token = 'x'`)
    expect(rows).toHaveLength(1)
  })
})

describe('liveness state', () => {
  test('behavior: a lock past the SLA with no release is pending until its release arrives', async () => {
    const now = Date.UTC(2031, 0, 1)
    const old = lock(100, 5n, now - 120_000)
    const fresh = lock(101, 5n, now - 10_000)
    await insertRow(old)
    await insertRow(fresh)
    expect((await pendingLocks(pool, bridge, now, 10)).map((row) => row.messageId)).toEqual([messageId(100)])
    expect(await stuckCorridors(pool, bridge, now)).toEqual(new Map([[`b:${REMOTE}->${HOME}`, 1]]))
    await insertRow(release(100, 5n, now - 1_000, 'UNLOCK', []))
    expect(await pendingLocks(pool, bridge, now, 10)).toEqual([])
    expect(await stuckCorridors(pool, bridge, now)).toEqual(new Map())
  })

  test('behavior: participation counts every guardian of the set, latency from the source lock; halved past the window', async () => {
    const now = Date.UTC(2032, 0, 1)
    await insertRow(lock(200, 1n, now - 4_000))
    for (const n of [200, 201, 202, 203]) {
      await inTransaction(pool, (client) =>
        recordGuardianActivity(client, {
          bridge,
          fact: release(n, 1n, now, 'UNLOCK', [G1, G2]),
          guardians: [G1, G2, G3],
        }),
      )
    }
    const records = await guardianRecords(pool, bridge)
    expect(
      records.map((r) => [r.guardian, r.signed, r.eligible, r.latencySamples, r.latencyMsTotal]),
    ).toEqual([
      [G1, 4, 4, 1, 4_000],
      [G2, 4, 4, 1, 4_000],
      [G3, 0, 4, 0, 0],
    ])
    expect(participationFindings(bridge, records, now).map((finding) => finding.details.guardian)).toEqual([
      G3,
    ])
    // eligible reached 2 × window (8)? Not yet: nothing halves.
    await decayGuardianActivity(pool, bridge)
    expect((await guardianRecords(pool, bridge))[0]!.eligible).toBe(4)
    for (const n of [204, 205, 206, 207]) {
      await inTransaction(pool, (client) =>
        recordGuardianActivity(client, {
          bridge,
          fact: release(n, 1n, now, 'UNLOCK', [G1]),
          guardians: [G1, G2, G3],
        }),
      )
    }
    await decayGuardianActivity(pool, bridge)
    expect((await guardianRecords(pool, bridge)).map((r) => [r.signed, r.eligible])).toEqual([
      [4, 4],
      [2, 4],
      [0, 4],
    ])
  })
})
