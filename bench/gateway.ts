/**
 * Gateway benchmark: accepted commands per second and p50/p95/p99 latency through the real
 * gateway (JWT check, rate limits, JSON-schema validation with field checks, Avro encoding,
 * idempotent acks=all publish to Kafka, audit fact), without and with a fresh
 * Idempotency-Key on every request (a Postgres reservation each), next to a bare Fastify
 * route that parses the same body and answers 202 — all in the same run on the same
 * machine. Without and with keys alternate for `rounds` rounds; medians are reported.
 *
 *   bin/veridis bench gateway [--duration 10] [--connections 64] [--rounds 3]
 *
 * The load generator (autocannon) runs in its own process. After each run the command
 * topic is counted, so "accepted" means acknowledged by Kafka, not only answered.
 *
 * Scale-out (issue 17), with `--instances N` (default 2; 1 leaves it out): real
 * `veridis gateway` processes, 1 and then N of them (alternating which goes first per round),
 * in the same namespace and database (shared idempotency and rate limits), the load split
 * evenly across their ports as a balancer would; the scaling factor is the median of the
 * rounds' N-to-1 ratios.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import Fastify from 'fastify'
import { createCommandSealerFor } from '../consumers/audit/vault.ts'
import { loadConfig } from '../core/config/env.ts'
import { createCommon } from '../core/context.ts'
import { PROJECT_ROOT } from '../core/paths.ts'
import { cliCommand } from '../infra/stack/pipeline.ts'
import { createGateway } from '../producers/gateway/index.ts'
import { JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, token, VALID_BODIES } from '../test/gateway/support.ts'
import { collectOutput, freePort, openTestBus, randomNamespace, testEnv } from '../test/support/harness.ts'

const ROUTE = '/api/v1/proofs/identity'

/** `cpuMsPerCommand`: CPU time of this process (the gateway; the load runs apart) per 202. */
type CountedResult = LoadResult & { onTopic: number; cpuMsPerCommand: number }

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
  url: string | string[]
  body: string
  headers: Record<string, string>
  connections: number
  durationSeconds: number
  uniqueIdempotencyKeys?: boolean
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

interface GatewayProcess {
  readonly child: ChildProcess
  readonly url: string
  output(): string
}

