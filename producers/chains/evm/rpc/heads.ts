import { Network, WebSocketProvider } from 'ethers'
import { backoffDelay, sleep } from '../../../../core/bus/retry.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { redactRpcUrl } from '../config.ts'

/**
 * New-head notifications over a websocket (eth_subscribe newHeads through ethers'
 * WebSocketProvider). They only wake the chain's loop early: the loop also polls over
 * HTTP, so a websocket that drops or never connects costs latency, never events. A dropped
 * socket is reopened with backoff.
 */
type SocketLike = {
  readyState?: number
  on?: (event: string, listener: (...args: unknown[]) => void) => void
  addEventListener?: (event: string, listener: (...args: unknown[]) => void) => void
}

const OPEN = 1

/**
 * ethers rejects its own eth_subscribe request, with nobody to catch it, when a provider
 * whose socket never opened is destroyed; the unhandled rejection would end the process.
 * Such a provider holds nothing but a closed socket, so it is dropped instead.
 */
function release(provider: WebSocketProvider) {
  if ((provider.websocket as unknown as SocketLike).readyState === OPEN)
    provider.destroy().catch(() => undefined)
}

export function watchHeads(options: {
  url: string
  chainId: bigint
  logger: Logger
  signal: AbortSignal
  onHead: (blockNumber: number) => void
}): { stop(): Promise<void> } {
  const network = Network.from(options.chainId)
  const redacted = redactRpcUrl(options.url)
  let current: WebSocketProvider | undefined
  let stopped = false

  const connectOnce = () =>
    new Promise<void>((resolve) => {
      const provider = new WebSocketProvider(options.url, network, { staticNetwork: network })
      current = provider
      const socket = provider.websocket as unknown as SocketLike
      const closed = (reason: string) => {
        if (current === provider) {
          current = undefined
          release(provider)
          if (!stopped)
            options.logger.warn({ ws: redacted, reason }, 'new-head websocket closed; polling meanwhile')
        }
        resolve()
      }
      const listen = socket.on?.bind(socket) ?? socket.addEventListener?.bind(socket)
      listen?.('close', () => closed('closed'))
      listen?.('error', (error: unknown) => closed(error instanceof Error ? error.message : 'error'))
      provider
        .on('block', (blockNumber: number) => options.onHead(blockNumber))
        .catch((error: unknown) => closed(error instanceof Error ? error.message : String(error)))
    })

  const loop = (async () => {
    for (let attempt = 1; !stopped && !options.signal.aborted; attempt++) {
      const started = Date.now()
      await connectOnce()
      if (Date.now() - started > 30_000) attempt = 1
      await sleep(backoffDelay(attempt, 1_000, 30_000), options.signal)
    }
  })()

  return {
    async stop() {
      stopped = true
      const provider = current
      current = undefined
      if (provider) release(provider)
      await Promise.race([loop, sleep(1_000)])
    },
  }
}
