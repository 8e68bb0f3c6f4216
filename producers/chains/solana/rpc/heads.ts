import WebSocket from 'ws'
import { backoffDelay, sleep } from '../../../../core/bus/retry.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { redactUrl } from '../../common/redact.ts'

/**
 * Wake-ups over the node's websocket: `logsSubscribe` with `mentions` of each Veridis
 * authority (one address per subscription, the method's limit), at `confirmed` — the
 * commitment the listener reads blocks at, so a wake-up finds its block readable. They only
 * wake the chain's loop early: the loop also polls over HTTP, and the engine finds forks by
 * comparing hashes, so a socket that drops or never connects costs latency, never events.
 */
export function watchSolanaLogs(options: {
  url: string
  addresses: readonly string[]
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
        options.logger.error({ ws: redacted }, 'logs websocket URL refused; polling only')
        stopped = true
        resolve()
        return
      }
      current = socket
      socket.on('open', () => {
        options.addresses.forEach((address, index) => {
          socket.send(
            JSON.stringify({
              jsonrpc: '2.0',
              id: index + 1,
              method: 'logsSubscribe',
              params: [{ mentions: [address] }, { commitment: 'confirmed' }],
            }),
          )
        })
      })
      socket.on('message', (data) => {
        let message: { method?: unknown; error?: { message?: unknown } }
        try {
          message = JSON.parse(String(data))
        } catch {
          return
        }
        if (message.method === 'logsNotification') options.onHead()
        else if (message.error) {
          options.logger.warn(
            { ws: redacted, error: String(message.error.message ?? 'error') },
            'logs subscription refused; polling only',
          )
          socket.close()
        }
      })
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (!stopped)
          options.logger.warn({ ws: redacted, error: error.code ?? 'error' }, 'logs websocket error')
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
      'logs websocket given up; polling only',
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