/** `count` real gateway processes in the namespace, each on ports of its own, once all are ready. */
async function startGatewayProcesses(env: NodeJS.ProcessEnv, count: number): Promise<GatewayProcess[]> {
  const started: GatewayProcess[] = []
  try {
    for (let n = 1; n <= count; n++) {
      const port = await freePort()
      const opsPort = await freePort()
      const command = cliCommand(['gateway', '--port', String(port), '--ops-port', String(opsPort)])
      const child = spawn(command.command, command.args, {
        cwd: PROJECT_ROOT,
        env: { ...env, VERIDIS_GATEWAY_INSTANCE_ID: `bench-gateway-${n}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const output = collectOutput(child)
      started.push({ child, url: `http://127.0.0.1:${port}${ROUTE}`, output })
      const deadline = Date.now() + 120_000
      while (!(await fetch(`http://127.0.0.1:${opsPort}/ready`).catch(() => undefined))?.ok) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`gateway process ${n} not ready:\n${output()}`)
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
    return started
  } catch (error) {
    await stopGatewayProcesses(started)
    throw error
  }
}

async function stopGatewayProcesses(processes: readonly GatewayProcess[]) {
  await Promise.all(
    processes.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }),
  )
}

export async function benchGateway(options: {
  durationSeconds: number
  connections: number
  rounds: number
  instances: number
}) {
  const namespace = randomNamespace('bench')
  const overrides = {
    VERIDIS_LOG_LEVEL: 'error',
    VERIDIS_GATEWAY_JWT_HS256_SECRET: JWT_SECRET,
    VERIDIS_GATEWAY_JWT_ISSUER: JWT_ISSUER,
    VERIDIS_GATEWAY_JWT_AUDIENCE: JWT_AUDIENCE,
    VERIDIS_GATEWAY_RATE_LIMIT: '10000000',
    VERIDIS_GATEWAY_SOURCE_RATE_LIMIT: '100000000',
  }
  const testBus = await openTestBus(namespace, overrides)
  const config = loadConfig({ ...testEnv(namespace), ...overrides })
  const common = createCommon('gateway-bench', { config, exit: () => undefined })
  // Any free ops port: a running stack's gateway holds the default one.
  const gateway = await createGateway(common, createCommandSealerFor, { opsPort: 0 })
  const bare = Fastify({ logger: false })
  bare.post('/bare', async (_request, reply) =>
    reply.code(202).send({ commandId: randomUUID(), status: 'accepted' }),
  )
  const admin = testBus.bus.kafka.admin()
  // A subject of this run's own, so its Idempotency-Keys can be deleted afterwards: left behind,
  // a few hundred thousand rows a run made every later run's reservations slower.
  const caller = namespace
  try {
    const gatewayPort = await gateway.listen(0)
    await bare.listen({ port: 0, host: '127.0.0.1' })
    const barePort = (bare.server.address() as { port: number }).port
    const deadline = Date.now() + 60_000
    while ((await gateway.ops.inject({ url: '/ready' })).statusCode !== 200) {
      if (Date.now() > deadline) throw new Error('gateway not ready')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await admin.connect()
    const body = JSON.stringify(VALID_BODIES[ROUTE])
    const headers = { authorization: `Bearer ${await token(caller, ['prover'], { expiresIn: '1h' })}` }
    const run = (url: string | string[], durationSeconds: number, uniqueIdempotencyKeys = false) =>
      load({ url, body, headers, connections: options.connections, durationSeconds, uniqueIdempotencyKeys })
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}${ROUTE}`
    const counted = async (uniqueIdempotencyKeys: boolean): Promise<CountedResult> => {
      const before = await topicRecords(admin, testBus.bus.topics.command.name)
      const cpuBefore = process.cpuUsage()
      const result = await run(gatewayUrl, options.durationSeconds, uniqueIdempotencyKeys)
      const cpu = process.cpuUsage(cpuBefore)
      return {
        ...result,
        onTopic: (await topicRecords(admin, testBus.bus.topics.command.name)) - before,
        cpuMsPerCommand: (cpu.user + cpu.system) / 1000 / Math.max(1, result.statuses['202'] ?? 0),
      }
    }

    // Warm both up (JIT, connections, Kafka batches, the Postgres pool), then measure.
    await run(`http://127.0.0.1:${barePort}/bare`, 2)
    await run(gatewayUrl, 2)
    await run(gatewayUrl, 2, true)
    const bareResult = await run(`http://127.0.0.1:${barePort}/bare`, options.durationSeconds)
    const withoutKeys: CountedResult[] = []
    const withKeys: CountedResult[] = []
    for (let round = 0; round < options.rounds; round++) {
      withoutKeys.push(await counted(false))
      withKeys.push(await counted(true))
    }
    // Scale-out: 1 and N gateway processes, the same load split across them.
    const processEnv = { ...testEnv(namespace), ...overrides }
    const scaleOut = { one: [] as CountedResult[], many: [] as CountedResult[] }
    for (let round = 0; options.instances > 1 && round < options.rounds; round++) {
      const order = round % 2 === 0 ? [1, options.instances] : [options.instances, 1]
      for (const count of order) {
        const processes = await startGatewayProcesses(processEnv, count)
        try {
          const urls = processes.map((process_) => process_.url)
          await run(urls, 2)
          const before = await topicRecords(admin, testBus.bus.topics.command.name)
          const result = await run(urls, options.durationSeconds)
          const onTopic = (await topicRecords(admin, testBus.bus.topics.command.name)) - before
          ;(count === 1 ? scaleOut.one : scaleOut.many).push({
            ...result,
            onTopic,
            cpuMsPerCommand: Number.NaN,
          })
        } finally {
          await stopGatewayProcesses(processes)
        }
      }
    }
    return { options, bare: bareResult, withoutKeys, withKeys, scaleOut }
  } finally {
    await admin.disconnect().catch(() => undefined)
    await bare.close()
    await gateway.close()
    await testBus.pool.query('DELETE FROM gateway_idempotency WHERE caller = $1', [`USER:${caller}`])
    await testBus.close()
  }
}

const commandsPerSecond = (result: LoadResult) => (result.statuses['202'] ?? 0) / result.seconds

/** The round whose throughput is the median of its series. */
function medianRound<T extends LoadResult>(results: readonly T[]): T {
  const sorted = [...results].sort((a, b) => commandsPerSecond(a) - commandsPerSecond(b))
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}

export function printGatewayBench(result: Awaited<ReturnType<typeof benchGateway>>) {
  const line = (name: string, r: LoadResult) => {
    const others = Object.entries(r.statuses)
      .filter(([status]) => status !== '202')
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')
    return `${name.padEnd(40)} ${commandsPerSecond(r).toFixed(0).padStart(7)} commands/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  p95 ${r.p95.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms${others ? `  other: ${others}` : ''}${r.errors ? `  errors ${r.errors}` : ''}`
  }
  const { options } = result
  process.stdout.write(
    `\ngateway bench: ${options.connections} connections, ${options.durationSeconds} s per run, POST ${ROUTE}, median of ${options.rounds} round(s) without and with keys\n`,
  )
  const without = medianRound(result.withoutKeys)
  const keyed = medianRound(result.withKeys)
  process.stdout.write(
    `${line('bare Fastify route', result.bare)}\n${line('gateway, no Idempotency-Key', without)}\n${line('gateway, a fresh Idempotency-Key each', keyed)}\n`,
  )
  for (const [name, rounds] of [
    ['without keys', result.withoutKeys],
    ['with keys', result.withKeys],
  ] as const) {
    process.stdout.write(
      `  rounds ${name}: ${rounds.map((r) => `${commandsPerSecond(r).toFixed(0)}/s (${r.onTopic} on the topic, ${r.statuses['202'] ?? 0} × 202)`).join(', ')}\n`,
    )
  }
  // Each keyed run follows its keyless one: on a shared machine the pair saw the same load,
  // so the median of the pairs' ratios is steadier than the ratio of the medians.
  const ratios = result.withKeys
    .map(
      (keyedRound, round) =>
        commandsPerSecond(keyedRound) / Math.max(1, commandsPerSecond(result.withoutKeys[round]!)),
    )
    .sort((a, b) => a - b)
  const pairedCost = 1 - ratios[Math.floor((ratios.length - 1) / 2)]!
  const medianCpu = (rounds: readonly CountedResult[]) =>
    [...rounds].map((r) => r.cpuMsPerCommand).sort((a, b) => a - b)[Math.floor((rounds.length - 1) / 2)]!
  process.stdout.write(
    `keys cost ${(pairedCost * 100).toFixed(1)} % of the throughput (median of the rounds' pairs; goal ≤ 25 %); gateway / bare: ${((commandsPerSecond(without) / Math.max(1, commandsPerSecond(result.bare))) * 100).toFixed(1)} %\n`,
  )
  process.stdout.write(
    `gateway CPU per accepted command: ${medianCpu(result.withoutKeys).toFixed(2)} ms without keys, ${medianCpu(result.withKeys).toFixed(2)} ms with keys\n`,
  )
  const { one, many } = result.scaleOut
  if (one.length === 0 || many.length === 0) return
  process.stdout.write(
    `scale-out: veridis gateway processes, no Idempotency-Key, the ${options.connections} connections split evenly across them; ${availableParallelism()} CPU cores shared with Kafka, Postgres and the load generator\n`,
  )
  process.stdout.write(
    `${line('1 gateway process', medianRound(one))}\n${line(`${options.instances} gateway processes`, medianRound(many))}\n`,
  )
  // Each N-process run is paired with the 1-process run of its round (same load on the host).
  const factors = many.map(
    (manyRound, round) => commandsPerSecond(manyRound) / Math.max(1, commandsPerSecond(one[round]!)),
  )
  const sortedFactors = [...factors].sort((a, b) => a - b)
  process.stdout.write(
    `  rounds: ${one.map((r, round) => `${commandsPerSecond(r).toFixed(0)} → ${commandsPerSecond(many[round]!).toFixed(0)}/s (${r.onTopic} and ${many[round]!.onTopic} on the topic)`).join(', ')}\n`,
  )
  process.stdout.write(
    `scaling factor 1 → ${options.instances} processes: ${sortedFactors[Math.floor((sortedFactors.length - 1) / 2)]!.toFixed(2)}× (median of the rounds' ratios: ${factors.map((f) => `${f.toFixed(2)}×`).join(', ')})\n`,
  )
}
