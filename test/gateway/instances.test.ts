import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Command } from '../../core/bus/types.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { cliCommand } from '../../infra/stack/pipeline.ts'
import {
  collectOutput,
  eventually,
  freePort,
  openTestBus,
  PROCESS_READY_MS,
  type TestBus,
} from '../support/harness.ts'
import { bearer, cleanReadModels, gatewayEnv, VALID_BODIES } from './support.ts'
import { readTopic, recordCount } from './topic-reader.ts'
import { freshWindow } from './windows.ts'

/**
 * Issue 17 item 2: several gateway instances behind one balancer. Two real `veridis gateway`
 * processes, on their own ports, in one namespace and one database, against the real Kafka,
 * registry and Postgres: what one instance decided, the other honours.
 */

const CALLER_LIMIT = 10
const WINDOW_MS = 60_000
const CALLERS = ['USER:keyed', 'USER:alternating', 'USER:burst']

interface GatewayProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly opsUrl: string
  output(): string
}

let testBus: TestBus
let gateways: [GatewayProcess, GatewayProcess]

async function startGatewayProcess(env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const port = await freePort()
  const opsPort = await freePort()
  const command = cliCommand(['gateway', '--port', String(port), '--ops-port', String(opsPort)])
  const child = spawn(command.command, command.args, {
    cwd: PROJECT_ROOT,
    env: gatewayEnv(testBus.namespace, {
      VERIDIS_LOG_LEVEL: 'warn',
      VERIDIS_GATEWAY_RATE_LIMIT: String(CALLER_LIMIT),
      VERIDIS_GATEWAY_RATE_WINDOW_MS: String(WINDOW_MS),
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = collectOutput(child)
  const opsUrl = `http://127.0.0.1:${opsPort}`
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`gateway exited:\n${output()}`)
      return (await fetch(`${opsUrl}/ready`).catch(() => undefined))?.ok ? true : undefined
    },
    PROCESS_READY_MS,
    'gateway process ready',
  )
  return { child, url: `http://127.0.0.1:${port}`, opsUrl, output }
}

async function stop(gateway: GatewayProcess | undefined) {
  if (!gateway || gateway.child.exitCode !== null || gateway.child.signalCode !== null) return
  const exited = new Promise((resolve) => gateway.child.once('exit', resolve))
  gateway.child.kill('SIGTERM')
  await exited
}

beforeAll(async () => {
  testBus = await openTestBus()
  // One named, one by its default (hostname:pid), both started at once.
  gateways = await Promise.all([
    startGatewayProcess({ VERIDIS_GATEWAY_INSTANCE_ID: 'gateway-a' }),
    startGatewayProcess({}),
  ])
}, PROCESS_READY_MS + 60_000)

afterAll(async () => {
  await Promise.all((gateways ?? []).map(stop))
  if (testBus) {
    await testBus.pool.query('DELETE FROM gateway_rate_limits WHERE policy LIKE $1', [
      `${testBus.bus.topics.command.name}|%`,
    ])
    await cleanReadModels(testBus, CALLERS)
    await testBus.close()
  }
}, 60_000)

const commandTopic = () => testBus.bus.topics.command.name

describe('idempotency across instances', () => {
  test('behavior: one Idempotency-Key sent to both instances at the same instant is one command; both answers name it', async () => {
    const headers = {
      ...(await bearer('keyed', ['analyst'])),
      'content-type': 'application/json',
      'idempotency-key': `both-${randomUUID()}`,
    }
    const body = JSON.stringify(VALID_BODIES['/api/v1/analysis/transaction'])
    const send = (gateway: GatewayProcess) =>
      fetch(`${gateway.url}/api/v1/analysis/transaction`, { method: 'POST', headers, body })
    const answers = await Promise.all(gateways.map(send))
    const statuses = answers.map((answer) => answer.status)
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as {
      commandId?: string
      replayed?: boolean
      error?: string
    }[]
    // Postgres gave the key to exactly one of them …
    const winners = bodies.filter((answer, index) => statuses[index] === 202 && answer.replayed === false)
    expect(winners, JSON.stringify(bodies)).toHaveLength(1)
    const commandId = winners[0]!.commandId!
    // … the other replayed it, or (its publication not yet recorded) was told to retry shortly,
    // and its retry replays the same command.
    const loser = bodies.findIndex((answer) => answer !== winners[0])
    let other = { status: statuses[loser]!, body: bodies[loser]!, headers: answers[loser]!.headers }
    if (other.status === 409) {
      expect(other.body.error).toBe('request_in_progress')
      other = await eventually(async () => {
        const retry = await send(gateways[loser]!)
        const retried = {
          status: retry.status,
          body: (await retry.json()) as typeof other.body,
          headers: retry.headers,
        }
        return retried.status === 202 ? retried : undefined
      }, 20_000)
    }
    expect(other.status).toBe(202)
    expect(other.body).toMatchObject({ commandId, replayed: true })
    expect(other.headers.get('idempotent-replayed')).toBe('true')

    // Exactly one record on the command topic, and it is that command.
    const [record] = await readTopic(testBus, commandTopic(), 1)
    expect((record!.decoded as Command).commandId).toBe(commandId)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(await recordCount(testBus, commandTopic())).toBe(1)
  }, 60_000)
})

describe('rate limits across instances', () => {
  test('behavior: requests alternating between the instances share one caller limit: exactly the limit allowed, then 429', async () => {
    await freshWindow(testBus.pool, WINDOW_MS, 30_000)
    const headers = await bearer('alternating', ['reader'])
    const answers: Response[] = []
    for (let i = 0; i < 2 * CALLER_LIMIT; i++) {
      answers.push(await fetch(`${gateways[i % 2]!.url}/api/v1/network/status`, { headers }))
    }
    const statuses = answers.map((answer) => answer.status)
    expect(statuses).toEqual([
      ...Array<number>(CALLER_LIMIT).fill(200),
      ...Array<number>(CALLER_LIMIT).fill(429),
    ])
    // One count for both: what remains goes down by one whichever instance answered.
    const remaining = answers.map((answer) =>
      /"caller";r=(\d+);t=(\d+)/.exec(answer.headers.get('ratelimit') ?? ''),
    )
    expect(remaining.map((match) => Number(match?.[1]))).toEqual([
      ...Array.from({ length: CALLER_LIMIT }, (_, i) => CALLER_LIMIT - 1 - i),
      ...Array<number>(CALLER_LIMIT).fill(0),
    ])
    for (const refused of answers.slice(CALLER_LIMIT)) {
      const seconds = Number(refused.headers.get('retry-after'))
      expect(seconds).toBeGreaterThan(0)
      expect(seconds).toBeLessThanOrEqual(WINDOW_MS / 1000)
      expect(refused.headers.get('ratelimit-policy')).toContain(`"caller";q=${CALLER_LIMIT};w=60`)
      expect(((await refused.json()) as { error: string }).error).toBe('rate_limited')
    }
  }, 90_000)

  test('behavior: a burst sent to both instances at once is allowed exactly the limit in total', async () => {
    await freshWindow(testBus.pool, WINDOW_MS, 30_000)
    const headers = await bearer('burst', ['reader'])
    const answers = await Promise.all(
      Array.from({ length: 3 * CALLER_LIMIT }, (_, i) =>
        fetch(`${gateways[i % 2]!.url}/api/v1/network/status`, { headers }),
      ),
    )
    const allowed = answers.filter((answer) => answer.status === 200).length
    const refused = answers.filter((answer) => answer.status === 429)
    expect(allowed).toBe(CALLER_LIMIT)
    expect(refused).toHaveLength(2 * CALLER_LIMIT)
    // Both instances refused some: neither counted alone.
    const refusedBy = new Set(
      answers.map((answer, i) => (answer.status === 429 ? i % 2 : undefined)).filter((i) => i !== undefined),
    )
    expect(refusedBy.size).toBe(2)
    expect(refused.every((answer) => Number(answer.headers.get('retry-after')) > 0)).toBe(true)
  }, 90_000)
})

describe('metrics per instance', () => {
  test('behavior: every series of each instance carries its own instance_id (configured, or hostname:pid)', async () => {
    const labelsOf = async (gateway: GatewayProcess) => {
      const text = await (await fetch(`${gateway.opsUrl}/metrics`)).text()
      const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))
      const ids = samples.map((line) => /instance_id="([^"]*)"/.exec(line)?.[1])
      expect(samples.length).toBeGreaterThan(10)
      // No series without it: a sum across instances must not mix in an unlabelled one.
      expect(ids.filter((id) => id === undefined)).toEqual([])
      expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*instance_id=/)
      return new Set(ids)
    }
    const [first, second] = gateways
    expect([...(await labelsOf(first))]).toEqual(['gateway-a'])
    expect([...(await labelsOf(second))]).toEqual([`${hostname()}:${second.child.pid}`])
  })
})
