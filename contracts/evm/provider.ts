import { type JsonRpcPayload, JsonRpcProvider, type JsonRpcResult } from 'ethers'

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
  const provider = new ClosableJsonRpcProvider(rpcUrl, options.chainId, {
    staticNetwork: true,
    polling: true,
  })
  provider.pollingInterval = options.pollingMs ?? 100
  return provider
}
