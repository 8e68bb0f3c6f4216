import { createHash } from 'node:crypto'
import type { Pool } from '../../core/db/pool.ts'
import { HttpError } from './errors.ts'
import { createExhaustedKeys } from './exhausted-keys.ts'
import { withTimeout } from './kafka-health.ts'
import { decide, policyField, type RateLimiter } from './rate-limits.ts'
import { createStatementBatcher } from './statement-batcher.ts'

/** One request counted against one policy. `policy` is the stored policy id (see `limiter`). */
export interface Hit {
  readonly policy: string
  readonly key: string
  readonly windowMs: number
}

/** The hits of one batch on one (policy, key): one row of the statement. */
export interface HitGroup extends Hit {
  /** Indices of the batch's hits on this row, in the order they arrived. */
  readonly members: number[]
}

export interface Counted {
  /** This request's place in its window's count (1 = the first request of the window). */
  readonly used: number
  /** Milliseconds left of the window, by Postgres's clock when the statement ran. */
  readonly msLeft: number
}

/** The keys this process remembers as exhausted (exhausted-keys.ts), like the in-memory limiter's cap. */
const MAX_EXHAUSTED_KEYS = 100_000
/**
 * A batch Postgres has not answered in this time fails its requests with 503 rather than holding
 * them until the request timeout: a database that hangs (no reset, no answer) must not stall every
 * request of the gateway behind it. The statement may still run; its counts then only err high.
 */
const COUNT_TIMEOUT_MS = 5_000
/** Expired windows deleted per statement and statements per pruning round: bounded work. */
const PRUNE_BATCH = 5_000
const PRUNE_STATEMENTS = 20
/**
 * Rows are deleted this long after their window ended, so no statement that began inside the
 * window (statement_timeout is 20 s) can still be about to increment a row being deleted.
 */
const PRUNE_GRACE_SECONDS = 60
/**
 * Longer keys are stored as their hash: a btree entry must stay well under Postgres's ~2.7 kB
 * limit, and one oversized key would fail the whole batch it shares with other requests.
 */
const MAX_STORED_KEY = 200

const rowId = (policy: string, key: string) => `${policy}\u0000${key}`

const storedKey = (key: string) =>
  key.length <= MAX_STORED_KEY ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`

/**
 * The hits of a batch as one row per (policy, key) — ON CONFLICT DO UPDATE may touch a row only
 * once per statement — in one order shared by every statement of every instance: two concurrent
 * statements then lock the rows they share in the same order and cannot deadlock.
 */
export function groupHits(hits: readonly Hit[]): HitGroup[] {
  const groups = new Map<string, HitGroup>()
  hits.forEach((hit, index) => {
    const id = rowId(hit.policy, hit.key)
    const group = groups.get(id)
    if (group) group.members.push(index)
    else groups.set(id, { policy: hit.policy, key: hit.key, windowMs: hit.windowMs, members: [index] })
  })
  return [...groups.values()].sort((a, b) =>
    a.policy === b.policy ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.policy < b.policy ? -1 : 1,
  )
}

/**
 * Each hit's place in its window from its row's count after the statement: the row grew by the
 * group's size, so its hits took the last places, in the order they arrived.
 */
export function spreadCounts(
  hitCount: number,
  groups: readonly HitGroup[],
  rows: readonly { policy: string; key: string; count: number; ms_left: number }[],
): Counted[] {
  const byRow = new Map(rows.map((row) => [rowId(row.policy, row.key), row]))
  const counted: Counted[] = new Array(hitCount)
  for (const group of groups) {
    const row = byRow.get(rowId(group.policy, group.key))
    if (!row)
      throw new Error(`rate-limit count for policy ${group.policy} missing from the statement's result`)
    const first = row.count - group.members.length + 1
    group.members.forEach((index, place) => {
      counted[index] = { used: first + place, msLeft: row.ms_left }
    })
  }
  return counted
}

const rateLimitStoreUnavailable = (cause: unknown) =>
  new HttpError(
    503,
    'dependency_unavailable',
    'the rate-limit store (PostgreSQL) is unavailable; retry later',
    { cause, retryAfterSeconds: 1 },
  )

