import { randomBytes } from 'node:crypto'
import { Contract, getBytes, type HDNodeWallet, JsonRpcProvider } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DEV_ACCOUNT, devWallet } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { jsonRpcRequest } from '../../contracts/evm/provider.ts'
import { type GuardConfig, loadGuardConfig } from '../../core/bridge/config.ts'
import type { AuditFact } from '../../core/bus/types.ts'
import type { Gateway } from '../../producers/gateway/index.ts'
import { eventually, openTestBus, type TestBus } from '../support/harness.ts'
import { bearer, startTestGateway } from './support.ts'
import { readTopic } from './topic-reader.ts'

/**
 * The bridge-security endpoints (issue 13 item 4) on the real stack: the guard's read models are
 * seeded with rows of this file's own bridge id, chains' unused block heights and random hashes
 * (and removed afterwards), and the attestation check reads the guardian set of the local
 * BridgeGateway on the shared anvil, with digests and message ids computed by the contract
 * itself and signed by the dev guardians' keys.
 */
let testBus: TestBus
let gateway: Gateway
let bridges: GuardConfig

const hash = () => `0x${randomBytes(32).toString('hex')}`
const address = () => `0x${randomBytes(20).toString('hex')}`
const A = 'eip155:31337'
const B = 'eip155:31338'

// Seeded rows: this file's bridge, heights no local anvil reaches, random hashes and ids.
const seed = {
  bridge: '',
  probe: '',
  base: 9_000_000_000 + Math.floor(Math.random() * 1_000_000),
  token: address(),
  wrapped: address(),
  guardianGateway: address(),
  guardian: address(),
  lonelyChain: `eip155:7${Math.floor(Math.random() * 1e8)}`,
  messages: { m1: hash(), m2: hash(), m3: hash(), m4: hash(), m5: hash() },
  tx: {
    t1: hash(),
    t2: hash(),
    t3: hash(),
    t4: hash(),
    t5: hash(),
    t6: hash(),
    t7: hash(),
    t8: hash(),
    t9: hash(),
  },
  events: {
    lock1: hash(),
    lock2: hash(),
    lock3: hash(),
    rel1: hash(),
    rel4: hash(),
    rel1b: hash(),
    config: hash(),
    orphan: hash(),
    lonely: hash(),
    lonelyOld: hash(),
  },
  alerts: [] as string[],
  foreignAlert: '',
  findings: [] as string[],
}

const now = Date.now()
const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString()

async function insertLock(
  event: string,
  message: string,
  options: {
    chain: string
    block: number
    tx: string
    amount: string
    observedAt: string
    destination: string
  },
) {
  await testBus.pool.query(
    `INSERT INTO bridge_locks (event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
       token, amount, recipient, destination_chain, observed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', 'LOCK', $8, $9, $10, $11, $12)`,
    [
      event,
      message,
      seed.bridge,
      options.chain,
      address(),
      options.block,
      options.tx,
      seed.token,
      options.amount,
      address(),
      options.destination,
      options.observedAt,
    ],
  )
}

async function insertRelease(
  event: string,
  message: string,
  options: { block: number; tx: string; amount: string; backed: boolean },
) {
  await testBus.pool.query(
    `INSERT INTO bridge_releases (event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
       token, amount, recipient, source_chain, signers, threshold, backed, observed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', 'MINT', $8, $9, $10, $11, $12, 2, $13, now())`,
    [
      event,
      message,
      seed.bridge,
      B,
      address(),
      options.block,
      options.tx,
      seed.wrapped,
      options.amount,
      address(),
      A,
      [address(), address()],
      options.backed,
    ],
  )
}

