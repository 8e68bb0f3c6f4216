import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { ConfigError, loadConfig } from '../../core/config/env.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'

function problems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  throw new Error('configuration was accepted')
}

describe('configuration', () => {
  test('behavior: local defaults need no environment at all', () => {
    const config = loadConfig({})
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092'])
    expect(config.chains).toEqual(['eip155:31337', 'eip155:31338'])
    expect(config.topics).toEqual({ partitions: 3, replication: 1, minInsyncReplicas: 1 })
  })

  test('error: every problem is reported once, naming its variable', () => {
    const found = problems({
      VERIDIS_CHAINS: 'eip155:1,eip155:999999,not-a-chain',
      VERIDIS_SCHEMA_REGISTRY_URL: 'ftp://registry',
      VERIDIS_KAFKA_BROKERS: 'localhost',
      VERIDIS_KAFKA_SASL_MECHANISM: 'plain',
      VERIDIS_KAFKA_SASL_USERNAME: 'pipeline',
      VERIDIS_TOPIC_PARTITIONS: 'many',
    })
    expect(found).toEqual([
      "VERIDIS_KAFKA_BROKERS: must be host:port (got 'localhost')",
      "VERIDIS_SCHEMA_REGISTRY_URL: must be an http(s) URL (got 'ftp://registry')",
      expect.stringMatching(/^VERIDIS_CHAINS: unknown chain 'eip155:999999'; known: eip155:1, /),
      expect.stringMatching(/^VERIDIS_CHAINS: 'not-a-chain' is not a CAIP-2 chain id/),
      "VERIDIS_TOPIC_PARTITIONS: must be a number (got 'many')",
      'VERIDIS_KAFKA_SASL_PASSWORD: missing secret (VERIDIS_KAFKA_SASL_USERNAME is set)',
    ])
  })

  test('error: secrets are never echoed back', () => {
    const found = problems({
      VERIDIS_DATABASE_URL: 'mysql://admin:hunter2@db/veridis',
      VERIDIS_KAFKA_SASL_PASSWORD: 'hunter2',
    })
    expect(found.join('\n')).not.toContain('hunter2')
    expect(found).toContain('VERIDIS_DATABASE_URL: must be a postgres:// URL')
    expect(found).toContain('VERIDIS_KAFKA_SASL_USERNAME: missing (VERIDIS_KAFKA_SASL_PASSWORD is set)')
  })

  test('error: production refuses the developer defaults', () => {
    const found = problems({ VERIDIS_ENV: 'production' })
    expect(found.map((line) => line.split(':')[0])).toEqual([
      'VERIDIS_KAFKA_BROKERS',
      'VERIDIS_SCHEMA_REGISTRY_URL',
      'VERIDIS_DATABASE_URL',
      // An unauthenticated broker connection, and one in clear.
      'VERIDIS_KAFKA_SASL_MECHANISM',
      'VERIDIS_KAFKA_SSL',
      // The audit service's keys have local defaults under .veridis/secrets; production names them.
      'VERIDIS_AUDIT_HMAC_KEY',
      'VERIDIS_AUDIT_MASTER_KEY',
    ])
  })

  test('error: a process started with bad configuration exits 78 with a readable message, no stack trace', () => {
    const result = spawnSync(path.join(PROJECT_ROOT, 'bin', 'veridis'), ['consume', 'ledger'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        VERIDIS_CHAINS: 'eip155:424242',
        VERIDIS_DATABASE_URL: 'nope',
      },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(result.status).toBe(78)
    expect(result.stderr).toContain('veridis: configuration is invalid:')
    expect(result.stderr).toContain("VERIDIS_CHAINS: unknown chain 'eip155:424242'")
    expect(result.stderr).toContain('VERIDIS_DATABASE_URL: must be a postgres:// URL')
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })
})
