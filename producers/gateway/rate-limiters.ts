import type { Common } from '../../core/context.ts'
import type { Pool } from '../../core/db/pool.ts'
import { describeError } from '../../core/errors.ts'
import { createWindowLimiter, type RateLimiter } from './rate-limits.ts'
import { createSharedRateLimits } from './shared-rate-limits.ts'

/** Expired windows are a few rows per key and minute: deleting them twice a minute keeps up. */
const PRUNE_INTERVAL_MS = 30_000

export interface RateLimiters {
  /** Per source address, before authentication. */
  readonly source: RateLimiter
  /** Per caller, after it. */
  readonly caller: RateLimiter
  /** Stops the background pruning. */
  close(): void
}

/**
 * The gateway's two limits in the configured store (`VERIDIS_GATEWAY_RATE_LIMIT_STORE`):
 * `postgres`, shared by every instance that publishes to the same command topic (`scope`), or
 * `memory`, per process.
 */
export function createRateLimiters(common: Common, options: { pool: Pool; scope: string }): RateLimiters {
  const config = common.config.gateway
  const source = { policy: 'source', limit: config.sourceRateLimit, windowMs: config.rateWindowMs }
  const caller = { policy: 'caller', limit: config.rateLimit, windowMs: config.rateWindowMs }
  if (config.rateLimitStore === 'memory') {
    return {
      source: createWindowLimiter(source),
      caller: createWindowLimiter(caller),
      close: () => undefined,
    }
  }
  const shared = createSharedRateLimits(options.pool, { scope: options.scope })
  const logger = common.logger.child({ component: 'rate-limits' })
  let pruning = false
  const prune = setInterval(async () => {
    // One round at a time: a slow database must not pile up deletes.
    if (pruning) return
    pruning = true
    try {
      const removed = await shared.prune()
      if (removed > 0) logger.debug({ removed }, 'deleted expired rate-limit windows')
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'deleting expired rate-limit windows failed; will retry')
    } finally {
      pruning = false
    }
  }, PRUNE_INTERVAL_MS)
  prune.unref()
  return {
    source: shared.limiter(source),
    caller: shared.limiter(caller),
    close: () => clearInterval(prune),
  }
}
