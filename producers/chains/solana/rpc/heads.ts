import type { Logger } from '../../../../core/logging/logger.ts'
import { watchHeadSubscription } from '../../common/head-subscription.ts'

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
  return watchHeadSubscription<{ method?: unknown }>({
    url: options.url,
    logger: options.logger,
    signal: options.signal,
    onHead: options.onHead,
    requests: options.addresses.map((address, index) => ({
      jsonrpc: '2.0',
      id: index + 1,
      method: 'logsSubscribe',
      params: [{ mentions: [address] }, { commitment: 'confirmed' }],
    })),
    isHead: (message) => message.method === 'logsNotification',
    noun: 'logs',
  })
}
