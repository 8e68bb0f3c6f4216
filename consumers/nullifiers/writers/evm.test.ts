import { createServer as createHttpServer } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import { Wallet } from 'ethers'
import { afterEach, describe, expect, test } from 'vitest'
import { RetryableError } from '../../../core/errors.ts'
import { createEvmWriter } from './evm.ts'
import type { NullifierWriter } from './writer.ts'

const KEY = `0x${'11'.repeat(32)}`
const REGISTRY = '0x0000000000000000000000000000000000000042'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function listen(server: Server): Promise<string> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}`
}

function writerFor(url: string, requestTimeoutMs?: number): NullifierWriter {
  const writer = createEvmWriter({
    chain: 'eip155:31999',
    chainId: 31999n,
    rpcUrls: [url],
    registry: REGISTRY,
    privateKey: KEY,
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  })
  cleanups.push(() => writer.close())
  return writer
}

describe('EVM propagation writer', () => {
  test('error: an endpoint that accepts and never answers fails after requestTimeoutMs', async () => {
    // Accepts the connection, reads the request, never writes a byte back.
    const url = await listen(createServer((socket) => socket.resume()))
    const writer = writerFor(url, 300)
    const started = Date.now()
    await expect(writer.isUsed('1', '2')).rejects.toBeInstanceOf(RetryableError)
    expect(Date.now() - started).toBeLessThan(5_000)
  }, 10_000)

  test('behavior: a recorded write whose broadcast failed still takes its nonce', async () => {
    // A node that has never seen the write (its pending count stays at 5) and refuses to take it.
    const calls: string[] = []
    const url = await listen(
      createHttpServer((request, response) => {
        let body = ''
        request.on('data', (chunk: Buffer) => {
          body += chunk.toString()
        })
        request.on('end', () => {
          const { id, method } = JSON.parse(body) as { id: number; method: string }
          calls.push(method)
          if (method === 'eth_sendRawTransaction') {
            response.writeHead(503).end('unavailable')
            return
          }
          const result =
            method === 'eth_getTransactionCount' ? '0x5' : method === 'eth_blockNumber' ? '0x1' : null
          response.writeHead(200, { 'content-type': 'application/json' })
          response.end(JSON.stringify({ jsonrpc: '2.0', id, result }))
        })
      }),
    )
    const writer = writerFor(url, 2_000)
    expect(await writer.nextNonce()).toBe(5n)
    const signed = await new Wallet(KEY).signTransaction({
      chainId: 31999n,
      to: REGISTRY,
      nonce: 5,
      gasLimit: 100_000n,
      gasPrice: 1n,
      type: 0,
    })
    await expect(writer.broadcast({ txHash: '0x01', nonce: '5', signed })).rejects.toThrow()
    expect(calls).toContain('eth_sendRawTransaction')
    // Signing the next write with 5 again would give the recorded one's nonce to a second write.
    expect(await writer.nextNonce()).toBe(6n)
  })
})
