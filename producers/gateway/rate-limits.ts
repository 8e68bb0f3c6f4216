/**
 * Fixed-window request limits, in memory per instance: one by source address (counted
 * before authentication, so a flood of bad credentials is stopped without verifying them)
 * and one by caller (after it). Answers carry the IETF fields
 * (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "caller";q=600;w=60` names each
 * quota and its window in seconds, `RateLimit: "caller";r=599;t=42` what is left of it and
 * the seconds until the window resets.
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

export function createWindowLimiter(options: { policy: string; limit: number; windowMs: number }) {
  const { policy, limit, windowMs } = options
  let window = -1
  let counts = new Map<string, number>()
  return {
    hit(key: string, now = Date.now()): LimitDecision {
      const current = Math.floor(now / windowMs)
      if (current !== window) {
        window = current
        counts = new Map()
      }
      const counted = counts.has(key) || counts.size < MAX_KEYS_PER_WINDOW ? key : OVERFLOW_KEY
      const used = (counts.get(counted) ?? 0) + 1
      counts.set(counted, used)
      return {
        policy,
        allowed: used <= limit,
        limit,
        remaining: Math.max(0, limit - used),
        resetSeconds: Math.max(1, Math.ceil(((current + 1) * windowMs - now) / 1000)),
      }
    },
    /** The quota as a `RateLimit-Policy` list member. */
    policyField: `"${policy}";q=${limit};w=${Math.max(1, Math.round(windowMs / 1000))}`,
  }
}

/** The `RateLimit` list member of one decision. */
export const rateLimitField = (decision: LimitDecision) =>
  `"${decision.policy}";r=${decision.remaining};t=${decision.resetSeconds}`
