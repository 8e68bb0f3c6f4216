import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { type Config, ConfigError, loadConfig } from '../../core/config/env.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { anvilService } from '../../infra/stack/anvil.ts'
import { kafkaService } from '../../infra/stack/kafka.ts'
import { stackLayout } from '../../infra/stack/layout.ts'
import type { StackContext, StackService } from '../../infra/stack/service.ts'

/**
 * Issue 16 item 2: data directories are the owner's only, and production refuses the
 * local defaults that would leave the database or the broker open.
 */
const homes: string[] = []
const running: { service: StackService; context: StackContext }[] = []

afterAll(async () => {
  for (const { service, context } of running) await service.stop(context).catch(() => undefined)
  for (const home of homes) rmSync(home, { recursive: true, force: true })
})

const modeOf = (dir: string) => statSync(dir).mode & 0o777

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A fresh VERIDIS_HOME in a temporary folder, with ports of its own. */
async function freshContext(): Promise<StackContext> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'veridis-perm-'))
  homes.push(home)
  const config: Config = loadConfig({
    VERIDIS_HOME: home,
    VERIDIS_KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
    VERIDIS_KAFKA_CONTROLLER_PORT: String(await freePort()),
  })
  return { config, layout: stackLayout(config), progress: () => undefined }
}

describe('data directories', () => {
  test("behavior: Kafka's data directories are 0700, also when an older run left them 0755", async () => {
    const context = await freshContext()
    const stateDir = path.join(context.layout.dataDir, 'kafka')
    mkdirSync(stateDir, { recursive: true, mode: 0o755 })
    running.push({ service: kafkaService, context })
    await kafkaService.start(context)
    expect(modeOf(stateDir)).toBe(0o700)
    expect(modeOf(path.join(stateDir, 'log-dirs'))).toBe(0o700)
    // Another local user cannot enter it, so segment files inside are out of reach whatever their mode.
    expect(modeOf(stateDir) & 0o077).toBe(0)
  }, 120_000)

  test("behavior: a chain's data directory is 0700", async () => {
    const context = await freshContext()
    const chain = { name: 'anvil-permissions-test', chainId: 31_999, port: await freePort() }
    const service = anvilService(chain)
    running.push({ service, context })
    await service.start(context)
    expect(modeOf(path.join(context.layout.dataDir, 'anvil'))).toBe(0o700)
  }, 60_000)

  test("behavior: the running stack's Postgres cluster and data directory are 0700", () => {
    const dataDir = path.join(PROJECT_ROOT, '.veridis', 'data', 'postgres')
    expect(modeOf(dataDir)).toBe(0o700)
    expect(modeOf(path.join(dataDir, 'pgdata'))).toBe(0o700)
  })
})

function problems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

const PRODUCTION: NodeJS.ProcessEnv = {
  VERIDIS_ENV: 'production',
  VERIDIS_KAFKA_BROKERS: 'kafka-1.internal:9093',
  VERIDIS_KAFKA_SSL: 'true',
  VERIDIS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
  VERIDIS_KAFKA_SASL_USERNAME: 'veridis-pipeline',
  VERIDIS_KAFKA_SASL_PASSWORD: 'kafka-s3cret-pw',
  VERIDIS_SCHEMA_REGISTRY_URL: 'https://registry.internal/apis/ccompat/v7',
  VERIDIS_DATABASE_URL: 'postgres://veridis:db-s3cret-pw@db.internal:5432/veridis',
  VERIDIS_AUDIT_HMAC_KEY: 'h'.repeat(40),
  VERIDIS_AUDIT_MASTER_KEY: 'm'.repeat(40),
}

describe('production configuration', () => {
  test('behavior: a production configuration with an authenticated, encrypted broker and its own password is accepted', () => {
    expect(problems(PRODUCTION)).toEqual([])
  })

  test("error: production refuses the local stack's database password, without quoting the URL", () => {
    const found = problems({
      ...PRODUCTION,
      VERIDIS_DATABASE_URL: 'postgres://veridis:veridis@db.internal:5432/veridis',
    })
    expect(found).toEqual([
      "VERIDIS_DATABASE_URL: uses the local stack's default password; production needs its own",
    ])
    // Development keeps the default.
    expect(problems({ VERIDIS_DATABASE_URL: 'postgres://veridis:veridis@127.0.0.1:15432/veridis' })).toEqual(
      [],
    )
  })

  test('error: production refuses an unauthenticated broker and one in clear', () => {
    const {
      VERIDIS_KAFKA_SASL_MECHANISM: _m,
      VERIDIS_KAFKA_SASL_USERNAME: _u,
      VERIDIS_KAFKA_SASL_PASSWORD: _p,
      ...unauthenticated
    } = PRODUCTION
    expect(problems(unauthenticated)).toEqual([
      'VERIDIS_KAFKA_SASL_MECHANISM: required in production (with _USERNAME and _PASSWORD): an unauthenticated broker connection is refused',
    ])
    expect(problems({ ...PRODUCTION, VERIDIS_KAFKA_SSL: 'false' })).toEqual([
      'VERIDIS_KAFKA_SSL: required in production (true): broker traffic is not sent in clear',
    ])
    const found = problems({ ...unauthenticated, VERIDIS_KAFKA_SSL: undefined })
    expect(found.join('\n')).not.toContain('s3cret')
    expect(found.map((line) => line.split(':')[0])).toEqual([
      'VERIDIS_KAFKA_SASL_MECHANISM',
      'VERIDIS_KAFKA_SSL',
    ])
  })
})
