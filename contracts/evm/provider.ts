import http from 'node:http'
import https from 'node:https'
import { FetchRequest, type JsonRpcPayload, JsonRpcProvider, type JsonRpcResult } from 'ethers'

/** ethers' own request timeout, kept as the default. */
const ETHERS_REQUEST_TIMEOUT_MS = 300_000

const agents = new Map<string, http.Agent>()

/**
 * A keep-alive agent whose socket timeout is the request's own. ethers sends through Node's
 * global agent, which since Node 19 carries a 5-s socket timeout that also covers the
 * connect: ethers' `request.setTimeout` only takes over once the socket is connected. A
 * worker whose event loop is busy for 5 s while a connect completes (CI: a test setting up a
 * second chain beside anvil) then sees "request timeout (code=TIMEOUT)" from a node that
 * answered in milliseconds.
 */
function agentFor(url: string, timeoutMs: number): http.Agent {
  const secure = url.toLowerCase().startsWith('https:')
  const key = `${secure ? 'https' : 'http'} ${timeoutMs}`
  let agent = agents.get(key)
  if (!agent) {
    const options = { keepAlive: true, timeout: timeoutMs }
    agent = secure ? new https.Agent(options) : new http.Agent(options)
    agents.set(key, agent)
  }
  return agent
}

/**
 * A JSON-RPC request for an ethers provider, timed out after `timeoutMs` from the start of
 * the connect, not only from its end (see agentFor). Every ethers provider over HTTP in the
 * project is built on one.
 */
export function jsonRpcRequest(url: string, timeoutMs = ETHERS_REQUEST_TIMEOUT_MS): FetchRequest {
  const request = new FetchRequest(url)
  request.timeout = timeoutMs
  request.getUrlFunc = FetchRequest.createGetUrlFunc({ agent: agentFor(url, timeoutMs) })
  return request
}

/** Longer than ethers' batch stall (10 ms): a request queued for the next batch has been sent by then. */
const QUEUE_SETTLE_MS = 50

/**
 * A polling JSON-RPC provider that can be closed while `tx.wait()` or `waitForDeployment()`
 * polls are in flight. ethers' receipt poller does not catch its own request, so `destroy()`
 * during one rejects it unhandled and takes the process down ("provider destroyed; cancelled
 * request", seen in `bench starknet` deploying to a fresh anvil). `close()` stops the pollers,
 * lets the requests already sent finish, then destroys the transport.
 */
export class ClosableJsonRpcProvider extends JsonRpcProvider {
  readonly #inFlight = new Set<Promise<unknown>>()

  override _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const sent = super._send(payload)
    this.#inFlight.add(sent)
    const forget = () => this.#inFlight.delete(sent)
    sent.then(forget, forget)
    return sent
  }

  async close(): Promise<void> {
    await this.removeAllListeners()
    do {
      await new Promise((resolve) => setTimeout(resolve, QUEUE_SETTLE_MS))
      await Promise.allSettled([...this.#inFlight])
    } while (this.#inFlight.size > 0)
    this.destroy()
  }
}

/** A provider for a local or configured node, polling every `pollingMs` for receipts and blocks. */
export function openPollingProvider(
  rpcUrl: string,
  options: { chainId?: number; pollingMs?: number } = {},
): ClosableJsonRpcProvider {
  const provider = new ClosableJsonRpcProvider(jsonRpcRequest(rpcUrl), options.chainId, {
    staticNetwork: true,
    polling: true,
  })
  provider.pollingInterval = options.pollingMs ?? 100
  return provider
}
