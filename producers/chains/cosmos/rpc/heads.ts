import WebSocket from 'ws'
import { backoffDelay, sleep } from '../../../../core/bus/retry.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { redactUrl } from '../../common/redact.ts'

/**
 * New-block notifications over CometBFT's websocket (`/websocket`, JSON-RPC `subscribe` to
 * `tm.event='NewBlock'`). They only wake the chain's loop early: the loop also polls over
 * HTTP, so a socket that drops or never connects costs latency, never events. A raw `ws`
 * client: cosmjs 0.39's Comet38Client/Comet1Client subscriptions delivered nothing against
 * CometBFT 0.39 here, while the raw subscription got one block a second
 * (shared/chains-offline.md).
 */
export const NEW_BLOCK_QUERY = "tm.event='NewBlock'"

export function watchCometHeads(options: {
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
        options.logger.error({ ws: redacted }, 'new-block websocket URL refused; polling only')
        stopped = true
        resolve()
        return
      }
      current = socket
      socket.on('open', () => {
        socket.send(
          JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { query: NEW_BLOCK_QUERY } }),
        )
      })
      socket.on('message', (data) => {
        let message: { result?: { query?: unknown }; error?: { message?: unknown; data?: unknown } }
        try {
          message = JSON.parse(String(data))
        } catch {
          return
        }
        if (message.result?.query === NEW_BLOCK_QUERY) options.onHead()
        else if (message.error) {
          options.logger.warn(
            { ws: redacted, error: String(message.error.data ?? message.error.message ?? 'error') },
            'new-block subscription refused; polling only',
          )
          socket.close()
        }
      })
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (!stopped)
          options.logger.warn({ ws: redacted, error: error.code ?? 'error' }, 'new-block websocket error')
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
      'new-block websocket given up; polling only',
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
