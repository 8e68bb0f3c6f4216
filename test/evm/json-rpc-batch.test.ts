import { afterEach, describe, expect, test, vi } from 'vitest'
import { z } from 'zod'
import { createLogger } from '../../core/logging/logger.ts'
import { anvilRpcUrl, LOCAL_ANVILS } from '../../infra/stack/anvil.ts'
import { createRpcClient, RpcRequestError } from '../../producers/chains/evm/rpc/client.ts'

/**
 * JSON-RPC batching in the common transport (producers/chains/common/json-rpc.ts), against the
 * stack's real anvil: calls made together go as batches of at most `batchMaxCount`, every call
 * gets its own answer (matched by id, whatever order the node answers in), and a call the node
 * refuses fails alone while the rest of its batch succeeds.
 */
const anvil = LOCAL_ANVILS[0]!
const url = anvilRpcUrl(anvil.port)
const quantity = z.string().regex(/^0x[0-9a-f]+$/)
const block = z.object({ number: quantity }).nullable()

const client = (batchMaxCount?: number) =>
  createRpcClient({
    chain: `eip155:${anvil.chainId}`,
    urls: [url],
    timeoutMs: 10_000,
    logger: createLogger({ service: 'test-json-rpc', level: 'silent' }),
    onError: () => {},
    ...(batchMaxCount === undefined ? {} : { batchMaxCount }),
  })

/** The HTTP requests the transport makes, and how many calls each one carried. */
function countRequests() {
  const sizes: number[] = []
  const real = globalThis.fetch
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const body = JSON.parse(String(init?.body)) as unknown
    sizes.push(Array.isArray(body) ? body.length : 1)
    return real(input, init)
  })
  return sizes
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('JSON-RPC batches', () => {
  test('behavior: 250 calls at once go as batches of 100, 100, 50, each answered with its own block', async () => {
    const sizes = countRequests()
    const rpc = client(100)
    const numbers = Array.from({ length: 250 }, (_, i) => i % 3)
    const answers = await Promise.all(
      numbers.map((n) => rpc.call('eth_getBlockByNumber', [`0x${n.toString(16)}`, false], block)),
    )
    expect(answers.map((answer) => Number(answer?.number))).toEqual(numbers)
    expect(sizes).toEqual([100, 100, 50])
  })

  test('behavior: a call the node refuses fails alone; the others in its batch are answered', async () => {
    const sizes = countRequests()
    const rpc = client(100)
    const [good, bad, alsoGood] = await Promise.allSettled([
      rpc.call('eth_chainId', [], quantity),
      rpc.call('eth_getBlockByNumber', ['not a block', false], block),
      rpc.call('eth_blockNumber', [], quantity),
    ])
    expect(sizes).toEqual([3])
    expect(good).toEqual({ status: 'fulfilled', value: `0x${anvil.chainId.toString(16)}` })
    expect(bad.status).toBe('rejected')
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(RpcRequestError)
    expect(alsoGood.status).toBe('fulfilled')
  })

  test('behavior: without batchMaxCount every call is its own request', async () => {
    const sizes = countRequests()
    const rpc = client()
    await Promise.all([rpc.call('eth_chainId', [], quantity), rpc.call('eth_blockNumber', [], quantity)])
    expect(sizes).toEqual([1, 1])
  })

  test('behavior: a batch to an endpoint that does not answer fails every call in it', async () => {
    const rpc = createRpcClient({
      chain: `eip155:${anvil.chainId}`,
      urls: ['http://127.0.0.1:1'],
      timeoutMs: 2_000,
      logger: createLogger({ service: 'test-json-rpc', level: 'silent' }),
      onError: () => {},
      batchMaxCount: 100,
    })
    const results = await Promise.allSettled([
      rpc.call('eth_chainId', [], quantity),
      rpc.call('eth_blockNumber', [], quantity),
    ])
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected'])
  })
})
