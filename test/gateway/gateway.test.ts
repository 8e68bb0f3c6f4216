import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { projectorConsumer } from '../../consumers/projector/index.ts'
import { valueSubject } from '../../core/bus/codec.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { AuditFact, Command, ProofResult } from '../../core/bus/types.ts'
import { loadProverKeyPair } from '../../core/crypto/prover-key.ts'
import { openProveInputs } from '../../core/crypto/prover-seal.ts'
import { runConsumerProcess } from '../../core/service/consumer-process.ts'
import { createApiKey, revokeApiKey } from '../../producers/gateway/api-keys.ts'
import type { Gateway } from '../../producers/gateway/index.ts'
import { eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import {
  bearer,
  cleanReadModels,
  FIELD,
  JWT_SECRET,
  startTestGateway,
  token,
  VALID_BODIES,
} from './support.ts'
import { readTopic, recordCount } from './topic-reader.ts'

let testBus: TestBus
let producer: BusProducer
let gateway: Gateway
let stopProjector: (() => Promise<void>) | undefined
const apiKeyIds: string[] = []
const listenerChains: string[] = []

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  const projector = await runConsumerProcess(testBus.common, projectorConsumer, { opsPort: 0 })
  stopProjector = () => projector.runner.stop()
  gateway = await startTestGateway(testBus)
  await eventually(
    async () => ((await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined),
    30_000,
    'gateway ready',
  )
})

afterAll(async () => {
  await gateway?.close()
  await stopProjector?.()
  await producer?.disconnect()
  if (testBus) {
    await cleanReadModels(testBus, ['USER:alice', 'USER:bob', 'USER:carol'])
    await testBus.pool.query('DELETE FROM gateway_api_keys WHERE key_id = ANY($1)', [apiKeyIds])
    await testBus.pool.query('DELETE FROM chain_listener_state WHERE chain = ANY($1)', [listenerChains])
    await testBus.close()
  }
})

const post = async (url: string, body: unknown, headers: Record<string, string>) =>
  gateway.app.inject({ method: 'POST', url, payload: body as object, headers })

const commandTopic = () => testBus.bus.topics.command.name
const auditTopic = () => testBus.bus.topics.auditIntake.name

