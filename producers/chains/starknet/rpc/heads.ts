import type { Logger } from '../../../../core/logging/logger.ts'
import { watchHeadSubscription } from '../../common/head-subscription.ts'

/**
 * New-head notifications over the node's websocket JSON-RPC (spec 0.10:
 * starknet_subscribeNewHeads → starknet_subscriptionNewHeads, and starknet_subscriptionReorg
 * when the node drops blocks). They only wake the chain's loop early: the loop also polls over
 * HTTP, and the engine finds reorgs by comparing hashes, so a socket that drops or never
 * connects costs latency, never events. A raw `ws` client (common/head-subscription.ts):
 * starknet.js's WebSocketChannel given the `ws` package queued its subscribe and never
 * connected in a try here (shared/chains-offline.md), and Node 20 has no global WebSocket.
 */
const NOTIFICATIONS = new Set(['starknet_subscriptionNewHeads', 'starknet_subscriptionReorg'])

export function watchStarknetHeads(options: {
  url: string
  logger: Logger
  signal: AbortSignal
  onHead: () => void
}): { stop(): Promise<void> } {
  return watchHeadSubscription<{ method?: unknown }>({
    ...options,
    requests: [{ jsonrpc: '2.0', id: 1, method: 'starknet_subscribeNewHeads', params: {} }],
    isHead: (message) => typeof message.method === 'string' && NOTIFICATIONS.has(message.method),
    noun: 'new-head',
  })
}