/** One incident with its findings, shaped as the guard writes them (consumers/bridge-guard/incidents.ts). */
async function insertIncident(options: {
  detection: string
  scope: string
  severity: string
  withdrawn?: boolean
  occurrences?: number
  evidence: { eventId: string; chain: string; txHash: string; blockNumber: number; role: string }[]
  findings: { subject: string; chain: string; active?: boolean; summary: string }[]
  outboxAt?: string
}) {
  const alertId = randomBytes(16).toString('hex')
  seed.alerts.push(alertId)
  const record = {
    alertId,
    kind: 'BRIDGE_ANOMALY',
    severity: options.severity,
    chain: options.evidence[0]?.chain ?? A,
    summary: options.findings[0]!.summary,
    evidence: options.evidence,
    details: { scope: options.scope },
    detectedAt: now,
    detection: options.detection,
    status: options.withdrawn ? 'WITHDRAWN' : 'RAISED',
    revision: 0,
    occurrences: options.occurrences ?? options.findings.length,
    chains: [...new Set(options.evidence.map((item) => item.chain))],
  }
  await testBus.pool.query(
    `INSERT INTO bridge_incidents (alert_id, detection, scope, kind, severity, occurrences, active, withdrawn, revision,
       first_at, last_at, record)
     VALUES ($1, $2, $3, 'BRIDGE_ANOMALY', $4, $5, $6, $7, 0, now(), now(), $8)`,
    [
      alertId,
      options.detection,
      options.scope,
      options.severity,
      record.occurrences,
      options.withdrawn ? 0 : options.findings.length,
      options.withdrawn ?? false,
      JSON.stringify(record),
    ],
  )
  for (const finding of options.findings) {
    const findingId = randomBytes(32).toString('hex')
    seed.findings.push(findingId)
    await testBus.pool.query(
      `INSERT INTO bridge_findings (finding_id, alert_id, detection, subject_event_id, subject_chain, active, summary)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        findingId,
        alertId,
        options.detection,
        finding.subject,
        finding.chain,
        finding.active ?? true,
        finding.summary,
      ],
    )
  }
  if (options.outboxAt) {
    await testBus.pool.query(
      `INSERT INTO bridge_alert_outbox (alert_id, revision, record, created_at, topic) VALUES ($1, 0, $2, $3, $4)`,
      [alertId, JSON.stringify(record), options.outboxAt, testBus.bus.topics.alert.name],
    )
  }
  return alertId
}

let raisedAlert: string

beforeAll(async () => {
  testBus = await openTestBus()
  seed.bridge = `${testBus.namespace}-bridge`
  seed.probe = `${testBus.namespace}-probe`
  bridges = loadGuardConfig({ home: testBus.common.config.home, file: undefined })
  gateway = await startTestGateway(testBus, {}, { bridges })
  const { base, messages: m, tx, events: e } = seed
  // M1: locked on A, released on B — twice (a replay). M2: pending for two hours (past the
  // default 15-minute SLA). M3: pending since now. M4: released on B with no lock anywhere.
  await insertLock(e.lock1, m.m1, {
    chain: A,
    block: base + 1,
    tx: tx.t1,
    amount: '1000',
    observedAt: iso(-3_600_000),
    destination: B,
  })
  await insertLock(e.lock2, m.m2, {
    chain: A,
    block: base + 2,
    tx: tx.t3,
    amount: '500',
    observedAt: iso(-7_200_000),
    destination: B,
  })
  await insertLock(e.lock3, m.m3, {
    chain: A,
    block: base + 3,
    tx: tx.t4,
    amount: '7',
    observedAt: iso(0),
    destination: B,
  })
  await insertRelease(e.rel1, m.m1, { block: base + 5, tx: tx.t2, amount: '1000', backed: true })
  await insertRelease(e.rel4, m.m4, { block: base + 6, tx: tx.t5, amount: '999', backed: false })
  await insertRelease(e.rel1b, m.m1, { block: base + 7, tx: tx.t6, amount: '1000', backed: true })
  // A configuration change only the ledger has (chain_events, this namespace's bridge topic).
  await testBus.pool.query(
    `INSERT INTO chain_events (event_id, topic, kind, chain, block_number, block_hash, tx_hash, log_index, emitter,
       finality, observed_at, finality_changed_at, kafka_partition, kafka_offset)
     VALUES ($1, $2, 'ThresholdChanged', $3, $4, $5, $6, 0, $7, 'PENDING', now(), now(), 0, '0'),
            ($8, $2, 'BridgeLocked', $9, 41, $5, $10, 3, $7, 'FINALIZED', now(), now(), 0, '1'),
            ($11, $2, 'BridgeLocked', $9, 40, $5, $12, 0, $7, 'FINALIZED', now(), now(), 0, '2')`,
    [
      e.config,
      testBus.bus.topics.bridge.name,
      A,
      base + 4,
      hash(),
      tx.t7,
      address(),
      e.lonely,
      seed.lonelyChain,
      tx.t9,
      e.lonelyOld,
      hash(),
    ],
  )
  raisedAlert = await insertIncident({
    detection: 'release-without-source',
    scope: `${seed.bridge}:${B}:gw`,
    severity: 'CRITICAL',
    evidence: [{ eventId: e.rel4, chain: B, txHash: tx.t5, blockNumber: base + 6, role: 'release' }],
    findings: [{ subject: e.rel4, chain: B, summary: `release of ${m.m4} with no source lock` }],
    // The newest record of this namespace, so it heads the dashboard's recent alerts.
    outboxAt: iso(3_600_000),
  })
  // Newer still, but bound for another namespace's alert topic (guards share the database):
  // this gateway's dashboard must not list it.
  seed.foreignAlert = `${testBus.namespace}-foreign-alert`
  seed.alerts.push(seed.foreignAlert)
  await testBus.pool.query(
    `INSERT INTO bridge_alert_outbox (alert_id, revision, record, created_at, topic) VALUES ($1, 0, '{}', $2, $3)`,
    [seed.foreignAlert, iso(7_200_000), `${testBus.namespace}-elsewhere.veridis.alert.v1`],
  )
  await insertIncident({
    detection: 'replay',
    scope: `${seed.bridge}:${B}:gw`,
    severity: 'CRITICAL',
    evidence: [{ eventId: e.rel1b, chain: B, txHash: tx.t6, blockNumber: base + 7, role: 'second release' }],
    findings: [{ subject: e.rel1b, chain: B, summary: `message ${m.m1} released twice` }],
  })
  await insertIncident({
    detection: 'quorum-health',
    scope: `${seed.bridge}:${A}:gw`,
    severity: 'HIGH',
    evidence: [
      { eventId: e.config, chain: A, txHash: tx.t7, blockNumber: base + 4, role: 'threshold change' },
    ],
    findings: [{ subject: e.config, chain: A, summary: 'threshold lowered below the minimum' }],
  })
  // Known only from its incident's evidence: no read model holds its subject event.
  await insertIncident({
    detection: 'governance-bypass',
    scope: `${seed.bridge}:${A}:gw`,
    severity: 'HIGH',
    evidence: [{ eventId: e.orphan, chain: A, txHash: tx.t8, blockNumber: base + 8, role: 'admin change' }],
    findings: [{ subject: e.orphan, chain: A, summary: 'admin changed without governance' }],
  })
  // Probe incidents of a detection name no one else uses: one open (3 occurrences), one withdrawn.
  await insertIncident({
    detection: seed.probe,
    scope: `${seed.probe}:x`,
    severity: 'HIGH',
    occurrences: 3,
    evidence: [],
    findings: [{ subject: e.lonely, chain: seed.lonelyChain, summary: 'open probe' }],
  })
  await insertIncident({
    detection: seed.probe,
    scope: `${seed.probe}:y`,
    severity: 'HIGH',
    withdrawn: true,
    evidence: [],
    findings: [{ subject: e.lonelyOld, chain: seed.lonelyChain, active: false, summary: 'withdrawn probe' }],
  })
  // Reserves: an older check that was fine, then the latest with a shortfall.
  await testBus.pool.query(
    `INSERT INTO bridge_reserve_checks (bridge_id, token, custody, custody_chain, custody_block, wrapped_supply, in_flight,
       heights, shortfall, checked_at)
     VALUES ($1, $2, 100, $3, 10, 50, 0, $4, 0, now() - interval '1 minute'),
            ($1, $2, 90, $3, 12, 80, 20, $4, 10, now())`,
    [seed.bridge, seed.token, A, JSON.stringify({ [A]: 12, [B]: 30 })],
  )
  await testBus.pool.query(
    `INSERT INTO bridge_guardian_activity (gateway, chain, guardian, operator, signed, eligible, latency_ms_total, last_signed_at)
     VALUES ($1, $2, $3, 'operator-7', 8, 10, 8000, now())`,
    [seed.guardianGateway, B, seed.guardian],
  )
  await testBus.pool.query(
    `INSERT INTO chain_listener_state (chain, family, head_block, cursor_block, cursor_hash, finalized_block, updated_at)
     VALUES ($1, 'evm', 50, 45, '0xaa', 30, now())`,
    [seed.lonelyChain],
  )
  await testBus.pool.query(
    `INSERT INTO chain_listener_cursor (listener, chain, cursor_block, cursor_hash, finalized_block, finalized_hash, family)
     VALUES ($1, $2, 45, '0xaa', 30, '0xbb', 'evm')`,
    [testBus.namespace, seed.lonelyChain],
  )
  await eventually(
    async () => ((await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined),
    30_000,
    'gateway ready',
  )
}, 120_000)

afterAll(async () => {
  await gateway?.close()
  if (testBus) {
    const { pool } = testBus
    await pool.query('DELETE FROM bridge_findings WHERE finding_id = ANY($1)', [seed.findings])
    await pool.query('DELETE FROM bridge_alert_outbox WHERE alert_id = ANY($1)', [seed.alerts])
    await pool.query('DELETE FROM bridge_incidents WHERE alert_id = ANY($1)', [seed.alerts])
    await pool.query('DELETE FROM bridge_locks WHERE bridge_id = $1', [seed.bridge])
    await pool.query('DELETE FROM bridge_releases WHERE bridge_id = $1', [seed.bridge])
    await pool.query('DELETE FROM bridge_reserve_checks WHERE bridge_id = $1', [seed.bridge])
    await pool.query('DELETE FROM bridge_guardian_activity WHERE gateway = $1', [seed.guardianGateway])
    await pool.query('DELETE FROM chain_listener_state WHERE chain = $1', [seed.lonelyChain])
    await pool.query('DELETE FROM chain_listener_cursor WHERE chain = $1', [seed.lonelyChain])
    // chain_events rows of this namespace's topics go with the test bus.
    await testBus.close()
  }
})

const get = async (url: string, headers: Record<string, string>) => gateway.app.inject({ url, headers })
const post = async (url: string, body: unknown, headers: Record<string, string>) =>
  gateway.app.inject({ method: 'POST', url, payload: body as object, headers })

describe('security read endpoints', () => {
  test('behavior: the dashboard counts open incidents per detection and severity, leaving withdrawn ones out', async () => {
    const response = await get('/api/v1/security/dashboard', await bearer('alice', ['reader']))
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(
      body.openIncidents.byDetection.filter((row: { detection: string }) => row.detection === seed.probe),
    ).toEqual([{ detection: seed.probe, severity: 'HIGH', open: 1, occurrences: 3 }])
    expect(body.openIncidents.total).toBe(
      body.openIncidents.byDetection.reduce((sum: number, row: { open: number }) => sum + row.open, 0),
    )
    expect(body.recentAlerts.map((alert: { alertId: string }) => alert.alertId)).not.toContain(
      seed.foreignAlert,
    )
    expect(body.recentAlerts[0]).toMatchObject({
      alertId: raisedAlert,
      revision: 0,
      status: 'RAISED',
      detection: 'release-without-source',
      severity: 'CRITICAL',
      chains: [B],
    })
    // The latest check per token, not the earlier one: 90 / (80 + 20).
    expect(body.reserves.filter((check: { bridgeId: string }) => check.bridgeId === seed.bridge)).toEqual([
      expect.objectContaining({
        token: seed.token,
        custody: '90',
        wrappedSupply: '80',
        inFlight: '20',
        shortfall: '10',
        ratio: 0.9,
        backed: false,
        custodyBlock: 12,
        heights: { [A]: 12, [B]: 30 },
      }),
    ])
    expect(
      body.guardians.find((row: { gateway: string }) => row.gateway === seed.guardianGateway),
    ).toMatchObject({
      guardian: seed.guardian,
      operator: 'operator-7',
      signed: 8,
      eligible: 10,
      participation: 0.8,
      meanLatencyMs: 1000,
    })
    expect(body.pendingMessages).toBeGreaterThanOrEqual(2)
  })

  test('behavior: liveness splits pending messages per corridor by the SLA and reports guardian latency', async () => {
    const response = await get('/api/v1/security/liveness/summary', await bearer('alice', ['reader']))
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body.corridors.filter((row: { bridgeId: string }) => row.bridgeId === seed.bridge)).toEqual([
      expect.objectContaining({
        sourceChain: A,
        destinationChain: B,
        // Not in bridges.json: the default SLA of 15 minutes.
        slaMs: 900_000,
        pending: 2,
        pastSla: 1,
        withinSla: 1,
      }),
    ])
    const corridor = body.corridors.find((row: { bridgeId: string }) => row.bridgeId === seed.bridge)
    expect(corridor.oldestPendingAgeMs).toBeGreaterThanOrEqual(7_000_000)
    expect(body.guardians.some((row: { gateway: string }) => row.gateway === seed.guardianGateway)).toBe(true)
  })

  test('behavior: bridge metrics count messages, value and findings of one bridge; unknown ids are 404', async () => {
    const headers = await bearer('alice', ['reader'])
    const response = await get(`/api/v1/bridge/metrics/${seed.bridge}`, headers)
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body).toMatchObject({
      bridgeId: seed.bridge,
      configured: false,
      messages: { locked: 3, released: 3, pending: 2, releasedWithoutLock: 1 },
      incidents: { open: 4, total: 4 },
    })
    expect(body.value.locked).toEqual([{ chain: A, token: seed.token, amount: '1507', messages: 3 }])
    expect(body.value.released).toEqual([{ chain: B, token: seed.wrapped, amount: '2999', messages: 3 }])
    expect(body.value.pending).toEqual([{ chain: A, token: seed.token, amount: '507', messages: 2 }])
    expect(body.findingsByDetection).toEqual([
      { detection: 'governance-bypass', findings: 1, active: 1 },
      { detection: 'quorum-health', findings: 1, active: 1 },
      { detection: 'release-without-source', findings: 1, active: 1 },
      { detection: 'replay', findings: 1, active: 1 },
    ])
    const unknown = await get(`/api/v1/bridge/metrics/${testBus.namespace}-nothing`, headers)
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ error: 'bridge_not_found', field: 'params.bridgeId' })
    const bad = await get('/api/v1/bridge/metrics/Not_A_Bridge', headers)
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ error: 'invalid_request', field: 'params.bridgeId' })
    // A configured bridge with no traffic yet is known.
    const local = await get(`/api/v1/bridge/metrics/${bridges.bridges[0]!.id}`, headers)
    expect(local.statusCode).toBe(200)
    expect(local.json().configured).toBe(true)
  })

  test('behavior: a transaction lists its bridge events from the ledger and the guard, with their findings', async () => {
    const headers = await bearer('alice', ['reader'])
    const config = await get(
      `/api/v1/transaction/analyze/${seed.tx.t7.toUpperCase().replace('0X', '0x')}`,
      headers,
    )
    expect(config.statusCode).toBe(200)
    expect(config.json()).toMatchObject({
      txHash: seed.tx.t7,
      events: [
        {
          eventId: seed.events.config,
          kind: 'ThresholdChanged',
          chain: A,
          blockNumber: seed.base + 4,
          logIndex: 0,
        },
      ],
      findings: [
        { detection: 'quorum-health', subjectEventId: seed.events.config, incident: { severity: 'HIGH' } },
      ],
    })
    const lock = (await get(`/api/v1/transaction/analyze/${seed.tx.t1}?chain=${A}`, headers)).json()
    expect(lock.events).toEqual([
      expect.objectContaining({
        eventId: seed.events.lock1,
        kind: 'BridgeLocked',
        blockHash: null,
        lock: expect.objectContaining({ amount: '1000', destinationChain: B }),
        release: null,
      }),
    ])
    expect(lock.messageIds).toEqual([seed.messages.m1])
    // The same transaction asked on the other chain has nothing.
    expect((await get(`/api/v1/transaction/analyze/${seed.tx.t1}?chain=${B}`, headers)).statusCode).toBe(404)
    const unknown = await get(`/api/v1/transaction/analyze/${hash()}`, headers)
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ error: 'transaction_not_found', field: 'params.txHash' })
    const bad = await get('/api/v1/transaction/analyze/zz-not-a-hash', headers)
    expect(bad.statusCode).toBe(400)
    expect(bad.json().field).toBe('params.txHash')
  })

  test("behavior: network health adds the chain's durable cursors, last bridge event and open findings", async () => {
    const response = await get(
      `/api/v1/network/health/${seed.lonelyChain}`,
      await bearer('alice', ['reader']),
    )
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      chain: seed.lonelyChain,
      headBlock: 50,
      cursorBlock: 45,
      cursors: [{ listener: testBus.namespace, family: 'evm', cursorBlock: 45, finalizedBlock: 30 }],
      // Block 41 beats block 40; the withdrawn probe finding does not count.
      bridge: {
        lastEvent: { eventId: seed.events.lonely, kind: 'BridgeLocked', blockNumber: 41 },
        openFindings: 1,
      },
    })
  })
})

describe('security analysis requests', () => {
  test('behavior: attacks/detect answers the findings of a transaction or a block range', async () => {
    const headers = await bearer('alice', ['reader'])
    const detect = async (body: object) => post('/api/v1/security/attacks/detect', body, headers)
    const subjects = (response: { json(): { findings: { subjectEventId: string }[] } }) =>
      response
        .json()
        .findings.map((finding) => finding.subjectEventId)
        .sort()
    const byTx = await detect({ chain: B, txHash: seed.tx.t5 })
    expect(byTx.statusCode).toBe(200)
    expect(byTx.json()).toMatchObject({ chain: B, txHash: seed.tx.t5, truncated: false })
    expect(subjects(byTx)).toEqual([seed.events.rel4])
    // Only an incident's evidence places this one.
    expect(subjects(await detect({ chain: A, txHash: seed.tx.t8 }))).toEqual([seed.events.orphan])
    const range = { fromBlock: seed.base, toBlock: seed.base + 10 }
    expect(subjects(await detect({ chain: B, ...range }))).toEqual(
      [seed.events.rel1b, seed.events.rel4].sort(),
    )
    expect(subjects(await detect({ chain: A, ...range }))).toEqual(
      [seed.events.config, seed.events.orphan].sort(),
    )
    expect(subjects(await detect({ chain: A, fromBlock: seed.base + 5, toBlock: seed.base + 7 }))).toEqual([])
    expect((await detect({ chain: A, txHash: hash() })).json().findings).toEqual([])

    const refused = [
      [{ chain: A, txHash: seed.tx.t5, ...range }, 'body.txHash'],
      [{ chain: A, fromBlock: 5 }, 'body.toBlock'],
      [{ chain: A }, 'body.fromBlock'],
      [{ chain: A, fromBlock: 10, toBlock: 9 }, 'body.toBlock'],
      [{ chain: A, fromBlock: 0, toBlock: 1_000_000 }, 'body.toBlock'],
      [{ chain: 'eip155:424242424242', txHash: seed.tx.t5 }, 'body.chain'],
      [{ chain: A, txHash: 'nope' }, 'body.txHash'],
      [{ chain: A, fromBlock: -1, toBlock: 3 }, 'body.fromBlock'],
    ] as const
    for (const [body, field] of refused) {
      const response = await detect(body)
      expect(response.statusCode, JSON.stringify(body)).toBe(400)
      expect(response.json()).toMatchObject({ error: 'invalid_request', field })
    }
  })

  test('behavior: bridge/analyze follows a message to its lock, releases, backing and findings', async () => {
    const headers = await bearer('alice', ['reader'])
    const analyze = async (body: object) => post('/api/v1/bridge/analyze', body, headers)
    const replayed = await analyze({ messageId: seed.messages.m1.toUpperCase().replace('0X', '0x') })
    expect(replayed.statusCode).toBe(200)
    const [message] = replayed.json().messages
    expect(message).toMatchObject({
      messageId: seed.messages.m1,
      bridgeId: seed.bridge,
      status: 'replayed',
      lock: { eventId: seed.events.lock1, amount: '1000', chain: A },
      backing: { locked: '1000', released: '2000', unbacked: '1000', sourceConfirmed: true },
      findings: [{ detection: 'replay', subjectEventId: seed.events.rel1b }],
    })
    expect(message.releases.map((release: { eventId: string }) => release.eventId).sort()).toEqual(
      [seed.events.rel1, seed.events.rel1b].sort(),
    )
    const unbacked = (await analyze({ messageId: seed.messages.m4 })).json().messages[0]
    expect(unbacked).toMatchObject({
      status: 'unbacked',
      lock: null,
      backing: { locked: null, released: '999', unbacked: '999', sourceConfirmed: false },
      findings: [{ detection: 'release-without-source' }],
    })
    const pending = (await analyze({ txHash: seed.tx.t3, chain: A })).json().messages
    expect(pending).toEqual([
      expect.objectContaining({ messageId: seed.messages.m2, status: 'pending', releases: [] }),
    ])
    const unknown = await analyze({ messageId: seed.messages.m5 })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ error: 'message_not_found', field: 'body.messageId' })
    const both = await analyze({ messageId: seed.messages.m1, txHash: seed.tx.t1 })
    expect(both.statusCode).toBe(400)
    expect(both.json().field).toBe('body.messageId')
    expect((await analyze({ messageId: '0x1234' })).json()).toMatchObject({ field: 'body.messageId' })
  })

  test('behavior: reserves/verify answers the latest check per token, an empty list when there is none', async () => {
    const headers = await bearer('alice', ['reader'])
    const verify = async (body: object) => post('/api/v1/security/reserves/verify', body, headers)
    const mine = await verify({ bridgeId: seed.bridge })
    expect(mine.statusCode).toBe(200)
    expect(mine.json().checks).toEqual([
      expect.objectContaining({ token: seed.token, custody: '90', ratio: 0.9 }),
    ])
    expect(
      (await verify({ bridgeId: seed.bridge, tokens: [seed.token.toUpperCase()] })).json().checks,
    ).toHaveLength(1)
    expect((await verify({ bridgeId: seed.bridge, tokens: [address()] })).json().checks).toEqual([])
    const all = (await verify({})).json().checks
    expect(all.some((check: { bridgeId: string }) => check.bridgeId === seed.bridge)).toBe(true)
    const unknown = await verify({ bridgeId: `${testBus.namespace}-nothing` })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ error: 'bridge_not_found', field: 'body.bridgeId' })
    expect((await verify({ bridgeId: seed.bridge, extra: 1 })).json()).toMatchObject({ field: 'body.extra' })
  })
})

describe('attestation check against the local BridgeGateway', () => {
  const provider = () =>
    new JsonRpcProvider(jsonRpcRequest(bridges.chains[B]!.rpcUrls[0]!), undefined, { staticNetwork: true })
  const gatewayOn = (chain: string) => bridges.bridges[0]!.gateways[chain]!
  const guardians = () => DEV_ACCOUNT.guardians.map((index) => devWallet(index))

  /** The release's message id and digest as the contract itself computes them, and its guardian set. */
  async function onChain(release: {
    mode: 'MINT' | 'UNLOCK'
    token: string
    recipient: string
    amount: bigint
    nonce: bigint
  }) {
    const contract = new Contract(gatewayOn(B), loadArtifact('BridgeGateway').abi as never, provider())
    const messageId = (await contract.getFunction('messageIdOf')(
      31337n,
      gatewayOn(A),
      release.nonce,
    )) as string
    const digest = (await contract.getFunction('releaseDigest')(
      release.mode === 'MINT' ? 0 : 1,
      release.token,
      release.recipient,
      release.amount,
      messageId,
    )) as string
    const set = ((await contract.getFunction('guardians')()) as string[]).map((g) => g.toLowerCase())
    return { messageId, digest, set }
  }

  const sign = async (wallet: HDNodeWallet, digest: string) => wallet.signMessage(getBytes(digest))

  async function attestation(overrides: { amount?: bigint; nonce?: bigint } = {}) {
    const release = {
      mode: 'MINT' as const,
      token: bridges.bridges[0]!.tokens[0]!.addresses[B]!,
      recipient: devWallet(DEV_ACCOUNT.user).address,
      amount: overrides.amount ?? 123_456_789n,
      nonce: overrides.nonce ?? BigInt(Math.floor(Math.random() * 1e12)) + 1_000_000n,
    }
    const facts = await onChain(release)
    const body = (signatures: string[], extra: Record<string, unknown> = {}) => ({
      bridgeId: bridges.bridges[0]!.id,
      destinationChain: B,
      gateway: gatewayOn(B),
      release: {
        mode: release.mode,
        token: release.token,
        recipient: release.recipient,
        amount: release.amount.toString(),
        sourceChain: A,
        nonce: release.nonce.toString(),
        ...extra,
      },
      signatures,
    })
    return { release, ...facts, body }
  }

  const check = async (body: object, roles: Parameters<typeof bearer>[1] = ['analyst']) =>
    post('/api/v1/security/attestations/process', body, await bearer('sam', roles))

  test('behavior: a quorum of guardian signatures over the digest the contract computes is valid', async () => {
    const { digest, set, messageId, body } = await attestation()
    const signers = guardians()
    expect(signers.map((wallet) => wallet.address.toLowerCase()).sort()).toEqual([...set].sort())
    const response = await check(
      body([await sign(signers[0]!, digest), await sign(signers[1]!, digest)], { messageId }),
    )
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      verdict: 'valid',
      reasons: [],
      messageId: messageId.toLowerCase(),
      guardianSet: { threshold: 2 },
      validSigners: [signers[0]!.address, signers[1]!.address],
      message: { sourceLockSeen: false, releasesSeen: 0 },
    })
    expect(
      response
        .json()
        .guardianSet.guardians.map((g: string) => g.toLowerCase())
        .sort(),
    ).toEqual([...set].sort())
  })

  test('behavior: forged, repeated, short, malformed and mismatched attestations are invalid with their reasons', async () => {
    const { digest, body } = await attestation()
    const [g1, g2] = guardians()
    const outsider = devWallet(DEV_ACCOUNT.spare[0])
    const otherDigest = (await attestation({ amount: 1n })).digest
    const cases: [string[], Record<string, unknown>, RegExp[]][] = [
      [
        [await sign(g1!, digest), await sign(outsider, digest)],
        {},
        [/signature #1 recovers to .* not a guardian/, /1 valid guardian signature\(s\), threshold 2/],
      ],
      [
        [await sign(g1!, digest), await sign(g2!, otherDigest)],
        {},
        [/signature #1 recovers to .*signed over a different message/],
      ],
      [[await sign(g1!, digest), await sign(g1!, digest)], {}, [/signature #1 repeats guardian/]],
      [[await sign(g1!, digest)], {}, [/1 valid guardian signature\(s\), threshold 2/]],
      [
        [await sign(g1!, digest), `0x${'ab'.repeat(64)}`],
        {},
        [/signature #1 64 bytes, not a 65-byte ECDSA signature/],
      ],
      [
        [await sign(g1!, digest), await sign(g2!, digest)],
        { messageId: hash() },
        [/does not follow from source chain/],
      ],
    ]
    for (const [signatures, extra, reasons] of cases) {
      const response = await check(body(signatures, extra))
      expect(response.statusCode).toBe(200)
      const verdict = response.json()
      expect(verdict.verdict, JSON.stringify(verdict.reasons)).toBe('invalid')
      for (const reason of reasons) expect(verdict.reasons.join('\n')).toMatch(reason)
    }
    // A signature is only good for the exact release: the same two over another amount fail here.
    const wrongAmount = await check({
      ...body([await sign(g1!, otherDigest), await sign(g2!, otherDigest)]),
    })
    expect(wrongAmount.json().verdict).toBe('invalid')
    expect(wrongAmount.json().validSigners).toEqual([])
  })

  test('error: refused without the right, for unknown bridges, foreign gateways and bad fields; each request audited', async () => {
    const { digest, body } = await attestation()
    const [g1, g2] = guardians()
    const good = body([await sign(g1!, digest), await sign(g2!, digest)])
    const forbidden = await check(good, ['reader'])
    expect(forbidden.statusCode).toBe(403)
    expect(forbidden.json()).toMatchObject({ error: 'forbidden' })
    expect((await check(good, ['admin'])).statusCode).toBe(200)
    const anonymous = await post('/api/v1/security/attestations/process', good, {})
    expect(anonymous.statusCode).toBe(401)

    const refused: [object, number, string, string][] = [
      [{ ...good, bridgeId: `${testBus.namespace}-nothing` }, 404, 'bridge_not_found', 'body.bridgeId'],
      [{ ...good, gateway: address() }, 400, 'invalid_request', 'body.gateway'],
      [{ ...good, destinationChain: 'eip155:1' }, 400, 'invalid_request', 'body.destinationChain'],
      [
        { ...good, release: { ...good.release, sourceChain: B } },
        400,
        'invalid_request',
        'body.release.sourceChain',
      ],
      [
        { ...good, release: { ...good.release, amount: (1n << 256n).toString() } },
        400,
        'invalid_request',
        'body.release.amount',
      ],
      [
        { ...good, release: { ...good.release, amount: '007' } },
        400,
        'invalid_request',
        'body.release.amount',
      ],
      [
        { ...good, release: { ...good.release, token: '0x12' } },
        400,
        'invalid_request',
        'body.release.token',
      ],
      [{ ...good, signatures: [] }, 400, 'invalid_request', 'body.signatures'],
      [{ ...good, signatures: ['0xabc'] }, 400, 'invalid_request', 'body.signatures[0]'],
      [{ ...good, extra: true }, 400, 'invalid_request', 'body.extra'],
    ]
    for (const [payload, status, error, field] of refused) {
      const response = await check(payload)
      expect(response.statusCode, field).toBe(status)
      expect(response.json()).toMatchObject({ error, field })
    }

    // One audit fact per request to the route, answered or refused, naming actor and verdict.
    const ids = [forbidden.headers['x-request-id'], (await check(good)).headers['x-request-id']]
    const mine = (records: readonly { decoded: unknown }[]) =>
      ids.map((id) =>
        records.map((record) => record.decoded as AuditFact).find((fact) => fact.requestId === id),
      )
    const records = await readTopic(testBus, testBus.bus.topics.auditIntake.name, 1, 20_000, (read) =>
      mine(read).every((fact) => fact !== undefined),
    )
    const [refusedFact, answeredFact] = mine(records)
    expect(refusedFact).toMatchObject({
      action: 'security.refused',
      status: 403,
      commandType: 'CheckAttestation',
      actor: { kind: 'USER', id: 'sam' },
    })
    expect(answeredFact).toMatchObject({
      action: 'security.answered',
      status: 200,
      commandType: 'CheckAttestation',
    })
    expect(answeredFact!.reason).toMatch(/^verdict valid for message 0x[0-9a-f]{64} on eip155:31338/)
  })

  test('error: a chain that does not answer is 503, nothing is guessed', async () => {
    const dead = structuredClone(bridges)
    dead.chains[B] = { ...dead.chains[B]!, rpcUrls: ['http://127.0.0.1:9'], requestTimeoutMs: 500 }
    const offline = await startTestGateway(
      testBus,
      { VERIDIS_LOG_LEVEL: 'fatal' },
      { bridges: dead, opsPort: 0 },
    )
    try {
      const { digest, body } = await attestation()
      const [g1, g2] = guardians()
      const response = await offline.app.inject({
        method: 'POST',
        url: '/api/v1/security/attestations/process',
        payload: body([await sign(g1!, digest), await sign(g2!, digest)]),
        headers: await bearer('sam', ['analyst']),
      })
      expect(response.statusCode).toBe(503)
      expect(response.json()).toMatchObject({ error: 'chain_unavailable' })
      expect(response.headers['retry-after']).toBe('1')
    } finally {
      await offline.close()
    }
  })
})