describe('commands over HTTP', () => {
  test('behavior: a command lands Avro-encoded on the command topic and its status follows the read model to done', async () => {
    const alice = await bearer('alice', ['prover'])
    const before = await recordCount(testBus, commandTopic())
    const response = await post('/api/v1/proofs/identity', VALID_BODIES['/api/v1/proofs/identity'], alice)
    expect(response.statusCode).toBe(202)
    const accepted = response.json() as { commandId: string; statusUrl: string; status: string }
    expect(accepted.status).toBe('accepted')
    expect(accepted.statusUrl).toBe(`/api/v1/commands/${accepted.commandId}`)
    expect(response.headers.location).toBe(accepted.statusUrl)

    // On the topic: Confluent wire format with the registered schema id, and the same command.
    const records = await readTopic(testBus, commandTopic(), before + 1)
    const record = records.find(
      (candidate) => (candidate.decoded as Command).commandId === accepted.commandId,
    )!
    expect(record.value[0]).toBe(0)
    const registered = await fetch(
      `${testBus.common.config.schemaRegistry.url}/subjects/${encodeURIComponent(valueSubject(commandTopic()))}/versions/latest`,
    ).then((r) => r.json() as Promise<{ id: number }>)
    expect(record.value.readInt32BE(1)).toBe(registered.id)
    const command = record.decoded as Command
    expect(command.actor).toEqual({ kind: 'USER', id: 'alice' })
    // Inputs are sealed to the prover's key on the topic (core/crypto/prover-seal.ts): only it opens them.
    const prove = command.payload['io.veridis.command.ProveCommand']!
    expect(prove.circuit).toBe('IDENTITY_MEMBERSHIP')
    expect(record.value.includes(FIELD)).toBe(false)
    expect(
      openProveInputs(loadProverKeyPair(testBus.common.config), command.commandId, prove.inputs),
    ).toEqual({
      secret: [FIELD],
      merkleProofSiblings: ['1', '2', '3'],
    })
    expect(record.key).toBe(command.idempotencyKey)
    expect(record.headers.eventId).toBe(accepted.commandId)
    expect(record.headers.producer).toBe('gateway')

    // accepted: the projector has it.
    const status = async () =>
      (await gateway.app.inject({ url: accepted.statusUrl, headers: alice })).json() as {
        status: string
        history: { status: string }[]
        result: Record<string, unknown> | null
        summary: Record<string, unknown>
      }
    const first = await eventually(
      async () => {
        const view = await status()
        return view.status === 'accepted' ? view : undefined
      },
      20_000,
      'status accepted',
    )
    // Private inputs never reach the read model: only the signal names.
    expect(first.summary).toEqual({
      circuit: 'IDENTITY_MEMBERSHIP',
      inputSignals: ['merkleProofSiblings', 'secret'],
    })
    expect(JSON.stringify(first)).not.toContain(FIELD)

    // processing: the consumer that picked it up reports it in the audit trail.
    await producer.publish(testBus.bus.topics.audit.name, [
      {
        key: 'none',
        eventId: randomUUID(),
        value: {
          auditId: randomUUID(),
          chainId: 'partition-0',
          sequence: 0,
          prevHash: '0'.repeat(64),
          recordHash: 'f'.repeat(64),
          action: 'proof.started',
          actor: { kind: 'SERVICE', id: 'prover' },
          subjectHash: null,
          gdprCategory: 'NONE',
          legalBasis: 'NOT_APPLICABLE',
          retentionDays: null,
          references: [accepted.commandId],
          details: {},
          occurredAt: Date.now(),
        },
      },
    ])
    await eventually(
      async () => ((await status()).status === 'processing' ? true : undefined),
      20_000,
      'processing',
    )

    // done: the prover's ProofResult (the real contract), keyed by command id.
    const result: ProofResult = {
      resultId: randomUUID(),
      commandId: accepted.commandId,
      sourceEventId: null,
      circuit: 'IDENTITY_MEMBERSHIP',
      status: 'GENERATED',
      proof: null,
      publicSignals: ['11', '22'],
      reason: null,
      durationMs: 812,
      producedAt: Date.now() + 10,
    }
    await producer.publish(testBus.bus.topics.proof.name, [
      { key: accepted.commandId, value: result, eventId: result.resultId },
    ])
    const done = await eventually(
      async () => {
        const view = await status()
        return view.status === 'done' ? view : undefined
      },
      20_000,
      'done',
    )
    expect(done.history.map((entry) => entry.status)).toEqual(['accepted', 'processing', 'done'])
    expect(done.result).toMatchObject({
      proofStatus: 'GENERATED',
      publicSignals: ['11', '22'],
      durationMs: 812,
    })
  })

  test('behavior: a rejected proof ends failed with its reason', async () => {
    const alice = await bearer('alice', ['prover'])
    const response = await post('/api/v1/proofs/verify', VALID_BODIES['/api/v1/proofs/verify'], alice)
    expect(response.statusCode).toBe(202)
    const { commandId } = response.json() as { commandId: string }
    const rejected: ProofResult = {
      resultId: randomUUID(),
      commandId,
      sourceEventId: null,
      circuit: 'IDENTITY_MEMBERSHIP',
      status: 'REJECTED',
      proof: null,
      publicSignals: [],
      reason: 'pairing check failed',
      durationMs: 30,
      producedAt: Date.now(),
    }
    await producer.publish(testBus.bus.topics.proof.name, [
      { key: commandId, value: rejected, eventId: rejected.resultId },
    ])
    const view = await eventually(
      async () => {
        const body = (
          await gateway.app.inject({ url: `/api/v1/commands/${commandId}`, headers: alice })
        ).json() as {
          status: string
          result: { reason: string } | null
        }
        return body.status === 'failed' ? body : undefined
      },
      20_000,
      'failed',
    )
    expect(view.result?.reason).toBe('pairing check failed')
  })

  test('behavior: a command written by an upstream system directly appears too, to auditors but not to others', async () => {
    const commandId = randomUUID()
    const command: Command = {
      commandId,
      idempotencyKey: `upstream-${commandId}`,
      issuedAt: Date.now(),
      actor: { kind: 'UPSTREAM', id: 'kyc-system' },
      payload: {
        'io.veridis.command.AnalyzeTransactionCommand': {
          chain: 'eip155:31337',
          txHash: `0x${'12'.repeat(32)}`,
        },
      },
    }
    await producer.publish(commandTopic(), [
      { key: command.idempotencyKey, value: command, eventId: commandId },
    ])
    const auditor = await bearer('carol', ['auditor'])
    const view = await eventually(
      async () => {
        const response = await gateway.app.inject({ url: `/api/v1/commands/${commandId}`, headers: auditor })
        return response.statusCode === 200
          ? (response.json() as { actor: unknown; type: string; status: string })
          : undefined
      },
      20_000,
      'upstream command projected',
    )
    expect(view).toMatchObject({
      actor: { kind: 'UPSTREAM', id: 'kyc-system' },
      type: 'AnalyzeTransactionCommand',
      status: 'accepted',
    })
    const stranger = await gateway.app.inject({
      url: `/api/v1/commands/${commandId}`,
      headers: await bearer('bob', ['analyst']),
    })
    expect(stranger.statusCode).toBe(404)
  })
})

