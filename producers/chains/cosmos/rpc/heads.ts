import type { Logger } from '../../../../core/logging/logger.ts'
import { watchHeadSubscription } from '../../common/head-subscription.ts'

/**
 * New-block notifications over CometBFT's websocket (`/websocket`, JSON-RPC `subscribe` to
 * `tm.event='NewBlock'`). They only wake the chain's loop early: the loop also polls over
 * HTTP, so a socket that drops or never connects costs latency, never events. A raw `ws`
 * client (common/head-subscription.ts): cosmjs 0.39's Comet38Client/Comet1Client
 * subscriptions delivered nothing against CometBFT 0.39 here, while the raw subscription got
 * one block a second (shared/chains-offline.md).
 */
export const NEW_BLOCK_QUERY = "tm.event='NewBlock'"

export function watchCometHeads(options: {
  url: string
  logger: Logger
  signal: AbortSignal
  onHead: () => void
}): { stop(): Promise<void> } {
  return watchHeadSubscription<{ result?: { query?: unknown } }>({
    ...options,
    requests: [{ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { query: NEW_BLOCK_QUERY } }],
    isHead: (message) => message.result?.query === NEW_BLOCK_QUERY,
    noun: 'new-block',
    // CometBFT puts the reason in `data`; its `message` is only "Internal error".
    refusal: (error) => error.data ?? error.message,
  })
}
