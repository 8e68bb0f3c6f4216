import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../../core/config/env.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { renderTemplate } from '../../infra/stack/kafka.ts'
import { stackLayout } from '../../infra/stack/layout.ts'
import { STACK_SERVICES } from '../../infra/stack/stack.ts'

/**
 * Runs the CLI without blocking the test worker: a synchronous spawn of a minute or more
 * starves Vitest's worker RPC, which then fails the run with 'Timeout calling "onTaskUpdate"'
 * (CI, stop 25) although every test passed.
 */
const veridis = (...args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      path.join(PROJECT_ROOT, 'bin', 'veridis'),
      args,
      // A cap: a node started here (the Solana validator, a new ledger) takes a minute or two.
      { encoding: 'utf8', timeout: 300_000, env: process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code
        resolve({ status: error ? (typeof code === 'number' ? code : null) : 0, stdout, stderr })
      },
    )
  })

describe('local stack', () => {
  test('behavior: stack up is idempotent and status reports every service healthy', async () => {
    // The first starts what the test run left stopped (test/setup/global.ts); the second must
    // find everything running and change nothing.
    expect((await veridis('stack', 'up')).status).toBe(0)
    const up = await veridis('stack', 'up')
    expect(up.status).toBe(0)
    // Every service the stack declares, so a node added to it is checked here too.
    const services = STACK_SERVICES.map((service) => service.name)
    expect(services).toEqual(expect.arrayContaining(['postgres', 'kafka', 'registry', 'anvil-a', 'wasmd']))
    for (const service of services) expect(up.stderr).toContain(`${service}: already running`)
    expect(up.stderr).toContain('anvil-a: contracts already deployed')
    const status = await veridis('stack', 'status')
    expect(status.status).toBe(0)
    const lines = status.stdout.trim().split('\n')
    expect(lines.map((line) => line.split(/\s+/).slice(0, 2))).toEqual(
      services.map((service) => [service, 'healthy']),
    )
    // The validator's busy scheduler yields to the test run only through its session's nice
    // (SpawnSpec.sessionNice); on a kernel without autogroup scheduling there is nothing to see.
    const validatorPid = lines.find((line) => line.startsWith('solana-test-validator '))?.split(/\s+/)[2]
    const autogroup = `/proc/${validatorPid}/autogroup`
    if (existsSync('/proc/self/autogroup')) expect(readFileSync(autogroup, 'utf8')).toMatch(/ nice 19\n$/)
  }, 660_000)

  test('behavior: ports come from the client configuration', () => {
    const layout = stackLayout(
      loadConfig({
        VERIDIS_KAFKA_BROKERS: '127.0.0.1:29092',
        VERIDIS_DATABASE_URL: 'postgres://a:b@localhost:25432/x',
      }),
    )
    expect(layout.ports).toMatchObject({
      kafka: 29092,
      postgres: 25432,
      registry: 18081,
      registryManagement: 18082,
    })
  })

  test('error: the local stack refuses to run anywhere but loopback', () => {
    expect(() => stackLayout(loadConfig({ VERIDIS_KAFKA_BROKERS: '10.0.0.5:9092' }))).toThrow(
      /only runs on loopback/,
    )
  })

  test('error: a template placeholder without a value is an error, not an empty string', () => {
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: these are template placeholders, not JS templates
    expect(renderTemplate('port=${KAFKA_PORT}', { KAFKA_PORT: '1' })).toBe('port=1')
    expect(() => renderTemplate('dir=${DATA_DIR}', {})).toThrow(/DATA_DIR/)
    // biome-ignore-end lint/suspicious/noTemplateCurlyInString: -
  })
})