describe('idempotency', () => {
  test('behavior: the same request with the same Idempotency-Key twice is one command, also after a gateway restart', async () => {
    const headers = { ...(await bearer('alice', ['relayer'])), 'idempotency-key': `order-${randomUUID()}` }
    const body = VALID_BODIES['/api/v1/nullifiers/propagate']
    const before = await recordCount(testBus, commandTopic())
    const first = await post('/api/v1/nullifiers/propagate', body, headers)
    const second = await post('/api/v1/nullifiers/propagate', body, headers)
    expect(first.statusCode).toBe(202)
    expect(second.statusCode).toBe(202)
    const id = (first.json() as { commandId: string }).commandId
    expect(second.json() as { commandId: string; replayed: boolean }).toMatchObject({
      commandId: id,
      replayed: true,
    })
    expect(second.headers['idempotent-replayed']).toBe('true')

    // Another gateway instance (as after a restart) answers with the same id.
    const other = await startTestGateway(testBus)
    try {
      await eventually(async () =>
        (await other.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined,
      )
      const third = await other.app.inject({
        method: 'POST',
        url: '/api/v1/nullifiers/propagate',
        payload: body,
        headers,
      })
      expect((third.json() as { commandId: string }).commandId).toBe(id)
    } finally {
      await other.close()
    }
    // Exactly one record reached the topic.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await recordCount(testBus, commandTopic())).toBe(before + 1)

    // The key reused for a different request is refused.
    const changed = await post('/api/v1/nullifiers/propagate', { ...body, scope: '2' }, headers)
    expect(changed.statusCode).toBe(422)
    expect(changed.json()).toMatchObject({
      error: 'idempotency_key_reused',
      field: 'headers.idempotency-key',
    })
  })

  test('behavior: whether a first attempt is still in progress is decided by Postgres, whatever the gateway clock says', async () => {
    const key = `progress-${randomUUID()}`
    const headers = { ...(await bearer('alice', ['analyst'])), 'idempotency-key': key }
    const url = '/api/v1/analysis/bridge'
    const body = VALID_BODIES[url]
    const first = await post(url, body, headers)
    expect(first.statusCode).toBe(202)
    const id = (first.json() as { commandId: string }).commandId
    // The publication is recorded just after the answer; this test rewrites it afterwards.
    await eventually(async () => {
      const { rows } = await testBus.pool.query(
        `SELECT 1 FROM gateway_idempotency
         WHERE caller = 'USER:alice' AND idempotency_key = $1 AND published_at IS NOT NULL`,
        [key],
      )
      return rows.length > 0 ? true : undefined
    })
    const unpublished = (createdAt: string) =>
      testBus.pool.query(
        `UPDATE gateway_idempotency SET published_at = NULL, created_at = ${createdAt}
         WHERE caller = 'USER:alice' AND idempotency_key = $1`,
        [key],
      )

    // Reserved just now and not yet acknowledged: the retry is told to wait.
    await unpublished('now()')
    const waiting = await post(url, body, headers)
    expect(waiting.statusCode).toBe(409)
    expect(waiting.json()).toMatchObject({ error: 'request_in_progress' })

    // Reserved an hour ago by the database's clock, with the gateway's clock an hour behind:
    // the first attempt is over, so the retry publishes the same command again.
    await unpublished("now() - interval '1 hour'")
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
    try {
      vi.setSystemTime(Date.now() - 3_600_000)
      const retried = await post(url, body, headers)
      expect(retried.statusCode).toBe(202)
      expect(retried.json()).toMatchObject({ commandId: id, replayed: true })
    } finally {
      vi.useRealTimers()
    }
  })

  test('behavior: two callers using the same key get two commands', async () => {
    const key = `shared-${randomUUID()}`
    const body = VALID_BODIES['/api/v1/analysis/bridge']
    const a = await post('/api/v1/analysis/bridge', body, {
      ...(await bearer('alice', ['analyst'])),
      'idempotency-key': key,
    })
    const b = await post('/api/v1/analysis/bridge', body, {
      ...(await bearer('bob', ['analyst'])),
      'idempotency-key': key,
    })
    expect(a.statusCode).toBe(202)
    expect(b.statusCode).toBe(202)
    expect((a.json() as { commandId: string }).commandId).not.toBe(
      (b.json() as { commandId: string }).commandId,
    )
  })
})

describe('input validation', () => {
  test('error: malformed JSON, wrong types, unknown fields, bad field elements → 400 naming the field; oversized → 413; nothing reaches the bus', async () => {
    const headers = await bearer('alice', ['admin'])
    const before = await recordCount(testBus, commandTopic())
    const raw = (url: string, payload: string, contentType = 'application/json') =>
      gateway.app.inject({
        method: 'POST',
        url,
        payload,
        headers: { ...headers, 'content-type': contentType },
      })

    const malformed = await raw('/api/v1/attestations', '{"chain": "eip155:1",')
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json()).toMatchObject({ error: 'invalid_json', field: 'body' })

    const attestation = VALID_BODIES['/api/v1/attestations']!
    const cases: [string, unknown, number, string, RegExp][] = [
      ['/api/v1/attestations', { ...attestation, root: 12 }, 400, 'body.root', /must be string/],
      ['/api/v1/attestations', { ...attestation, extra: 'x' }, 400, 'body.extra', /unknown field/],
      ['/api/v1/attestations', { ...attestation, chain: undefined }, 400, 'body.chain', /is required/],
      ['/api/v1/attestations', { ...attestation, chain: 'eip155:0xdead' }, 400, 'body.chain', /CAIP-2/],
      [
        '/api/v1/attestations',
        {
          ...attestation,
          root: '21888242871839275222246405745257275088548364400416034343698204186575808495617',
        },
        400,
        'body.root',
        /below the BN254 scalar field modulus/,
      ],
      [
        '/api/v1/proofs/identity',
        { inputs: { secret: ['1', '-5'] } },
        400,
        'body.inputs.secret[1]',
        /field element/,
      ],
      [
        '/api/v1/proofs/identity',
        { inputs: { secret: ['1'] }, circuit: 'ERASURE' },
        400,
        'body.circuit',
        /unknown field/,
      ],
      [
        '/api/v1/analysis/bridge',
        { chain: 'eip155:1', messageId: '0x12' },
        400,
        'body.messageId',
        /32-byte hash/,
      ],
      [
        '/api/v1/erasure-requests',
        { subjectId: 'x'.repeat(300) },
        400,
        'body.subjectId',
        /must NOT have more than 256/,
      ],
    ]
    for (const [url, body, status, field, message] of cases) {
      const response = await post(url, body, headers)
      expect(response.statusCode, `${url} ${field}`).toBe(status)
      const answer = response.json() as { field: string; message: string }
      expect(answer.field).toBe(field)
      expect(answer.message).toMatch(message)
      expect(answer.message).toContain(field)
    }

    const huge = await raw(
      '/api/v1/proofs/identity',
      JSON.stringify({ inputs: { x: Array(20_000).fill('1') } }),
    )
    expect(huge.statusCode).toBe(413)
    expect(huge.json()).toMatchObject({ error: 'body_too_large', field: 'body' })

    const wrongType = await raw('/api/v1/attestations', 'chain=eip155:1', 'application/x-www-form-urlencoded')
    expect(wrongType.statusCode).toBe(415)

    // Nothing of the above reached the command topic.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await recordCount(testBus, commandTopic())).toBe(before)
  })
})

