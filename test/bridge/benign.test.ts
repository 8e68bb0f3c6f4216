import { Contract } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { ConsumerProcess } from '../support/consumer-process.ts'
import { eventually } from '../support/harness.ts'
import type { BridgeSide } from './exploits/support/bridge.ts'
import { GATEWAY_ABI } from './exploits/support/engine.ts'
import { benignTraffic } from './exploits/support/traffic.ts'
import { type GuardedBridge, reorgReincluding, startGuardedBridge } from './support.ts'

/**
 * Benign replay (issue 13, "Must show"): 10,000 normal transfers across both chains — varied
 * sizes (0.01–1,000 tokens), bursts, slow guardians within the SLA — while both chains reorg
 * at depth 1, 2 and 3, through the real listener and the real guard (child processes), raise
 * no finding and no alert.
 *
 * The reorgs are the common kind: the orphaned blocks' transactions return in the new blocks
 * (anvil_reorg with them), so every orphaned lock and release is RETRACTED and seen again as a
 * new event. Guardians wait 4–6 blocks before signing, past the deepest reorg (and the
 * listener's 3 confirmations), as a bridge that signs on source finality does; a reorg that
 * would orphan a lock already released elsewhere is therefore not a benign one and is made
 * shallower (the report counts how often). The vault starts with custody, as a bridge in
 * service has: a day's normal unlocks are a small share of it.
 */
/**
 * 10,000 is the issue's figure (VERIDIS_BENIGN_TRANSFERS=10000); the guard judges a few hundred
 * transfers a minute on this two-core host, so CI replays 1,000 (docs/benchmarks.md).
 */
const TRANSFERS = Number(process.env.VERIDIS_BENIGN_TRANSFERS ?? 1_000)
const REORG_EVERY = 5
const LIMITS = { singleTransfer: 5_000n, daily: 2_000_000n, dailyLock: 2_000_000n }
const CUSTODY = 20_000_000n

let world: GuardedBridge
let guard: ConsumerProcess

beforeAll(async () => {
  world = await startGuardedBridge({ limits: LIMITS, custody: CUSTODY })
  // The production session timeout (the test default, 6 s, is for fast failover tests): a chunk
  // of a thousand bridge events takes longer than 6 s to judge on a loaded host.
  guard = await world.startGuard({ VERIDIS_CONSUMER_SESSION_TIMEOUT_MS: '30000' })
}, 300_000)

afterAll(async () => {
  await world?.close()
})

const count = async (sql: string, params: unknown[]) =>
  Number((await world.testBus.pool.query<{ n: string }>(sql, params)).rows[0]!.n)

const metricSum = (text: string, name: string, filter: RegExp) =>
  text
    .split('\n')
    .filter((line) => line.startsWith(name) && filter.test(line))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)

/** Messages locked in `side`'s last `depth` blocks that the other side has already released. */
async function releasedAmong(side: BridgeSide, other: BridgeSide, depth: number) {
  const tip = await side.chain.blockNumber()
  const logs = await side.chain.provider.getLogs({
    address: side.gateway,
    fromBlock: tip - depth + 1,
    toBlock: tip,
    topics: [GATEWAY_ABI.getEvent('BridgeLocked')!.topicHash],
  })
  const gateway = new Contract(other.gateway, GATEWAY_ABI, other.chain.provider)
  const released = await Promise.all(
    logs.map(async (log) => (await gateway.getFunction('released')(log.topics[1]!)) as boolean),
  )
  return released.filter(Boolean).length
}

