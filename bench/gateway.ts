/**
 * Gateway benchmark: accepted commands per second and p50/p95/p99 latency through the real
 * gateway (JWT check, rate limit, JSON-schema validation with field checks, Avro encoding,
 * idempotent acks=all publish to Kafka, audit fact), next to a bare Fastify route that
 * parses the same body and answers 202, in the same run on the same machine.
 *
 *   bin/veridis bench gateway [--duration 10] [--connections 64]
 *
 * The load generator (autocannon) runs in its own process. After the run the command
 * topic is counted, so "accepted" means acknowledged by Kafka, not only answered.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import Fastify from 'fastify'
import { loadConfig } from '../core/config/env.ts'
import { createCommon } from '../core/context.ts'
import { PROJECT_ROOT } from '../core/paths.ts'
import { createGateway } from '../producers/gateway/index.ts'
import { JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, token, VALID_BODIES } from '../test/gateway/support.ts'
import { openTestBus, randomNamespace, testEnv } from '../test/support/harness.ts'

const ROUTE = '/api/v1/proofs/identity'

interface LoadResult {
  seconds: number
  responses: number
  statuses: Record<string, number>
  errors: number
  timeouts: number
  p50: number
  p95: number
  p99: number
}

function load(options: {
  url: string
  body: string
  headers: Record<string, string>
  connections: number
  durationSeconds: number
}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        path.join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs'),
        path.join(PROJECT_ROOT, 'bench/gateway-load.ts'),
        JSON.stringify(options),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`))
      resolve(JSON.parse(output.trim().split('\n').pop()!) as LoadResult)
    })
  })
}

async function topicRecords(
  admin: ReturnType<Awaited<ReturnType<typeof openTestBus>>['bus']['kafka']['admin']>,
  topic: string,
) {
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.reduce((sum, partition) => sum + Number(partition.high), 0)
}

export async function benchGateway(options: { durationSeconds: number; connections: number }) {
  const namespace = randomNamespace('bench')
  const overrides = {
    VERIDIS_LOG_LEVEL: 'error',
    VERIDIS_GATEWAY_JWT_HS256_SECRET: JWT_SECRET,
    VERIDIS_GATEWAY_JWT_ISSUER: JWT_ISSUER,
    VERIDIS_GATEWAY_JWT_AUDIENCE: JWT_AUDIENCE,
    VERIDIS_GATEWAY_RATE_LIMIT: '10000000',
  }
  const testBus = await openTestBus(namespace, overrides)
  const config = loadConfig({ ...testEnv(namespace), ...overrides })
  const common = createCommon('gateway-bench', { config, exit: () => undefined })
  const gateway = await createGateway(common)
  const bare = Fastify({ logger: false })
  bare.post('/bare', async (_request, reply) =>
    reply.code(202).send({ commandId: randomUUID(), status: 'accepted' }),
  )
  const admin = testBus.bus.kafka.admin()
  try {
    const gatewayPort = await gateway.listen(0)
    await bare.listen({ port: 0, host: '127.0.0.1' })
    const barePort = (bare.server.address() as { port: number }).port
    const deadline = Date.now() + 60_000
    while ((await gateway.app.inject({ url: '/ready' })).statusCode !== 200) {
      if (Date.now() > deadline) throw new Error('gateway not ready')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await admin.connect()
    const body = JSON.stringify(VALID_BODIES[ROUTE])
    const headers = { authorization: `Bearer ${await token('bench', ['prover'], { expiresIn: '1h' })}` }
    const run = (url: string, durationSeconds: number) =>
      load({ url, body, headers, connections: options.connections, durationSeconds })

    // Warm both up (JIT, connections, Kafka batches), then measure.
    await run(`http://127.0.0.1:${barePort}/bare`, 2)
    await run(`http://127.0.0.1:${gatewayPort}${ROUTE}`, 2)
    const bareResult = await run(`http://127.0.0.1:${barePort}/bare`, options.durationSeconds)
    const before = await topicRecords(admin, testBus.bus.topics.command.name)
    const gatewayResult = await run(`http://127.0.0.1:${gatewayPort}${ROUTE}`, options.durationSeconds)
    const onTopic = (await topicRecords(admin, testBus.bus.topics.command.name)) - before
    return { options, bare: bareResult, gateway: gatewayResult, onTopic }
  } finally {
    await admin.disconnect().catch(() => undefined)
    await bare.close()
    await gateway.close()
    await testBus.close()
  }
}

export function printGatewayBench(result: Awaited<ReturnType<typeof benchGateway>>) {
  const line = (name: string, r: LoadResult) => {
    const accepted = r.statuses['202'] ?? 0
    const others = Object.entries(r.statuses)
      .filter(([status]) => status !== '202')
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')
    return `${name.padEnd(34)} ${(accepted / r.seconds).toFixed(0).padStart(7)} commands/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  p95 ${r.p95.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms${others ? `  other: ${others}` : ''}${r.errors ? `  errors ${r.errors}` : ''}`
  }
  process.stdout.write(
    `\ngateway bench: ${result.options.connections} connections, ${result.options.durationSeconds} s per target, POST ${ROUTE}\n`,
  )
  process.stdout.write(
    `${line('bare Fastify route', result.bare)}\n${line('gateway (validated, on Kafka)', result.gateway)}\n`,
  )
  const accepted = result.gateway.statuses['202'] ?? 0
  process.stdout.write(
    `commands on the topic after the run: ${result.onTopic} (202 answers: ${accepted}); gateway / bare: ${((accepted / Math.max(1, result.bare.statuses['202'] ?? 0)) * 100).toFixed(1)} %\n`,
  )
  process.stdout.write('target: ≥ 10000 commands/s with p95 < 100 ms\n')
}