describe('security', () => {
  test('error: missing or bad credentials → 401; a role without the right → 403', async () => {
    const body = VALID_BODIES['/api/v1/attestations']
    const url = '/api/v1/attestations'
    expect((await post(url, body, {})).statusCode).toBe(401)
    expect((await post(url, body, { authorization: 'Basic abc' })).statusCode).toBe(401)
    const forged = await token('mallory', ['admin'], { secret: 'x'.repeat(40) })
    expect((await post(url, body, { authorization: `Bearer ${forged}` })).statusCode).toBe(401)
    const otherIssuer = await token('mallory', ['admin'], { issuer: 'https://elsewhere' })
    expect((await post(url, body, { authorization: `Bearer ${otherIssuer}` })).statusCode).toBe(401)
    const otherAudience = await token('mallory', ['admin'], { audience: 'someone-else' })
    expect((await post(url, body, { authorization: `Bearer ${otherAudience}` })).statusCode).toBe(401)
    const expired = await token('mallory', ['admin'], { expiresIn: '-1m' })
    const expiredResponse = await post(url, body, { authorization: `Bearer ${expired}` })
    expect(expiredResponse.statusCode).toBe(401)
    expect(expiredResponse.headers['www-authenticate']).toBeDefined()
    expect((await post(url, body, { 'x-api-key': `vk_0123456789abcdef_${'A'.repeat(43)}` })).statusCode).toBe(
      401,
    )

    const forbidden = await post(url, body, await bearer('alice', ['prover']))
    expect(forbidden.statusCode).toBe(403)
    expect(forbidden.json()).toMatchObject({ error: 'forbidden' })
    // Reading status needs credentials as well.
    expect((await gateway.app.inject({ url: `/api/v1/commands/${randomUUID()}` })).statusCode).toBe(401)
  })

  test('behavior: API keys work until revoked; they are stored only as a hash', async () => {
    const { key, record } = await createApiKey(testBus.pool, {
      name: `test ${testBus.namespace}`,
      roles: ['attester'],
    })
    apiKeyIds.push(record.keyId)
    const stored = await testBus.pool.query('SELECT * FROM gateway_api_keys WHERE key_id = $1', [
      record.keyId,
    ])
    expect(JSON.stringify(stored.rows[0])).not.toContain(key.slice(-43))
    const ok = await post('/api/v1/attestations', VALID_BODIES['/api/v1/attestations'], { 'x-api-key': key })
    expect(ok.statusCode).toBe(202)
    const wrongRole = await post('/api/v1/proofs/erasure', VALID_BODIES['/api/v1/proofs/erasure'], {
      'x-api-key': key,
    })
    expect(wrongRole.statusCode).toBe(403)
    expect(await revokeApiKey(testBus.pool, record.keyId)).toBe(true)
    const revoked = await post('/api/v1/attestations', VALID_BODIES['/api/v1/attestations'], {
      'x-api-key': key,
    })
    expect(revoked.statusCode).toBe(401)
  })

  test('error: over the per-caller rate limit → 429, other callers unaffected', async () => {
    const limited = await startTestGateway(testBus, {
      VERIDIS_GATEWAY_RATE_LIMIT: '3',
      VERIDIS_GATEWAY_RATE_WINDOW_MS: '60000',
    })
    try {
      const alice = await bearer('alice', ['reader'])
      const statuses: number[] = []
      for (let i = 0; i < 5; i++)
        statuses.push(
          (await limited.app.inject({ url: '/api/v1/network/status', headers: alice })).statusCode,
        )
      expect(statuses).toEqual([200, 200, 200, 429, 429])
      const limitedResponse = await limited.app.inject({ url: '/api/v1/network/status', headers: alice })
      expect(limitedResponse.json()).toMatchObject({ error: 'rate_limited' })
      expect(Number(limitedResponse.headers['retry-after'])).toBeGreaterThan(0)
      const bob = await limited.app.inject({
        url: '/api/v1/network/status',
        headers: await bearer('bob', ['reader']),
      })
      expect(bob.statusCode).toBe(200)
    } finally {
      await limited.close()
    }
  })

  test('behavior: security headers on every answer; CORS only for configured origins', async () => {
    const response = await gateway.app.inject({ url: '/health', headers: { origin: 'https://evil.example' } })
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect(response.headers['strict-transport-security']).toBeDefined()
    expect(response.headers['content-security-policy']).toBeDefined()
    expect(response.headers['access-control-allow-origin']).toBeUndefined()
    const withCors = await startTestGateway(testBus, {
      VERIDIS_GATEWAY_CORS_ORIGINS: 'https://app.veridis.example',
    })
    try {
      const preflight = await withCors.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/attestations',
        headers: { origin: 'https://app.veridis.example', 'access-control-request-method': 'POST' },
      })
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.veridis.example')
      const foreign = await withCors.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/attestations',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      })
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined()
    } finally {
      await withCors.close()
    }
  })
})

