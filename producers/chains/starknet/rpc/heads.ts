import WebSocket from 'ws'
import { backoffDelay, sleep } from '../../../../core/bus/retry.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { redactUrl } from '../../common/redact.ts'

/**
 * New-head notifications over the node's websocket JSON-RPC (spec 0.10:
 * starknet_subscribeNewHeads → starknet_subscriptionNewHeads, and starknet_subscriptionReorg
 * when the node drops blocks). They only wake the chain's loop early: the loop also polls over
 * HTTP, and the engine finds reorgs by comparing hashes, so a socket that drops or never
 * connects costs latency, never events. A raw `ws` client: starknet.js's WebSocketChannel
 * given the `ws` package queued its subscribe and never connected in a try here
 * (shared/chains-offline.md), and Node 20 has no global WebSocket.
 */
const NOTIFICATIONS = new Set(['starknet_subscriptionNewHeads', 'starknet_subscriptionReorg'])

export function watchStarknetHeads(options: {
  url: string
  logger: Logger
  signal: AbortSignal
  onHead: () => void
}): { stop(): Promise<void> } {
  const redacted = redactUrl(options.url)
  let current: WebSocket | undefined
  let stopped = false

  const connectOnce = () =>
    new Promise<void>((resolve) => {
      let socket: WebSocket
      try {
        socket = new WebSocket(options.url, { handshakeTimeout: 10_000 })
      } catch {
        options.logger.error({ ws: redacted }, 'new-head websocket URL refused; polling only')
        stopped = true
        resolve()
        return
      }
      current = socket
      socket.on('open', () => {
        socket.send(
          JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'starknet_subscribeNewHeads', params: {} }),
        )
      })
      socket.on('message', (data) => {
        let message: { method?: unknown; error?: { message?: unknown } }
        try {
          message = JSON.parse(String(data))
        } catch {
          return
        }
        if (typeof message.method === 'string' && NOTIFICATIONS.has(message.method)) options.onHead()
        else if (message.error) {
          options.logger.warn(
            { ws: redacted, error: String(message.error.message ?? 'error') },
            'new-head subscription refused; polling only',
          )
          socket.close()
        }
      })
      // The message never quotes the URL in ws's errors we log: only its code.
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (!stopped)
          options.logger.warn({ ws: redacted, error: error.code ?? 'error' }, 'new-head websocket error')
      })
      socket.on('close', () => {
        if (current === socket) current = undefined
        resolve()
      })
    })

  const loop = (async () => {
    for (let attempt = 1; !stopped && !options.signal.aborted; attempt++) {
      const started = Date.now()
      await connectOnce()
      if (stopped || options.signal.aborted) return
      if (Date.now() - started > 30_000) attempt = 1
      await sleep(backoffDelay(attempt, 1_000, 30_000), options.signal)
    }
  })().catch((error: unknown) => {
    options.logger.error(
      { ws: redacted, error: error instanceof Error ? error.name : 'error' },
      'new-head websocket given up; polling only',
    )
  })
  const onAbort = () => current?.terminate()
  options.signal.addEventListener('abort', onAbort, { once: true })

  return {
    async stop() {
      stopped = true
      options.signal.removeEventListener('abort', onAbort)
      current?.terminate()
      await Promise.race([loop, sleep(1_000)])
    },
  }
}
