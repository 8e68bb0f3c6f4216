import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadConfig } from '../../core/config/env.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { renderTemplate } from '../../infra/stack/kafka.ts'
import { stackLayout } from '../../infra/stack/layout.ts'
import { STACK_SERVICES } from '../../infra/stack/stack.ts'

const veridis = (...args: string[]) =>
  spawnSync(path.join(PROJECT_ROOT, 'bin', 'veridis'), args, {
    encoding: 'utf8',
    // A cap: a node started here (the Solana validator, a new ledger) takes a minute or two.
    timeout: 300_000,
    env: process.env,
  })

describe('local stack', () => {
  test('behavior: stack up is idempotent and status reports every service healthy', () => {
    // The first starts what the test run left stopped (test/setup/global.ts); the second must
    // find everything running and change nothing.
    expect(veridis('stack', 'up').status).toBe(0)
    const up = veridis('stack', 'up')
    expect(up.status).toBe(0)
    // Every service the stack declares, so a node added to it is checked here too.
    const services = STACK_SERVICES.map((service) => service.name)
    expect(services).toEqual(expect.arrayContaining(['postgres', 'kafka', 'registry', 'anvil-a', 'wasmd']))
    for (const service of services) expect(up.stderr).toContain(`${service}: already running`)
    expect(up.stderr).toContain('anvil-a: contracts already deployed')
    const status = veridis('stack', 'status')
    expect(status.status).toBe(0)
    const lines = status.stdout.trim().split('\n')
    expect(lines.map((line) => line.split(/\s+/).slice(0, 2))).toEqual(
      services.map((service) => [service, 'healthy']),
    )
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
