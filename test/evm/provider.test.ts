import { randomInt } from 'node:crypto'
import { stat } from 'node:fs'
import http from 'node:http'
import { FetchRequest, JsonRpcProvider } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { jsonRpcRequest } from '../../contracts/evm/provider.ts'
import { startAnvil } from '../../infra/stack/anvil.ts'
import { freePort } from '../support/harness.ts'

/**
 * ethers over HTTP when the test worker's (or a consumer's) event loop is busy while a
 * connection is being opened: CI (stop 26) failed the Cosmos propagation suite's setup with
 * "request timeout (code=TIMEOUT)" from an anvil on loopback. Node's global agent puts a 5-s
 * socket timeout on every new socket, and ethers' own timeout only replaces it once the
 * socket has connected.
 */
let anvil: Awaited<ReturnType<typeof startAnvil>>
const chainId = randomInt(900_000, 999_999)

beforeAll(async () => {
  anvil = await startAnvil({ chainId, port: await freePort() })
}, 60_000)

afterAll(async () => {
  await anvil?.stop()
})

/** Holds the thread, as a long synchronous piece of work (key derivation, a big JSON) does. */
function holdThread(ms: number) {
  const until = Date.now() + ms
  while (Date.now() < until) {}
}

/**
 * Sends eth_chainId with the thread held right after the request opens its socket. The
 * socket is opened from an I/O callback, so the connect completes while the thread is held
 * and the next turn of the event loop runs expired timers before it sees the connect: the
 * order in which a busy worker meets it.
 */
async function chainIdWithBusyConnect(request: FetchRequest, holdMs: number): Promise<string> {
  // A connection the global agent kept from an earlier request would skip the connect.
  http.globalAgent.destroy()
  const send = request.getUrlFunc
  request.getUrlFunc = async (req, signal) => {
    await new Promise((resolve) => stat('/', resolve))
    const response = send(req, signal)
    holdThread(holdMs)
    return response
  }
  const provider = new JsonRpcProvider(request, chainId, { staticNetwork: true })
  try {
    return await provider.send('eth_chainId', [])
  } finally {
    provider.destroy()
  }
}

describe('ethers JSON-RPC requests', () => {
  // Node sets it (5 s since Node 19) without typing it.
  const { options } = http.globalAgent as http.Agent & { options: { timeout?: number } }
  const globalAgentTimeoutMs = options.timeout ?? 0
  const holdMs = globalAgentTimeoutMs + 500

  test('behavior: a connect finished while the thread was held longer than the global agent allows still answers', async () => {
    // The hazard itself, on ethers' default transport: if Node ever drops the global agent's
    // timeout, this says so and jsonRpcRequest's agent can go.
    expect(globalAgentTimeoutMs).toBeGreaterThan(0)
    await expect(chainIdWithBusyConnect(new FetchRequest(anvil.url), holdMs)).rejects.toMatchObject({
      code: 'TIMEOUT',
    })
    // The project's requests: the request's own timeout (5 minutes) covers the connect.
    expect(Number(await chainIdWithBusyConnect(jsonRpcRequest(anvil.url), holdMs))).toBe(chainId)
    // And a kept-alive socket of that agent, taken again after the same wait.
    expect(Number(await chainIdWithBusyConnect(jsonRpcRequest(anvil.url), holdMs))).toBe(chainId)
  }, 60_000)

  test('error: a request still times out after its own timeout', async () => {
    // A listener that accepts and never answers.
    const silent = http.createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as { port: number }
    try {
      const started = Date.now()
      const provider = new JsonRpcProvider(jsonRpcRequest(`http://127.0.0.1:${port}`, 1_000), chainId, {
        staticNetwork: true,
      })
      await expect(provider.send('eth_chainId', [])).rejects.toMatchObject({ code: 'TIMEOUT' })
      expect(Date.now() - started).toBeLessThan(10_000)
      provider.destroy()
    } finally {
      silent.closeAllConnections()
      await new Promise((resolve) => silent.close(resolve))
    }
  })
})
