import { afterAll, beforeAll, expect, test } from 'vitest'
import { terminateCurves } from '../../circuits/curve.ts'
import { projectorConsumer } from '../../consumers/projector/index.ts'
import { proverConsumer } from '../../consumers/prover/index.ts'
import { verifierConsumer } from '../../consumers/verifier/index.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { ProofResult } from '../../core/bus/types.ts'
import { runConsumerProcess } from '../../core/service/consumer-process.ts'
import type { Gateway } from '../../producers/gateway/index.ts'
import { bearer, cleanReadModels, startTestGateway } from '../gateway/support.ts'
import { collectTopic, eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import { semaphoreCase } from '../zk/fixtures.ts'

/**
 * The whole command path with every real part: HTTP gateway → veridis.command.v1 → prover
 * and verifier consumers → veridis.proof.v1 → projector → the gateway's status endpoint.
 */
let testBus: TestBus
let producer: BusProducer
let gateway: Gateway
const stops: (() => Promise<void>)[] = []
const proofs = new Map<string, ProofResult>()

interface StatusView {
  status: string
  history: { status: string }[]
  result: { proofStatus?: string; publicSignals?: string[]; reason?: string | null } | null
}

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  for (const module of [projectorConsumer, proverConsumer, verifierConsumer]) {
    const running = await runConsumerProcess(testBus.common, module as never, { opsPort: 0 })
    stops.push(() => running.runner.stop())
  }
  stops.push(
    await collectTopic<ProofResult>(testBus, producer, {
      topic: testBus.bus.topics.proof.name,
      name: 'e2e-proof-reader',
      onMessage: ({ value }) => {
        if (value.commandId) proofs.set(value.commandId, value)
      },
    }),
  )
  gateway = await startTestGateway(testBus)
  await eventually(
    async () => ((await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined),
    30_000,
    'gateway ready',
  )
}, 120_000)

afterAll(async () => {
  await gateway?.close()
  for (const stop of stops.reverse()) await stop()
  await producer?.disconnect()
  if (testBus) await cleanReadModels(testBus, ['USER:e2e-holder'])
  await testBus?.close()
  await terminateCurves()
})

async function send(url: string, body: unknown, key: string) {
  const response = await gateway.app.inject({
    method: 'POST',
    url,
    headers: { ...(await bearer('e2e-holder', ['prover'])), 'idempotency-key': key },
    payload: body as Record<string, unknown>,
  })
  expect(response.statusCode, response.body).toBe(202)
  return response.json() as { commandId: string; statusUrl: string }
}

async function finalStatus(statusUrl: string): Promise<StatusView> {
  return eventually(
    async () => {
      const response = await gateway.app.inject({
        url: statusUrl,
        headers: await bearer('e2e-holder', ['prover']),
      })
      if (response.statusCode !== 200) return undefined
      const view = response.json() as StatusView
      return view.status === 'done' || view.status === 'failed' ? view : undefined
    },
    90_000,
    `final status of ${statusUrl}`,
  )
}

test('behavior: a proof requested over HTTP is generated, verified, and a tampered copy is refused, each visible through the status endpoint', async () => {
  const { inputs, group } = semaphoreCase(1, 42n, 7n)

  const prove = await send('/api/v1/proofs/identity', { inputs }, `e2e-prove-${testBus.namespace}`)
  const proved = await finalStatus(prove.statusUrl)
  expect(proved.status).toBe('done')
  expect(proved.history.map((step) => step.status)).toContain('accepted')
  expect(proved.result?.proofStatus).toBe('GENERATED')
  // Semaphore's public signals: root, nullifier, message hash, scope hash.
  expect(proved.result?.publicSignals?.[0]).toBe(group.root.toString())

  const generated = await eventually(async () => proofs.get(prove.commandId), 10_000, 'proof on topic')
  const proof = generated.proof!
  const verifyBody = (piA: string[]) => ({
    circuit: 'IDENTITY_MEMBERSHIP',
    proof: { ...proof, piA },
    publicSignals: generated.publicSignals,
  })

  const genuine = await send(
    '/api/v1/proofs/verify',
    verifyBody(proof.piA),
    `e2e-verify-${testBus.namespace}`,
  )
  // A different valid curve point in piA: well-formed, but the pairing equation fails.
  const tamperedPiA = [proof.piC[0]!, proof.piC[1]!, '1']
  const tampered = await send(
    '/api/v1/proofs/verify',
    verifyBody(tamperedPiA),
    `e2e-tampered-${testBus.namespace}`,
  )

  const verified = await finalStatus(genuine.statusUrl)
  expect(verified.status).toBe('done')
  expect(verified.result?.proofStatus).toBe('VERIFIED')

  const refused = await finalStatus(tampered.statusUrl)
  expect(refused.status).toBe('failed')
  expect(refused.result?.proofStatus).toBe('REJECTED')
  expect(refused.result?.reason).toMatch(/pairing/)
}, 180_000)
