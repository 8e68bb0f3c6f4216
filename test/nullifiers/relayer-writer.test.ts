import { createServer, type Socket } from 'node:net'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createEvmWriter } from '../../consumers/nullifiers/writers/evm.ts'
import type { NullifierWriter } from '../../consumers/nullifiers/writers/writer.ts'
import { DEV_ACCOUNT, devWallet } from '../../contracts/evm/accounts.ts'
import { RetryableError } from '../../core/errors.ts'
import { startTestChain, type TestChain } from '../evm/support.ts'
import { startTcpProxy } from '../support/tcp-proxy.ts'

/**
 * The relayer's EVM writer against a real anvil, with faults put between them: an endpoint
 * that never answers, and a connection cut while a recorded write is broadcast.
 */
let chain: TestChain
const closers: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  chain = await startTestChain()
}, 60_000)

afterAll(async () => {
  for (const close of closers.reverse()) await close()
  await chain?.stop()
})

function writerOn(url: string, requestTimeoutMs: number): NullifierWriter {
  const writer = createEvmWriter({
    chain: chain.chain,
    chainId: BigInt(chain.chainId),
    rpcUrls: [url],
    registry: chain.deployment.contracts.NullifierRegistry,
    privateKey: devWallet(DEV_ACCOUNT.relayer).privateKey,
    requestTimeoutMs,
  })
  closers.push(() => writer.close())
  return writer
}

describe('EVM propagation writer', () => {
  test('error: an endpoint that accepts and never answers fails after requestTimeoutMs', async () => {
    // Accepts the connection, reads the request, never writes a byte back.
    const sockets = new Set<Socket>()
    const blackHole = createServer((socket) => {
      sockets.add(socket)
      socket.resume()
    })
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve))
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy()
          blackHole.close(() => resolve())
        }),
    )
    const { port } = blackHole.address() as { port: number }
    const writer = writerOn(`http://127.0.0.1:${port}`, 300)
    const started = Date.now()
    await expect(writer.isUsed('1', '2')).rejects.toBeInstanceOf(RetryableError)
    expect(Date.now() - started).toBeLessThan(5_000)
  }, 10_000)

  test('behavior: a recorded write whose broadcast failed still takes its nonce', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(chain.url).port) })
    closers.push(() => proxy.close())
    const writer = writerOn(`http://127.0.0.1:${proxy.port}`, 2_000)
    const nonce = await writer.nextNonce()
    const signed = await new Wallet(devWallet(DEV_ACCOUNT.relayer).privateKey).signTransaction({
      chainId: BigInt(chain.chainId),
      to: chain.deployment.contracts.NullifierRegistry,
      nonce: Number(nonce),
      gasLimit: 100_000n,
      gasPrice: 10_000_000_000n,
      type: 0,
    })
    // The connection to the node is cut while the recorded write is broadcast.
    await proxy.cut()
    await expect(writer.broadcast({ txHash: '0x01', nonce: nonce.toString(), signed })).rejects.toThrow()
    await proxy.restore()
    // The node never saw it: its pending count is still `nonce`. Handing that out again would
    // give the recorded write's nonce to a second one.
    expect(await chain.provider.getTransactionCount(devWallet(DEV_ACCOUNT.relayer).address, 'pending')).toBe(
      Number(nonce),
    )
    expect(await writer.nextNonce()).toBe(nonce + 1n)
  })
})
