/**
 * The local pre-check of the shared rate limits: keys this process has seen reach their limit,
 * each until (at the latest) the end of its window. Within a window a count only grows, so once
 * Postgres answered "nothing left" every further request of that key in that window is refused
 * whatever the other instances do — answering it here is exact, costs no round trip, and keeps a
 * flood from one source or caller off the database (a flood is what the limit is for). Requests
 * below the limit are never decided here: only Postgres knows what the other instances counted.
 *
 * Times are the process's monotonic clock (`performance.now()`), as durations the database
 * measured on its own clock: neither clock is compared with the other.
 */
export function createExhaustedKeys(options: { maxKeys: number; now?: () => number }) {
  const now = options.now ?? (() => performance.now())
  /** Key → monotonic time its window ends by. */
  const until = new Map<string, number>()

  const sweep = (at: number) => {
    for (const [key, end] of until) if (end <= at) until.delete(key)
  }

  return {
    /** Milliseconds left of `key`'s exhausted window, or undefined when it is not known exhausted. */
    remainingMs(key: string): number | undefined {
      const end = until.get(key)
      if (end === undefined) return undefined
      const left = end - now()
      if (left > 0) return left
      until.delete(key)
      return undefined
    },
    /**
     * Remembers `key` as exhausted until `endsAt`. At most `maxKeys` at once: when full, expired
     * entries go first; if none has expired, the key is not remembered and its next request asks
     * Postgres — a flood of distinct keys costs queries, never unbounded memory.
     */
    exhausted(key: string, endsAt: number) {
      if (!until.has(key) && until.size >= options.maxKeys) {
        sweep(now())
        if (until.size >= options.maxKeys) return
      }
      until.set(key, endsAt)
    },
    /** Drops expired entries (called from the background pruning). */
    sweep: () => sweep(now()),
    get size() {
      return until.size
    },
  }
}
