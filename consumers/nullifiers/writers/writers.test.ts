import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { DEV_ACCOUNT, devWallet } from '../../../contracts/evm/accounts.ts'
import { ConfigError, loadConfig } from '../../../core/config/env.ts'
import { createWriters } from './index.ts'

const SECRET = `0x${'ab'.repeat(32)}`

/**
 * A home of this file's own with the two local anvils as `stack up` describes them (any
 * registry address will do: nothing is sent), so the test needs no stack to have run.
 */
const home = mkdtempSync(path.join(os.tmpdir(), 'veridis-writers-'))
mkdirSync(path.join(home, 'chains'))
writeFileSync(
  path.join(home, 'chains', 'evm.json'),
  JSON.stringify(
    [31337, 31338].map((chainId, index) => ({
      chain: `eip155:${chainId}`,
      rpcUrls: [`http://127.0.0.1:${18545 + index}`],
      contracts: { nullifierRegistry: `0x${'11'.repeat(20)}` },
    })),
  ),
)
afterAll(() => rmSync(home, { recursive: true, force: true }))

const configWith = (env: NodeJS.ProcessEnv) =>
  loadConfig({ VERIDIS_ENV: 'development', VERIDIS_HOME: home, ...env })

function problemsOf(run: () => unknown): string[] {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('propagation writers', () => {
  test('behavior: local chains get the relayer dev account (8) by default', () => {
    const writers = createWriters(configWith({ VERIDIS_RELAYER_CHAINS: 'eip155:31337,eip155:31338' }))
    try {
      expect([...writers.keys()]).toEqual(['eip155:31337', 'eip155:31338'])
      for (const writer of writers.values())
        expect(writer.sender).toBe(devWallet(DEV_ACCOUNT.relayer).address)
    } finally {
      for (const writer of writers.values()) writer.close()
    }
  })

  test('behavior: the configured key signs; it appears nowhere but in the wallet', () => {
    const config = configWith({
      VERIDIS_RELAYER_CHAINS: 'eip155:31337',
      VERIDIS_RELAYER_EVM_PRIVATE_KEY: SECRET,
    })
    const writers = createWriters(config)
    try {
      const writer = writers.get('eip155:31337')!
      expect(writer.sender).not.toBe(devWallet(DEV_ACCOUNT.relayer).address)
      expect(JSON.stringify(writer)).not.toContain(SECRET.slice(2))
    } finally {
      for (const writer of writers.values()) writer.close()
    }
  })

  test('error: production without a relayer key refuses to start', () => {
    const config = { ...configWith({ VERIDIS_RELAYER_CHAINS: 'eip155:31337' }), env: 'production' as const }
    expect(problemsOf(() => createWriters(config))).toEqual([
      'VERIDIS_RELAYER_EVM_PRIVATE_KEY: required in production (the relayer signs with it)',
    ])
  })

  test('error: a malformed key is reported by name, its value never echoed', () => {
    const problems = problemsOf(() =>
      configWith({ VERIDIS_RELAYER_EVM_PRIVATE_KEY: '0xnot-a-key-but-secret' }),
    )
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^VERIDIS_RELAYER_EVM_PRIVATE_KEY: /)
    expect(problems[0]).not.toContain('secret')
  })

  test('error: a chain without a writer family or configuration is named', () => {
    const problems = problemsOf(() =>
      createWriters(
        configWith({ VERIDIS_RELAYER_CHAINS: 'cosmos:cosmoshub-4,starknet:SN_MAIN,eip155:424242' }),
      ),
    )
    expect(problems).toEqual([
      'VERIDIS_RELAYER_CHAINS: no RPC URLs for cosmos:cosmoshub-4; set VERIDIS_COSMOS_RPC_URLS_COSMOSHUB_4 or rpcUrls in VERIDIS_COSMOS_CONFIG',
      'VERIDIS_RELAYER_CHAINS: no RPC URLs for starknet:SN_MAIN; set VERIDIS_STARKNET_RPC_URLS_SN_MAIN or rpcUrls in VERIDIS_STARKNET_CONFIG',
      'VERIDIS_RELAYER_CHAINS: eip155:424242 is not a configured EVM chain (VERIDIS_EVM_CONFIG)',
    ])
  })

  test('error: a fault hook is refused in production', () => {
    expect(
      problemsOf(() =>
        loadConfig({
          VERIDIS_ENV: 'production',
          VERIDIS_RELAYER_FAULT: 'kill-after-sign',
          VERIDIS_KAFKA_BROKERS: 'k:9092',
          VERIDIS_SCHEMA_REGISTRY_URL: 'https://registry.example',
          VERIDIS_DATABASE_URL: 'postgres://u:p@db/veridis',
          VERIDIS_AUDIT_HMAC_KEY: 'h'.repeat(32),
          VERIDIS_AUDIT_MASTER_KEY: 'm'.repeat(32),
        }),
      ),
    ).toContain('VERIDIS_RELAYER_FAULT: a test-only fault hook, refused in production')
  })
})
