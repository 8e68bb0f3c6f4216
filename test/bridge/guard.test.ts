import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { ConsumerProcess } from '../support/consumer-process.ts'
import { eventually } from '../support/harness.ts'
import { type BridgeWorld, startBridgeWorld, USER } from './support.ts'

/**
 * The bridge guard end to end on real anvils, a real listener, Kafka and Postgres: normal
 * transfers raise nothing; a release with no source lock is raised on its PENDING event,
 * confirmed when FINALIZED, withdrawn when a reorg removes it; copies fold into one incident.
 */
let world: BridgeWorld
let guard: ConsumerProcess

beforeAll(async () => {
  world = await startBridgeWorld()
  guard = await world.startGuard()
}, 180_000)

afterAll(async () => {
  await world?.close()
})

const judged = async (eventTx: string) => {
  const { rows } = await world.testBus.pool.query(
    `SELECT 1 FROM bridge_releases WHERE tx_hash = $1 UNION ALL SELECT 1 FROM bridge_locks WHERE tx_hash = $1`,
    [eventTx],
  )
  return rows.length > 0 ? true : undefined
}

describe('bridge guard', { timeout: 240_000 }, () => {
  test('behavior: normal transfers in both directions are judged backed and raise nothing', async () => {
    const { a, b } = world
    const first = await world.transfer(a, b, 1_000n)
    const second = await world.transfer(b, a, 2_500n)
    await eventually(() => judged(first.releaseTx), 120_000, 'first release judged')
    await eventually(() => judged(second.releaseTx), 120_000, 'second release judged')
    const { rows } = await world.testBus.pool.query<{ backed: boolean }>(
      'SELECT backed FROM bridge_releases WHERE tx_hash = ANY($1)',
      [[first.releaseTx, second.releaseTx]],
    )
    expect(rows.map((row) => row.backed)).toEqual([true, true])
    expect(world.alerts.map((alert) => alert.value.summary)).toEqual([])
  })

  test('behavior: a release signed by real guardian keys with no source lock is raised on PENDING, naming the evidence, then confirmed', async () => {
    const { a, b } = world
    const { releaseTx, messageId } = await world.releaseUnbacked(a, b, 5n * 10n ** 18n)
    const raised = await eventually(
      async () => world.alertsOf('release-without-source').find((alert) => alert.status === 'RAISED'),
      120_000,
      'release-without-source raised',
    )
    expect(raised.kind).toBe('MINT_WITHOUT_LOCK')
    expect(raised.severity).toBe('CRITICAL')
    expect(raised.evidence).toEqual([
      expect.objectContaining({ txHash: releaseTx, chain: b.chain, role: 'release' }),
    ])
    expect(raised.details).toMatchObject({
      messageId,
      sourceChain: a.chain,
      amount: (5n * 10n ** 18n).toString(),
    })
    expect(raised.summary).toMatch(/no lock at the source/)
    expect(raised.chains).toEqual([a.chain, b.chain])
    // The listener's finality rule is 3 confirmations: a few blocks later the release is final.
    await b.mine(5)
    const confirmed = await eventually(
      async () => world.alertsOf('release-without-source').find((alert) => alert.status === 'CONFIRMED'),
      120_000,
      'release-without-source confirmed',
    )
    expect(confirmed.alertId).toBe(raised.alertId)
    expect(confirmed.revision).toBeGreaterThan(raised.revision)
  })

  test('behavior: a reorg that removes the offending release withdraws its alert', async () => {
    const { a, b } = world
    // A separate gateway scope would fold into the open incident above; a new world keeps it apart.
    const before = world.alertsOf('release-without-source').length
    const { releaseTx } = await world.releaseUnbacked(a, b, 7n)
    await eventually(() => judged(releaseTx), 60_000, 'unbacked release judged')
    await b.rpc('anvil_reorg', [1, []])
    await b.mine(1)
    // The reorg dropped the sender's transaction: its next nonce is the chain's again.
    b.signer(USER).reset()
    const withdrawn = await eventually(
      async () =>
        world
          .alertsOf('release-without-source')
          .slice(before)
          .find((alert) => alert.details.withdrawnEventId !== undefined),
      120_000,
      'a withdrawing record',
    )
    // The earlier finding of the incident still stands: the record says what is left.
    expect(withdrawn.status).toBe('UPDATED')
    expect(withdrawn.details.standing).toBe('1')
    const { rows } = await world.testBus.pool.query('SELECT 1 FROM bridge_releases WHERE tx_hash = $1', [
      releaseTx,
    ])
    expect(rows).toEqual([])
  })

  test('behavior: copy-paste releases fold into one incident with a count, not a page each', async () => {
    const { a, b } = world
    const occurrences = async () => {
      const { rows } = await world.testBus.pool.query<{ alert_id: string; occurrences: number }>(
        `SELECT alert_id, occurrences FROM bridge_incidents
         WHERE detection = 'release-without-source' AND scope LIKE $1 AND NOT withdrawn`,
        [`${world.bridgeId}:%`],
      )
      expect(rows).toHaveLength(1)
      return rows[0]!
    }
    const before = await occurrences()
    const start = world.alerts.length
    for (let i = 0; i < 12; i++) await world.releaseUnbacked(a, b, 1n)
    await eventually(
      async () => ((await occurrences()).occurrences === before.occurrences + 12 ? true : undefined),
      150_000,
      'twelve more occurrences on the same incident',
    )
    const crossed = [4, 8, 16].filter((n) => n > before.occurrences && n <= before.occurrences + 12)
    await eventually(
      async () =>
        world.alerts.slice(start).filter((alert) => alert.value.detection === 'release-without-source')
          .length >= crossed.length
          ? true
          : undefined,
      30_000,
      'the log-scale records',
    )
    const records = world.alerts
      .slice(start)
      .filter((alert) => alert.value.detection === 'release-without-source')
    // One alert id for all of them, and a record only where the count crosses a power of two — not 12 records.
    expect(
      records.map((alert) => [alert.value.alertId, alert.value.status, alert.value.occurrences]),
    ).toEqual(crossed.map((n) => [before.alert_id, 'UPDATED', n]))
    expect(records.at(-1)!.value.evidence.length).toBeLessThanOrEqual(16)
    const metrics = await guard.metrics()
    expect(metrics).toMatch(/security_events_total\{kind="MINT_WITHOUT_LOCK",severity="CRITICAL"[^}]*\} 1\n/)
  })

  test('behavior: a guard killed with SIGKILL mid-attack comes back with the same findings, each once', async () => {
    const { a, b } = world
    const txs: string[] = []
    const attack = (async () => {
      for (let i = 0; i < 24; i++) txs.push((await world.releaseUnbacked(a, b, 3n)).releaseTx)
    })()
    await eventually(
      async () => (txs.length >= 8 ? true : undefined),
      120_000,
      'eight offending releases sent',
    )
    await guard.kill('SIGKILL')
    guard = await world.startGuard()
    await attack
    const findings = async () => {
      const { rows } = await world.testBus.pool.query<{ tx_hash: string; findings: number }>(
        `SELECT r.tx_hash, count(f.finding_id)::int AS findings
         FROM bridge_releases r LEFT JOIN bridge_findings f
           ON f.subject_event_id = r.event_id AND f.detection = 'release-without-source'
         WHERE r.tx_hash = ANY($1) GROUP BY r.tx_hash`,
        [txs],
      )
      return rows
    }
    await eventually(
      async () =>
        (await findings()).filter((row) => row.findings > 0).length === txs.length ? true : undefined,
      150_000,
      'every offending release judged',
    )
    // Each offending release has exactly one finding, however often its events were delivered.
    expect((await findings()).map((row) => row.findings)).toEqual(txs.map(() => 1))
    // On the topic, a record delivered twice (published, then killed before it was marked) is
    // the same (alertId, revision) with the same content: readers deduplicate on that pair.
    const byRevision = new Map<string, string>()
    for (const { value } of world.alerts) {
      const key = `${value.alertId}:${value.revision}`
      const content = JSON.stringify(value)
      expect(byRevision.get(key) ?? content).toBe(content)
      byRevision.set(key, content)
    }
  })
})