describe('bridge guard: benign replay', { timeout: 1_800_000 }, () => {
  test('behavior: normal transfers (1,000 in CI, 10,000 by hand) with reorgs of depth 1–3 on both chains raise no finding and no alert', async () => {
    const { bridge, bridgeId, testBus } = world
    const chains = [bridge.home.chain.chain, bridge.remote.chain.chain]
    const reorgs: { chain: string; asked: number; depth: number; transactions: number }[] = []
    let next = 0

    const traffic = await benignTraffic(bridge, {
      transfers: TRANSFERS,
      perBlock: 80,
      releaseDelay: { min: 4, max: 6 },
      seed: 13,
      afterRound: async (round) => {
        if (round % REORG_EVERY !== 0) return
        const [side, other] = next % 2 === 0 ? [bridge.home, bridge.remote] : [bridge.remote, bridge.home]
        const asked = (next % 3) + 1
        next++
        // The listener has published the blocks about to be orphaned: the reorg is one it sees.
        const tip = await side.chain.blockNumber()
        await eventually(
          async () => ((await world.listenerAt(side.chain)) >= tip ? true : undefined),
          60_000,
          `listener at block ${tip} of ${side.chain.chain}`,
        )
        let depth = asked
        while (depth > 0 && (await releasedAmong(side, other, depth)) > 0) depth--
        if (depth === 0) return
        const done = await reorgReincluding(side.chain, depth)
        reorgs.push({ chain: side.chain.chain, asked, depth, transactions: done.transactions })
      },
    })
    expect(traffic.transfers).toBe(TRANSFERS)

    // Past every confirmation rule (listener 3, the guard's reserves reads 5): everything final.
    await Promise.all([bridge.home.chain.mine(8), bridge.remote.chain.mine(8)])
    const ids = traffic.messageIds.map((id) => id.toLowerCase())
    await eventually(
      async () => {
        const finalized = await count(
          `SELECT count(DISTINCT message_id) AS n FROM bridge_releases
           WHERE chain = ANY($1) AND message_id = ANY($2) AND finality = 'FINALIZED'`,
          [chains, ids],
        )
        return finalized === TRANSFERS ? true : undefined
      },
      1_200_000,
      `all ${TRANSFERS} releases judged and FINALIZED`,
    )
    const settled = new Date()
    // Two periodic rounds (reserves, liveness, participation, anomaly) on the final state.
    await eventually(
      async () =>
        (await count(
          'SELECT count(*) AS n FROM bridge_reserve_checks WHERE bridge_id = $1 AND checked_at > $2',
          [bridgeId, settled],
        )) >= 2
          ? true
          : undefined,
      180_000,
      'two reserves checks after the replay settled',
    )

    const judgedReleases = await count(
      'SELECT count(DISTINCT message_id) AS n FROM bridge_releases WHERE chain = ANY($1) AND message_id = ANY($2)',
      [chains, ids],
    )
    const judgedLocks = await count(
      'SELECT count(DISTINCT message_id) AS n FROM bridge_locks WHERE chain = ANY($1) AND message_id = ANY($2)',
      [chains, ids],
    )
    const { rows: findings } = await testBus.pool.query<{ detection: string; summary: string }>(
      `SELECT f.detection, f.summary FROM bridge_findings f JOIN bridge_incidents i USING (alert_id)
       WHERE f.subject_chain = ANY($1) OR i.scope LIKE $2`,
      [chains, `${bridgeId}:%`],
    )
    const byDetection: Record<string, number> = {}
    for (const finding of findings) byDetection[finding.detection] = (byDetection[finding.detection] ?? 0) + 1
    const guardMetrics = await guard.metrics()
    const retracted = metricSum(guardMetrics, 'bridge_messages_total', /status="(lock|release)_retracted"/)
    const listenerMetrics = await world.listener.metrics()
    const seenReorgs = chains.map((chain) =>
      metricSum(listenerMetrics, 'veridis_chain_reorgs_total', new RegExp(`chain="${chain}"`)),
    )
    const { rows: peaks } = await testBus.pool.query<{ chain: string; direction: string; total: string }>(
      `SELECT chain, direction, (sum(amount) / 1e18)::bigint::text AS total FROM bridge_flow_buckets
       WHERE bridge_id = $1 GROUP BY chain, direction ORDER BY chain, direction`,
      [bridgeId],
    )
    const depths = [1, 2, 3].map((depth) => reorgs.filter((reorg) => reorg.depth === depth).length)
    console.log(
      `benign replay: ${traffic.transfers} transfers (${traffic.lockToMint} lock→mint, ${traffic.burnToUnlock} burn→unlock, ` +
        `largest ${Number(BigInt(traffic.maxAmount) / 10n ** 14n) / 10_000} tokens) in ${Math.round(traffic.elapsedMs / 1000)} s; ` +
        `reorgs ${reorgs.length} (depth 1/2/3: ${depths.join('/')}, ${reorgs.filter((r) => r.depth < r.asked).length} made shallower, ` +
        `${reorgs.reduce((sum, r) => sum + r.transactions, 0)} transactions re-mined; listener saw ${seenReorgs.join('+')}, ` +
        `guard took ${retracted} RETRACTED); locks judged ${judgedLocks}, releases judged ${judgedReleases}; ` +
        `flows ${peaks.map((p) => `${p.chain.split(':')[1]}/${p.direction} ${p.total}`).join(', ')}; ` +
        `false positives: ${findings.length} findings, ${world.alerts.length} alert records ${JSON.stringify(byDetection)}`,
    )

    // The reorgs happened and reached the guard: not a replay of quiet chains.
    // About one every 5 blocks per chain at ~80 transfers a block: 3 for 1,000 transfers, 30 for 10,000.
    expect(reorgs.length).toBeGreaterThanOrEqual(Math.max(3, Math.floor(TRANSFERS / 350)))
    expect(depths.every((n) => n > 0)).toBe(true)
    expect(seenReorgs.reduce((a, b) => a + b, 0)).toBe(reorgs.length)
    expect(retracted).toBeGreaterThan(0)
    expect(judgedLocks).toBe(TRANSFERS)
    expect(judgedReleases).toBe(TRANSFERS)
    expect(findings.map((finding) => `${finding.detection}: ${finding.summary}`)).toEqual([])
    expect(world.alerts.map((alert) => alert.value.summary)).toEqual([])
  })
})