describe('audit facts', () => {
  test('behavior: every accepted or refused command request leaves one fact (401s counted per window), without secrets, inputs or subject ids', async () => {
    const before = await recordCount(testBus, auditTopic())
    const jwt = await token('dora', ['compliance'])
    const requestIds: string[] = []
    const send = async (url: string, body: unknown, headers: Record<string, string>) => {
      const response = await post(url, body, headers)
      requestIds.push(response.headers['x-request-id'] as string)
      return response
    }
    const accepted = await send(
      '/api/v1/erasure-requests',
      { subjectId: 'subject-secret-42' },
      { authorization: `Bearer ${jwt}` },
    )
    expect(accepted.statusCode).toBe(202)
    const refusedRole = await send(
      '/api/v1/proofs/identity',
      { inputs: { secret: ['987654321987654321'] } },
      { authorization: `Bearer ${jwt}` },
    )
    expect(refusedRole.statusCode).toBe(403)
    const invalid = await send(
      '/api/v1/erasure-requests',
      { subjectId: 'subject-secret-42', extra: 1 },
      { authorization: `Bearer ${jwt}` },
    )
    expect(invalid.statusCode).toBe(400)
    const anonymous = await send(
      '/api/v1/erasure-requests',
      { subjectId: 'subject-secret-42' },
      { authorization: `Bearer ${jwt}x` },
    )
    expect(anonymous.statusCode).toBe(401)

    const mine = (records: readonly { decoded: unknown }[]) =>
      requestIds.map((id) => records.find((record) => (record.decoded as AuditFact).requestId === id))
    const records = await readTopic(testBus, auditTopic(), before + 4, 20_000, (read) =>
      mine(read).every((record) => record !== undefined),
    )
    const found = mine(records) as { key: string | null; decoded: unknown }[]
    const facts = found.map((record) => record.decoded as AuditFact)
    expect(facts.map((fact) => [fact.action, fact.status])).toEqual([
      ['command.accepted', 202],
      ['command.refused', 403],
      ['command.refused', 400],
      // Refusals anyone can cause at will are counted per window, not written one by one.
      ['command.refused.counted', 401],
    ])
    expect(facts[0]).toMatchObject({
      actor: { kind: 'USER', id: 'dora' },
      commandType: 'RequestErasureCommand',
      commandId: (accepted.json() as { commandId: string }).commandId,
    })
    expect(facts[1]!.reason).toMatch(/may not send ProveCommand/)
    expect(facts[2]!.reason).toMatch(/body.extra: unknown field/)
    expect(facts[3]!.actor).toEqual({ kind: 'USER', id: 'anonymous' })
    expect(facts[3]!.reason).toMatch(/^count=1; /)
    expect(found.map((record) => record.key)).toEqual(['dora', 'dora', 'dora', 'anonymous'])
    // One fact per request, not more.
    expect(
      records.filter((record) => requestIds.includes((record.decoded as AuditFact).requestId)),
    ).toHaveLength(4)
    const everything = JSON.stringify(facts)
    for (const secret of ['subject-secret-42', '987654321987654321', jwt.split('.')[2]!, JWT_SECRET]) {
      expect(everything).not.toContain(secret)
    }
  })
})

