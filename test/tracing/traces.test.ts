import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { terminateCurves } from '../../circuits/curve.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { jaegerBinaryPath, type RunningJaeger, startJaeger } from '../../infra/stack/jaeger.ts'
import { stackLayout } from '../../infra/stack/layout.ts'
import { cliCommand } from '../../infra/stack/pipeline.ts'
import { bearer, cleanReadModels, gatewayEnv } from '../gateway/support.ts'
import { type ConsumerProcess, startConsumerProcess } from '../support/consumer-process.ts'
import {
  collectOutput,
  eventually,
  freePort,
  openTestBus,
  PROCESS_READY_MS,
  type TestBus,
} from '../support/harness.ts'
import { semaphoreCase } from '../zk/fixtures.ts'

/**
 * Issue 18's must-show for tracing: one HTTP prove command, sent to a real gateway process with
 * a caller's `traceparent`, yields one trace in a real Jaeger (started here on free loopback
 * ports) holding spans of the gateway, the prover, the projector and the audit consumer — each
 * a separate process with VERIDIS_OTLP_ENDPOINT set — linked across Kafka through the records'
 * `traceparent` headers. Left out of the run (NOT RUN on stderr) while Jaeger is not built
 * (vitest.config.ts).
 */
interface JaegerSpan {
  traceID: string
  spanID: string
  operationName: string
  processID: string
  references: { refType: string; traceID: string; spanID: string }[]
  tags: { key: string; value: unknown }[]
}
interface JaegerTrace {
  spans: JaegerSpan[]
  processes: Record<string, { serviceName: string }>
}

const SERVICES = ['gateway', 'consumer-prover', 'consumer-projector', 'consumer-audit'] as const

let testBus: TestBus
let jaeger: RunningJaeger
let scratch: string
let gateway: { child: ChildProcess; port: number; output: () => string } | undefined
const consumers: ConsumerProcess[] = []

