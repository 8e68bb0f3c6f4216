import { Network, WebSocketProvider } from 'ethers'
import { backoffDelay, sleep } from '../../../../core/bus/retry.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { redactUrl } from '../../common/redact.ts'
import { describeRpcError } from './client.ts'

/**
 * New-head notifications over a websocket (eth_subscribe newHeads through ethers'
 * WebSocketProvider). They only wake the chain's loop early: the loop also polls over
 * HTTP, so a websocket that drops or never connects costs latency, never events. A dropped
 * socket is reopened with backoff; a URL the websocket library refuses outright is logged
 * (redacted) and given up, leaving the chain to its polling.
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
  const redacted = redactUrl(options.url)
  let current: WebSocketProvider | undefined
  let stopped = false

  /** An error as it may be logged: the URL (possibly holding an API key) never verbatim. */
  const describe = (error: unknown) =>
    describeRpcError(
      error instanceof Error ? new Error(error.message.split(options.url).join(redacted)) : error,
    )

  /** A provider, or undefined when the URL is refused synchronously (e.g. a #fragment). */
  const open = (): WebSocketProvider | undefined => {
    try {
      return new WebSocketProvider(options.url, network, { staticNetwork: network })
    } catch (error) {
      options.logger.error(
        { ws: redacted, error: describe(error) },
        'new-head websocket URL refused; following this chain by HTTP polling only',
      )
      return undefined
    }
  }

  const connectOnce = (provider: WebSocketProvider) =>
    new Promise<void>((resolve) => {
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
      listen?.('error', (error: unknown) => closed(error instanceof Error ? describe(error) : 'error'))
      provider
        .on('block', (blockNumber: number) => options.onHead(blockNumber))
        .catch((error: unknown) => closed(describe(error)))
    })

  const loop = (async () => {
    for (let attempt = 1; !stopped && !options.signal.aborted; attempt++) {
      const started = Date.now()
      const provider = open()
      if (!provider) return
      await connectOnce(provider)
      if (Date.now() - started > 30_000) attempt = 1
      await sleep(backoffDelay(attempt, 1_000, 30_000), options.signal)
    }
  })().catch((error: unknown) => {
    // Never an unhandled rejection: that would end the process and every chain with it.
    options.logger.error(
      { ws: redacted, error: describe(error) },
      'new-head websocket given up; polling only',
    )
  })

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
