import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { writeLocalChainConfig } from '../../../infra/stack/local-chains.ts'
import { selectChains } from '../common/process.ts'
import { redactUrl as redactRpcUrl } from '../common/redact.ts'
import { BUILT_IN_CHAINS, loadEvmChains, resolveChain } from './config.ts'
import { evmFamily } from './family.ts'

/** Chains as configuration: built-in entries, a JSON file and environment overrides. */
const home = mkdtempSync(path.join(os.tmpdir(), 'veridis-evm-home-'))

const dirs = [home]
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function configFile(content: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veridis-evm-cfg-'))
  dirs.push(dir)
  const file = path.join(dir, 'chains.json')
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

describe('EVM chain configuration', () => {
  test('behavior: the eight mainnets are entries with finality rules, disabled until they have RPC URLs', () => {
    expect(BUILT_IN_CHAINS.map((entry) => entry.chain)).toEqual([
      'eip155:1',
      'eip155:137',
      'eip155:56',
      'eip155:43114',
      'eip155:42161',
      'eip155:10',
      'eip155:250',
      'eip155:8453',
    ])
    // The local chains are configuration the stack writes, read like any other.
    writeLocalChainConfig(home)
    const entries = loadEvmChains(home, {})
    expect(selectChains(evmFamily.loadChains(home, {}), [])).toEqual(['eip155:31337', 'eip155:31338'])
    expect(resolveChain(entries.get('eip155:1')!)).toEqual({
      problem: 'no RPC URLs for eip155:1; set VERIDIS_EVM_RPC_URLS_1 or rpcUrls in VERIDIS_EVM_CONFIG',
    })
  })

  test('behavior: RPC URLs from the environment and contracts from a file enable a mainnet', () => {
    const file = configFile([
      {
        chain: 'eip155:1',
        contracts: { nullifierRegistry: '0x000000000000000000000000000000000000dEaD' },
        startBlock: 19_000_000,
      },
      {
        chain: 'eip155:100',
        rpcUrls: ['https://rpc.gnosis.example'],
        contracts: { bridgeGateway: '0x000000000000000000000000000000000000bEEF' },
      },
    ])
    const entries = loadEvmChains(home, {
      VERIDIS_EVM_CONFIG: file,
      VERIDIS_EVM_RPC_URLS_1: 'https://a.example/v2/KEY, https://b.example',
      VERIDIS_EVM_WS_URL_1: 'wss://a.example/ws/KEY',
    })
    const resolved = resolveChain(entries.get('eip155:1')!)
    expect(resolved).toMatchObject({
      config: {
        chain: 'eip155:1',
        chainId: 1n,
        name: 'Ethereum',
        rpcUrls: ['https://a.example/v2/KEY', 'https://b.example'],
        wsUrl: 'wss://a.example/ws/KEY',
        finality: { rule: 'finalized-tag' },
        startBlock: 19_000_000,
      },
    })
    // A chain Veridis has never heard of is configuration too.
    expect(resolveChain(entries.get('eip155:100')!)).toMatchObject({
      config: { chainId: 100n, name: 'eip155:100' },
    })
    expect(
      selectChains(
        evmFamily.loadChains(home, {
          VERIDIS_EVM_CONFIG: file,
          VERIDIS_EVM_RPC_URLS_1: 'https://a.example/v2/KEY, https://b.example',
        }),
        [],
      ),
    ).toEqual(expect.arrayContaining(['eip155:1', 'eip155:100']))
  })

  test('error: every problem is reported naming its variable, never echoing URLs', () => {
    const file = configFile([{ chain: 'solana:mainnet', rpcUrls: ['ftp://x'] }])
    let message = ''
    try {
      loadEvmChains(home, { VERIDIS_EVM_CONFIG: file, VERIDIS_EVM_RPC_URLS_10: 'not a url with secret-key' })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/VERIDIS_EVM_CONFIG: entry 0\.chain: must be an eip155 CAIP-2 id/)
    expect(message).toMatch(/VERIDIS_EVM_CONFIG: entry 0\.rpcUrls\.0: must be an http\(s\) URL/)
    expect(message).toMatch(/VERIDIS_EVM_RPC_URLS_10: must be an http\(s\) URL/)
    expect(message).not.toContain('secret-key')
    expect(() => loadEvmChains(home, { VERIDIS_EVM_CONFIG: configFile('{not json') })).toThrow(
      /VERIDIS_EVM_CONFIG: not JSON/,
    )
  })

  test('error: a ws URL with a #fragment is refused without echoing it', () => {
    const messageOf = (run: () => unknown) => {
      try {
        run()
      } catch (error) {
        return (error as Error).message
      }
      return ''
    }
    const fromEnv = messageOf(() =>
      loadEvmChains(home, { VERIDIS_EVM_WS_URL_1: 'wss://a.example/ws/SECRET-KEY#fragment' }),
    )
    expect(fromEnv).toMatch(/VERIDIS_EVM_WS_URL_1: must be a ws\(s\) URL without a #fragment/)
    const fromFile = messageOf(() =>
      loadEvmChains(home, {
        VERIDIS_EVM_CONFIG: configFile([{ chain: 'eip155:1', wsUrl: 'wss://a.example/ws/SECRET-KEY#x' }]),
      }),
    )
    expect(fromFile).toMatch(/VERIDIS_EVM_CONFIG: entry 0\.wsUrl: must be a ws\(s\) URL without a #fragment/)
    for (const message of [fromEnv, fromFile]) {
      expect(message).not.toContain('SECRET-KEY')
      expect(message).not.toContain('a.example')
    }
  })

  test('error: a malformed config file is reported by position, never quoting its text', () => {
    const messageOf = (content: string) => {
      try {
        loadEvmChains(home, { VERIDIS_EVM_CONFIG: configFile(content) })
      } catch (error) {
        return (error as Error).message
      }
      return ''
    }
    // A trailing comma right after a URL holding a (fake) API key.
    const trailing = messageOf(
      '[\n  {\n    "chain": "eip155:1",\n    "rpcUrls": ["https://rpc.example/v2/FAKEKEY0123456789"],\n  }\n]\n',
    )
    expect(trailing).toMatch(/VERIDIS_EVM_CONFIG: not JSON \(line 5, column 3\)/)
    // An unexpected token: V8 quotes the ~10 characters around it in its own message.
    const unquoted = messageOf(
      '[{"chain": "eip155:1", "rpcUrls": [https://rpc.example/v2/FAKEKEY0123456789]}]',
    )
    const stray = messageOf('[{"rpcUrls": ["https://rpc.example/v2/FAKEKEY0123456789"]}, x]')
    for (const message of [trailing, unquoted, stray]) {
      expect(message).toMatch(/VERIDIS_EVM_CONFIG: not JSON/)
      expect(message).not.toMatch(/FAKEKEY|https|rpc|56789/)
    }
  })

  test('behavior: RPC URLs are redacted to their origin in logs and metrics', () => {
    expect(redactRpcUrl('https://eth-mainnet.g.alchemy.com/v2/abc123')).toBe(
      'https://eth-mainnet.g.alchemy.com/***',
    )
    expect(redactRpcUrl('https://user:pw@rpc.example?key=1')).toBe('https://rpc.example/***')
    expect(redactRpcUrl('http://127.0.0.1:18545')).toBe('http://127.0.0.1:18545')
  })
})

describe('RPC client errors', () => {
  test('error: every endpoint down gives one retryable error that names endpoints without their keys', async () => {
    const { createRpcClient } = await import('./rpc/client.ts')
    const { describeError, isTransient } = await import('../../../core/errors.ts')
    const { createLogger } = await import('../../../core/logging/logger.ts')
    const { blockNumberSchema } = await import('./rpc/schemas.ts')
    const failures: string[] = []
    const client = createRpcClient({
      chain: 'eip155:1',
      // Nothing listens on port 9 (discard) here; the path holds a fake API key.
      urls: ['http://127.0.0.1:9/v2/SECRET-KEY-1', 'http://127.0.0.1:9/?apikey=SECRET-KEY-2'],
      timeoutMs: 2_000,
      logger: createLogger({ service: 'test', level: 'silent' }),
      onError: (url) => failures.push(url),
    })
    try {
      const error = await client.call('eth_blockNumber', [], blockNumberSchema).then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(isTransient(error)).toBe(true)
      const { message } = describeError(error)
      expect(message).toMatch(/every RPC endpoint of eip155:1 failed/)
      expect(message).toContain('http://127.0.0.1:9/***')
      expect(message).not.toMatch(/SECRET-KEY/)
      expect(failures).toEqual(['http://127.0.0.1:9/***', 'http://127.0.0.1:9/***'])
    } finally {
      client.destroy()
    }
  })

  test('error: an answer about the request is thrown at once; a failing or malformed endpoint fails over', async () => {
    const { createServer } = await import('node:http')
    const { createRpcClient, RpcRequestError } = await import('./rpc/client.ts')
    const { createLogger } = await import('../../../core/logging/logger.ts')
    const { blockNumberSchema } = await import('./rpc/schemas.ts')
    // Each endpoint answers by its path: the JSON-RPC answer it was given.
    const answers: Record<string, { status?: number; body: unknown }> = {
      '/ok': { body: { jsonrpc: '2.0', id: 1, result: '0x10' } },
      '/invalid-params': {
        body: { error: { code: -32602, message: 'invalid params, see https://docs.example/SECRET-KEY' } },
      },
      '/internal': { body: { error: { code: -32603, message: 'internal error' } } },
      '/malformed': { body: { result: 'not hex' } },
      '/bad-gateway': { status: 502, body: '<html>' },
    }
    const server = createServer((request, response) => {
      request.resume().on('end', () => {
        const answer = answers[request.url ?? ''] ?? { status: 404, body: '' }
        response.writeHead(answer.status ?? 200, { 'content-type': 'application/json' })
        response.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    const clientOf = (...paths: string[]) => {
      const failures: string[] = []
      const client = createRpcClient({
        chain: 'eip155:1',
        urls: paths.map((endpoint) => `${origin}${endpoint}`),
        timeoutMs: 2_000,
        logger: createLogger({ service: 'test', level: 'silent' }),
        onError: (url) => failures.push(url),
      })
      const outcome = client.call('eth_blockNumber', [], blockNumberSchema).then(
        (result) => ({ result }),
        (error: unknown) => ({ error: error as Error }),
      )
      return { failures, outcome }
    }
    try {
      const refused = clientOf('/invalid-params', '/ok')
      const { error } = (await refused.outcome) as { error: Error }
      expect(error).toBeInstanceOf(RpcRequestError)
      expect(error.message).toBe(
        `eth_blockNumber rejected by ${origin}/***: -32602 invalid params, see https://docs.example/***`,
      )
      expect(refused.failures).toEqual([])
      for (const failing of ['/internal', '/malformed', '/bad-gateway']) {
        const failedOver = clientOf(failing, '/ok')
        expect(await failedOver.outcome).toEqual({ result: 16 })
        expect(failedOver.failures).toEqual([`${origin}/***`])
      }
    } finally {
      server.close()
    }
  })
})
