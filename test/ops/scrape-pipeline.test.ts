import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { cliCommand, type PipelineProcess, scrapeTargets } from '../../infra/stack/pipeline.ts'
import { ensurePrometheus, type RunningPrometheus, startPrometheus } from '../../infra/stack/prometheus.ts'
import { stackContext } from '../../infra/stack/stack.ts'
import { eventually, freePort, openTestBus, type TestBus, testEnv } from '../support/harness.ts'

let testBus: TestBus
let prometheus: RunningPrometheus | undefined
const children: ChildProcess[] = []
const workDir = path.join(PROJECT_ROOT, '.veridis', `test-scrape-${randomBytes(4).toString('hex')}`)

beforeAll(async () => {
  testBus = await openTestBus()
})

afterAll(async () => {
  await prometheus?.stop()
  for (const child of children) child.kill('SIGTERM')
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null))),
    ),
  )
  rmSync(workDir, { recursive: true, force: true })
  await testBus?.close()
})

describe('prometheus and the pipeline', () => {
  test('behavior: Prometheus scrapes every pipeline process and the registry without errors, and evaluates the rules', async () => {
    const processes: PipelineProcess[] = [
      { name: 'consumer-ledger', args: ['consume', 'ledger', '--ops-port'], opsPort: await freePort() },
      { name: 'lag-monitor', args: ['lag', '--port'], opsPort: await freePort() },
    ]
    for (const entry of processes) {
      // Exactly how `veridis up` starts them, in this test's namespace and on free ports.
      const { command, args } = cliCommand([...entry.args, String(entry.opsPort)])
      children.push(
        spawn(command, args, { cwd: PROJECT_ROOT, env: testEnv(testBus.namespace), stdio: 'ignore' }),
      )
    }
    for (const entry of processes) {
      await eventually(
        async () =>
          (await fetch(`http://127.0.0.1:${entry.opsPort}/ready`).catch(() => undefined))?.ok
            ? true
            : undefined,
        60_000,
        `${entry.name} ready`,
      )
    }

    const context = stackContext(testBus.common.config, () => {})
    await ensurePrometheus(() => {})
    const targets = scrapeTargets(context, processes)
    prometheus = await startPrometheus({
      dataDir: path.join(workDir, 'data'),
      runDir: path.join(workDir, 'run'),
      logDir: path.join(workDir, 'logs'),
      port: await freePort(),
      targets,
      scrapeIntervalSeconds: 1,
    })

    const active = await eventually(
      async () => {
        const response = await fetch(`${prometheus!.url}/api/v1/targets`)
        const body = (await response.json()) as {
          data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] }
        }
        const found = body.data.activeTargets
        return found.length === targets.length && found.every((target) => target.health === 'up')
          ? found
          : undefined
      },
      30_000,
      'every target scraped',
    )
    expect(active.map((target) => target.labels.job).sort()).toEqual([
      'consumer-ledger',
      'lag-monitor',
      'schema-registry',
    ])
    expect(active.map((target) => target.lastError)).toEqual(['', '', ''])

    const query = async (promql: string) => {
      const response = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(promql)}`)
      return (
        (await response.json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] }
        }
      ).data.result
    }
    // The ledger has joined its group, and the lag monitor reports the DLQ of this namespace.
    await eventually(
      async () =>
        (await query('veridis_bus_consumer_ready{job="consumer-ledger"} == 1')).length === 1
          ? true
          : undefined,
      30_000,
      'consumer ready in Prometheus',
    )
    const dlq = await query(
      `veridis_dlq_messages{job="lag-monitor",topic="${testBus.bus.topics.deadLetter.name}"}`,
    )
    expect(dlq.map((sample) => sample.value[1])).toEqual(['0'])

    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: { groups: { name: string; rules: { health: string; lastError?: string }[] }[] }
    }
    expect(rules.data.groups.length).toBeGreaterThan(0)
    for (const group of rules.data.groups)
      for (const rule of group.rules) expect(rule.health, `${group.name}: ${rule.lastError}`).toBe('ok')
  }, 120_000)
})