describe('network endpoints', () => {
  test("behavior: head, cursor, lag and last error come from the listeners' state; stale and unknown chains say so", async () => {
    const fresh = `eip155:7${Math.floor(Math.random() * 1e6)}`
    const stale = `eip155:8${Math.floor(Math.random() * 1e6)}`
    listenerChains.push(fresh, stale)
    await testBus.pool.query(
      `INSERT INTO chain_listener_state (chain, family, head_block, cursor_block, cursor_hash, finalized_block,
         active_rpc, last_error, last_error_at, updated_at)
       VALUES ($1, 'evm', 120, 100, '0xaa', 90, 'http://127.0.0.1:8545', NULL, NULL, now()),
              ($2, 'evm', 50, 50, '0xbb', 40, 'http://127.0.0.1:8546', 'connection refused', now() - interval '2 hours', now() - interval '1 hour')`,
      [fresh, stale],
    )
    const headers = await bearer('alice', ['reader'])
    const one = await gateway.app.inject({ url: `/api/v1/network/health/${fresh}`, headers })
    expect(one.statusCode).toBe(200)
    expect(one.json()).toMatchObject({
      chain: fresh,
      status: 'ok',
      headBlock: 120,
      cursorBlock: 100,
      lagBlocks: 20,
      finalizedBlock: 90,
      lastError: null,
    })
    const old = (await gateway.app.inject({ url: `/api/v1/network/health/${stale}`, headers })).json() as {
      status: string
      note: string
      lastError: string
    }
    expect(old.status).toBe('stale')
    expect(old.note).toMatch(/no update from the listener/)
    expect(old.lastError).toBe('connection refused')
    const all = (await gateway.app.inject({ url: '/api/v1/network/status', headers })).json() as {
      status: string
      chains: { chain: string }[]
    }
    expect(all.chains.map((chain) => chain.chain)).toEqual(expect.arrayContaining([fresh, stale]))
    expect(all.status).toBe('degraded')
    const unknown = await gateway.app.inject({ url: '/api/v1/network/health/eip155:999999999', headers })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ error: 'chain_not_found', field: 'params.chain' })
    expect(
      (await gateway.app.inject({ url: '/api/v1/network/health/not-a-chain', headers })).statusCode,
    ).toBe(400)
  })
})

describe('operations', () => {
  test('behavior: /ready, /metrics and the OpenAPI document generated from the routes', async () => {
    const ready = await gateway.ops.inject({ url: '/ready' })
    expect(ready.json()).toMatchObject({
      ready: true,
      checks: { kafka: true, registry: true, database: true, producer: true },
    })
    const metrics = (await gateway.ops.inject({ url: '/metrics' })).body
    expect(metrics).toMatch(
      /veridis_gateway_command_requests_total\{[^}]*type="ProveCommand"[^}]*status_code="202"/,
    )
    expect(metrics).toMatch(/http_request_duration_seconds_bucket/)
    const openapi = (await gateway.ops.inject({ url: '/docs/openapi.json' })).json() as {
      openapi: string
      paths: Record<
        string,
        { post?: { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } } }
      >
    }
    expect(openapi.openapi).toBe('3.1.0')
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(Object.keys(VALID_BODIES)))
    expect(
      openapi.paths['/api/v1/attestations']!.post!.requestBody!.content['application/json']!.schema.required,
    ).toEqual(['chain', 'registry', 'attestationId', 'root'])
  })
})