beforeAll(async () => {
  testBus = await openTestBus()
  scratch = mkdtempSync(path.join(os.tmpdir(), 'veridis-jaeger-'))
  jaeger = await startJaeger({
    binary: jaegerBinaryPath(stackLayout(testBus.common.config).cacheDir),
    runDir: scratch,
    logDir: scratch,
    ports: await distinctPorts(),
  })
  const tracing = { VERIDIS_OTLP_ENDPOINT: jaeger.otlpUrl }
  for (const name of ['prover', 'projector', 'audit']) {
    consumers.push(await startConsumerProcess({ name, namespace: testBus.namespace, env: tracing }))
  }
  const port = await freePort()
  const opsPort = await freePort()
  const command = cliCommand(['gateway', '--port', String(port), '--ops-port', String(opsPort)])
  const child = spawn(command.command, command.args, {
    cwd: PROJECT_ROOT,
    env: gatewayEnv(testBus.namespace, { ...tracing, VERIDIS_LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  gateway = { child, port, output: collectOutput(child) }
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`gateway exited:\n${gateway?.output()}`)
      return (await fetch(`http://127.0.0.1:${opsPort}/ready`).catch(() => undefined))?.ok ? true : undefined
    },
    PROCESS_READY_MS,
    'gateway ready',
  )
  for (const consumer of consumers) {
    expect(consumer.child.exitCode, consumer.output()).toBeNull()
  }
}, 600_000)

afterAll(async () => {
  if (gateway && gateway.child.exitCode === null) {
    const exited = new Promise((resolve) => gateway!.child.once('exit', resolve))
    gateway.child.kill('SIGTERM')
    await exited
  }
  for (const consumer of consumers) await consumer.kill()
  await jaeger?.stop()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
  if (testBus) {
    await cleanReadModels(testBus, ['USER:trace-holder'])
    await testBus.close()
  }
  await terminateCurves()
}, 120_000)

/** Three free ports, all different (the kernel may hand out a just-released one again). */
async function distinctPorts() {
  const ports = new Set<number>()
  while (ports.size < 3) ports.add(await freePort())
  const [otlp, query, grpc] = [...ports] as [number, number, number]
  return { otlp, query, grpc }
}

async function fetchTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`)
  if (!response.ok) return undefined
  const body = (await response.json()) as { data?: JaegerTrace[] }
  return body.data?.[0]
}

const serviceOf = (trace: JaegerTrace, span: JaegerSpan) => trace.processes[span.processID]?.serviceName
const parentOf = (span: JaegerSpan) => span.references.find((ref) => ref.refType === 'CHILD_OF')?.spanID

test('behavior: one HTTP prove command yields one trace with spans of the gateway, prover, projector and audit consumer, linked across Kafka', async () => {
  const traceId = randomBytes(16).toString('hex')
  const callerSpanId = randomBytes(8).toString('hex')
  const { inputs } = semaphoreCase(0, 11n, 5n)
  const response = await fetch(`http://127.0.0.1:${gateway!.port}/api/v1/proofs/identity`, {
    method: 'POST',
    headers: {
      ...(await bearer('trace-holder', ['prover'])),
      'content-type': 'application/json',
      'idempotency-key': `trace-${testBus.namespace}`,
      traceparent: `00-${traceId}-${callerSpanId}-01`,
    },
    body: JSON.stringify({ inputs }),
  })
  expect(response.status, await response.clone().text()).toBe(202)

  const trace = await eventually(
    async () => {
      const found = await fetchTrace(traceId)
      if (!found) return undefined
      const services = new Set(found.spans.map((span) => serviceOf(found, span)))
      const proofConsumed = found.spans.some(
        (span) =>
          serviceOf(found, span) === 'consumer-projector' && span.operationName.endsWith('veridis.proof.v1'),
      )
      return SERVICES.every((service) => services.has(service)) && proofConsumed ? found : undefined
    },
    240_000,
    `trace ${traceId} with spans of ${SERVICES.join(', ')}`,
  )
  const failure = () =>
    `${JSON.stringify(
      trace.spans.map((span) => [serviceOf(trace, span), span.operationName, span.spanID, parentOf(span)]),
    )}\n${gateway!.output().slice(-3000)}`
  const byId = new Map(trace.spans.map((span) => [span.spanID, span]))
  const find = (service: string, operation: (name: string) => boolean) =>
    trace.spans.filter((span) => serviceOf(trace, span) === service && operation(span.operationName))

  // The gateway's server span continues the caller's context.
  const [server] = find('gateway', (name) => name === 'POST /api/v1/proofs/identity')
  expect(server, failure()).toBeDefined()
  expect(parentOf(server!)).toBe(callerSpanId)
  // The command's producer span is its child; its context is the record's traceparent.
  const commandTopic = `${testBus.namespace}.veridis.command.v1`
  const [sent] = find('gateway', (name) => name === `send ${commandTopic}`)
  expect(sent, failure()).toBeDefined()
  expect(parentOf(sent!)).toBe(server!.spanID)

  // Across Kafka: each consumer's span for the command is parented by that producer span.
  for (const service of ['consumer-prover', 'consumer-projector', 'consumer-audit']) {
    const consumed = find(service, (name) => name === `process ${commandTopic}`)
    expect(consumed.length, `${service}: ${failure()}`).toBeGreaterThan(0)
    expect(consumed.map(parentOf)).toContain(sent!.spanID)
  }

  // And once more: the prover's proof record, produced under its consumer span, reaches the projector.
  const proofTopic = `${testBus.namespace}.veridis.proof.v1`
  const proofSends = find('consumer-prover', (name) => name === `send ${proofTopic}`)
  expect(proofSends.length, failure()).toBeGreaterThan(0)
  const proofSend = proofSends[0]!
  // Descends from the prover's consumer span of the command.
  const ancestors: string[] = []
  for (let at = parentOf(proofSend); at; at = byId.get(at) ? parentOf(byId.get(at)!) : undefined) {
    ancestors.push(byId.get(at)?.operationName ?? at)
  }
  expect(ancestors, failure()).toContain(`process ${commandTopic}`)
  const proofConsumed = find('consumer-projector', (name) => name === `process ${proofTopic}`)
  expect(proofConsumed.map(parentOf), failure()).toContain(proofSend.spanID)

  // The exactly-once effect of the projector is a span of this trace too.
  expect(
    find('consumer-projector', (name) => name === 'exactly-once transaction').length,
    failure(),
  ).toBeGreaterThan(0)

  // Nothing personal in any attribute: no subject id, no proof input.
  const tags = JSON.stringify(trace.spans.map((span) => span.tags))
  expect(tags).not.toContain('trace-holder')
  for (const value of Object.values(inputs).flat()) {
    if (typeof value === 'string' && value.length > 6) expect(tags).not.toContain(value)
  }
}, 300_000)
