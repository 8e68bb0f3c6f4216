import WebSocket from 'ws'
import { backoffDelay, sleep } from '../../../core/bus/retry.ts'
import type { Logger } from '../../../core/logging/logger.ts'
import { redactUrl } from './redact.ts'

/**
 * A websocket JSON-RPC subscription kept open only to learn of new heads early: the
 * StarkNet, Cosmos (CometBFT) and Solana families share it (EVM goes through ethers'
 * WebSocketProvider instead). A head only wakes the chain's loop: the loop also polls over
 * HTTP and the engine finds forks by comparing hashes, so a socket that drops, is refused or
 * never connects costs latency, never events — which is why every failure here is logged and
 * retried with backoff, or given up to polling, but never thrown.
 *
 * What differs by family stays in the family's rpc/heads.ts: the subscribe requests and which
 * messages are heads. A raw `ws` client, since Node 20 has no global WebSocket.
 */

/** A JSON-RPC error object in a message, as a subscription refusal carries it. */
interface SubscriptionError {
  readonly message?: unknown
  readonly data?: unknown
}

interface HeadSubscriptionOptions<Message extends object> {
  /** Connected to verbatim, logged only as redactUrl shows it: URLs can hold API keys. */
  readonly url: string
  readonly logger: Logger
  readonly signal: AbortSignal
  readonly onHead: () => void
  /** Sent, each as one JSON text, every time a socket opens. */
  readonly requests: readonly unknown[]
  /** Whether a parsed message is a head notification (anything else but an error is ignored). */
  readonly isHead: (message: Message) => boolean
  /** Names the subscription in log messages: `<noun> websocket error` and the like. */
  readonly noun: string
  /** What of a refusal's error is logged; its message unless the family knows better. */
  readonly refusal?: (error: SubscriptionError) => unknown
}

export function watchHeadSubscription<Message extends object>(
  options: HeadSubscriptionOptions<Message>,
): { stop(): Promise<void> } {
  const { logger, signal, noun } = options
  const redacted = redactUrl(options.url)
  const refusal = options.refusal ?? ((error: SubscriptionError) => error.message)
  let current: WebSocket | undefined
  let stopped = false

  const connectOnce = () =>
    new Promise<void>((resolve) => {
      let socket: WebSocket
      try {
        socket = new WebSocket(options.url, { handshakeTimeout: 10_000 })
      } catch {
        // A URL refused outright (e.g. a #fragment) would be refused again on every retry.
        logger.error({ ws: redacted }, `${noun} websocket URL refused; polling only`)
        stopped = true
        resolve()
        return
      }
      current = socket
      socket.on('open', () => {
        for (const request of options.requests) socket.send(JSON.stringify(request))
      })
      socket.on('message', (data) => {
        let message: Message & { error?: SubscriptionError }
        try {
          message = JSON.parse(String(data))
        } catch {
          return
        }
        if (options.isHead(message)) options.onHead()
        else if (message.error) {
          // Closing retries the subscription after the backoff, on a fresh socket.
          logger.warn(
            { ws: redacted, error: String(refusal(message.error) ?? 'error') },
            `${noun} subscription refused; polling only`,
          )
          socket.close()
        }
      })
      // Only the code of ws's errors is logged: their messages may quote the URL.
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (!stopped) logger.warn({ ws: redacted, error: error.code ?? 'error' }, `${noun} websocket error`)
      })
      socket.on('close', () => {
        if (current === socket) current = undefined
        resolve()
      })
    })

  const loop = (async () => {
    for (let attempt = 1; !stopped && !signal.aborted; attempt++) {
      const started = Date.now()
      await connectOnce()
      if (stopped || signal.aborted) return
      // A connection that lasted is a fresh start, not one more failure in a row.
      if (Date.now() - started > 30_000) attempt = 1
      await sleep(backoffDelay(attempt, 1_000, 30_000), signal)
    }
  })().catch((error: unknown) => {
    // Never an unhandled rejection: that would end the process and every chain with it.
    logger.error(
      { ws: redacted, error: error instanceof Error ? error.name : 'error' },
      `${noun} websocket given up; polling only`,
    )
  })
  const onAbort = () => current?.terminate()
  signal.addEventListener('abort', onAbort, { once: true })

  return {
    async stop() {
      stopped = true
      signal.removeEventListener('abort', onAbort)
      current?.terminate()
      // Bounded: a socket that ignores terminate must not hold up the process's shutdown.
      await Promise.race([loop, sleep(1_000)])
    },
  }
}