/**
 * Fixed-window limits counted in Postgres, shared by every gateway instance of a deployment.
 * Each request's count is one row of a batched `INSERT … ON CONFLICT DO UPDATE SET count =
 * count + n RETURNING count` (statement-batcher.ts): a burst costs a few statements, not one
 * each. The window is `date_bin` of Postgres's `now()`, so instances agree on it whatever their
 * clocks say.
 *
 * Postgres unreachable: requests are refused with 503 (fail closed), as keyed commands are when
 * their idempotency cannot be checked — and /ready is already 503 without the database, so a
 * balancer sends the traffic to instances that can count it. Failing open would lift every
 * limit exactly when an instance is degraded; a local fallback would multiply it by the number
 * of instances. Keys known exhausted are still refused with 429 from memory.
 */
export function createSharedRateLimits(
  pool: Pool,
  options: { scope: string; now?: () => number; maxExhaustedKeys?: number },
) {
  const now = options.now ?? (() => performance.now())
  const exhausted = createExhaustedKeys({ maxKeys: options.maxExhaustedKeys ?? MAX_EXHAUSTED_KEYS, now })

  const count = createStatementBatcher<Hit, Counted & { sentAt: number }>(async (hits) => {
    const groups = groupHits(hits)
    // Before the statement: the window cannot end before sentAt + msLeft, so a key remembered
    // as exhausted until then is never refused locally after its window has ended.
    const sentAt = now()
    const { rows } = await withTimeout(
      pool.query<{ policy: string; key: string; count: number; ms_left: number }>(
        `INSERT INTO gateway_rate_limits AS r (policy, key, window_start, expires_at, count)
         SELECT input.policy, input.key, w.start, w.start + w.length, input.hits
         FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) WITH ORDINALITY
           AS input (policy, key, window_ms, hits, position)
         CROSS JOIN LATERAL (
           SELECT date_bin(make_interval(secs => input.window_ms / 1000.0), now(), TIMESTAMPTZ 'epoch') AS start,
                  make_interval(secs => input.window_ms / 1000.0) AS length
         ) AS w
         ORDER BY input.position
         ON CONFLICT (policy, key, window_start) DO UPDATE SET count = r.count + EXCLUDED.count
         RETURNING r.policy, r.key, r.count, (extract(epoch FROM r.expires_at - now()) * 1000)::float8 AS ms_left`,
        [
          groups.map((group) => group.policy),
          groups.map((group) => group.key),
          groups.map((group) => group.windowMs),
          groups.map((group) => group.members.length),
        ],
      ),
      COUNT_TIMEOUT_MS,
      'rate-limit count',
    )
    return spreadCounts(hits.length, groups, rows).map((counted) => ({ ...counted, sentAt }))
  })

  return {
    /**
     * One policy. Its stored id holds the deployment's scope (the command topic), the policy's
     * name, quota and window: instances configured alike share one count; during a rolling change
     * of the limit, old and new instances count apart for the windows the change takes, instead
     * of one judging a count against a quota it was not made under.
     */
    limiter(policy: { policy: string; limit: number; windowMs: number }): RateLimiter {
      const { limit, windowMs } = policy
      const id = `${options.scope}|${policy.policy};q=${limit};w=${windowMs}`
      return {
        policyField: policyField(policy),
        async hit(key: string) {
          const stored = storedKey(key)
          const local = exhausted.remainingMs(rowId(id, stored))
          if (local !== undefined) return decide(policy.policy, limit, limit + 1, local)
          let counted: Counted & { sentAt: number }
          try {
            counted = await count({ policy: id, key: stored, windowMs })
          } catch (error) {
            throw rateLimitStoreUnavailable(error)
          }
          if (counted.used >= limit) exhausted.exhausted(rowId(id, stored), counted.sentAt + counted.msLeft)
          return decide(policy.policy, limit, counted.used, counted.msLeft)
        },
      }
    },
    /**
     * Deletes expired windows of every deployment in bounded statements (SKIP LOCKED: instances
     * pruning at once share the work instead of waiting for each other); returns how many.
     */
    async prune(): Promise<number> {
      exhausted.sweep()
      let removed = 0
      for (let statement = 0; statement < PRUNE_STATEMENTS; statement++) {
        const { rowCount } = await pool.query(
          `DELETE FROM gateway_rate_limits WHERE ctid = ANY (ARRAY(
             SELECT ctid FROM gateway_rate_limits
             WHERE expires_at < now() - make_interval(secs => $2)
             LIMIT $1 FOR UPDATE SKIP LOCKED))`,
          [PRUNE_BATCH, PRUNE_GRACE_SECONDS],
        )
        removed += rowCount ?? 0
        if ((rowCount ?? 0) < PRUNE_BATCH) break
      }
      return removed
    },
  }
}
