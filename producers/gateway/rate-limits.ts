/**
 * Fixed-window request limits: one by source address (counted before authentication, so a
 * flood of bad credentials is stopped without verifying them) and one by caller (after it).
 * Counted in Postgres and shared by every instance (shared-rate-limits.ts), or in memory per
 * process (below; `VERIDIS_GATEWAY_RATE_LIMIT_STORE=memory`, for a single instance).
 * Answers carry the IETF fields (draft-ietf-httpapi-ratelimit-headers):
 * `RateLimit-Policy: "caller";q=600;w=60` names each quota and its window in seconds,
 * `RateLimit: "caller";r=599;t=42` what is left of it and the seconds until the window resets.
 */

/** Beyond this many keys in one window, further new keys share one count. */
const MAX_KEYS_PER_WINDOW = 100_000
const OVERFLOW_KEY = '\u0000overflow'

export interface LimitDecision {
  readonly policy: string
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  /** Seconds until the current window ends. */
  readonly resetSeconds: number
}

/** One policy, whichever store counts it. */
export interface RateLimiter {
  /** The quota as a `RateLimit-Policy` list member. */
  readonly policyField: string
  /** Counts one request of `key` and decides it. */
  hit(key: string): LimitDecision | Promise<LimitDecision>
}

export interface LimitPolicy {
  readonly policy: string
  readonly limit: number
  readonly windowMs: number
}

export const policyField = ({ policy, limit, windowMs }: LimitPolicy) =>
  `"${policy}";q=${limit};w=${Math.max(1, Math.round(windowMs / 1000))}`

/** The decision on the `used`-th request of a window with `msLeft` to run. */
export const decide = (policy: string, limit: number, used: number, msLeft: number): LimitDecision => ({
  policy,
  allowed: used <= limit,
  limit,
  remaining: Math.max(0, limit - used),
  resetSeconds: Math.max(1, Math.ceil(msLeft / 1000)),
})

export function createWindowLimiter(options: LimitPolicy & { maxKeys?: number }) {
  const { policy, limit, windowMs } = options
  const maxKeys = options.maxKeys ?? MAX_KEYS_PER_WINDOW
  let window = -1
  let counts = new Map<string, number>()
  return {
    hit(key: string, now = Date.now()): LimitDecision {
      const current = Math.floor(now / windowMs)
      if (current !== window) {
        window = current
        counts = new Map()
      }
      const counted = counts.has(key) || counts.size < maxKeys ? key : OVERFLOW_KEY
      const used = (counts.get(counted) ?? 0) + 1
      counts.set(counted, used)
      return decide(policy, limit, used, (current + 1) * windowMs - now)
    },
    policyField: policyField(options),
  }
}

/** The `RateLimit` list member of one decision. */
export const rateLimitField = (decision: LimitDecision) =>
  `"${decision.policy}";r=${decision.remaining};t=${decision.resetSeconds}`
