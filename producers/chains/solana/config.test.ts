import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { ConfigError } from '../../../core/config/env.ts'
import { loadSolanaChains, resolveSolanaChain, solanaChainOf } from './config.ts'
import { solanaFamily } from './family.ts'

/** Solana clusters as configuration: the built-in mainnet-beta entry, a JSON file, environment overrides. */
const home = mkdtempSync(path.join(os.tmpdir(), 'veridis-solana-home-'))
const dirs = [home]
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function configFile(content: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veridis-solana-cfg-'))
  dirs.push(dir)
  const file = path.join(dir, 'chains.json')
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

const MAINNET = 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp'
const AUTHORITY = 'AuthZ1kVWGh8h3Xm8XbNw7d3n7XcE7u2P4ZQyJ5mGfQa'

describe('Solana chain configuration', () => {
  test('behavior: mainnet-beta is an entry, disabled until it has RPC URLs and authorities', () => {
    expect(solanaChainOf('5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d')).toBe(MAINNET)
    const chains = solanaFamily.loadChains(home, {})
    expect(chains.get(MAINNET)).toMatchObject({ enabled: false })
    expect(resolveSolanaChain(loadSolanaChains(home, {}).get(MAINNET)!)).toEqual({
      problem: `no RPC URLs for ${MAINNET}; set VERIDIS_SOLANA_RPC_URLS_5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp or rpcUrls in VERIDIS_SOLANA_CONFIG`,
    })
  })

  test('behavior: RPC URLs from the environment and authorities from a file enable it', () => {
    const file = configFile([
      { chain: MAINNET, authorities: { nullifier: AUTHORITY }, startBlock: 300_000_000 },
    ])
    const entries = loadSolanaChains(home, {
      VERIDIS_SOLANA_CONFIG: file,
      VERIDIS_SOLANA_RPC_URLS_5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp: 'https://a.example/key, https://b.example',
    })
    const resolved = resolveSolanaChain(entries.get(MAINNET)!)
    expect(resolved).toMatchObject({
      config: {
        chain: MAINNET,
        genesisPrefix: '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp',
        rpcUrls: ['https://a.example/key', 'https://b.example'],
        authorities: { nullifier: AUTHORITY },
        startBlock: 300_000_000,
      },
    })
  })

  test('error: every problem is named by its source, never quoting URLs', () => {
    const file = configFile([{ chain: 'solana:short', authorities: { nullifier: 'not-base58!' } }])
    let error: unknown
    try {
      loadSolanaChains(home, {
        VERIDIS_SOLANA_CONFIG: file,
        VERIDIS_SOLANA_RPC_URLS_5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp: 'ftp://secret-key@host',
      })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    const text = (error as ConfigError).message
    expect(text).toMatch(/VERIDIS_SOLANA_CONFIG: entry 0.chain/)
    expect(text).toMatch(/VERIDIS_SOLANA_CONFIG: entry 0.authorities.nullifier/)
    expect(text).toMatch(/VERIDIS_SOLANA_RPC_URLS_5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp: must be an http\(s\) URL/)
    expect(text).not.toMatch(/secret-key/)
  })
})
