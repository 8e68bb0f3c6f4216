import type { IoVeridis } from '../../schemas/generated/veridis.command.v1.ts'
import type { AuditWriter } from './audit-facts.ts'

/** Distinct (status, actor, command type) counts kept per window; more share one entry. */
const MAX_ENTRIES = 10_000

interface Tally {
  readonly status: number
  readonly actor: IoVeridis.Actor
  readonly commandType: string
  readonly firstRequestId: string
  readonly firstReason: string
  readonly since: number
  count: number
}

/**
 * Refusals anyone can cause at will — 401 (no valid credentials) and 429 (over a limit) —
 * are counted per window and written as one audit fact per (status, actor, command type)
 * and window, action `command.refused.counted`, whose reason starts `count=N;`. One record
 * per request would let an unauthenticated flood write the audit trail at the flood's rate.
 * The fact carries the first refused request's id, to find its log lines.
 */
export function createRefusalTally(options: { audit: AuditWriter; windowMs: number }) {
  const { audit, windowMs } = options
  let tallies = new Map<string, Tally>()

  const flush = () => {
    const ended = tallies
    tallies = new Map()
    for (const tally of ended.values()) {
      audit.write({
        action: 'command.refused.counted',
        actor: tally.actor,
        status: tally.status,
        commandType: tally.commandType,
        commandId: null,
        idempotencyKey: null,
        reason: `count=${tally.count}; ${tally.count} request(s) answered ${tally.status} in the ${windowMs} ms from ${new Date(tally.since).toISOString()}; first: ${tally.firstReason}`,
        requestId: tally.firstRequestId,
      })
    }
  }
  const timer = setInterval(flush, windowMs)
  timer.unref()

  return {
    /** Whether this status is counted rather than written one by one. */
    counts: (status: number) => status === 401 || status === 429,
    add(refusal: {
      status: number
      actor: IoVeridis.Actor
      commandType: string
      requestId: string
      reason: string
    }) {
      const key = `${refusal.status}\u0000${refusal.actor.kind}\u0000${refusal.actor.id}\u0000${refusal.commandType}`
      const existing =
        tallies.get(key) ??
        (tallies.size >= MAX_ENTRIES ? tallies.get(`${refusal.status}\u0000overflow`) : undefined)
      if (existing) {
        existing.count += 1
        return
      }
      const overflowing = tallies.size >= MAX_ENTRIES
      tallies.set(overflowing ? `${refusal.status}\u0000overflow` : key, {
        status: refusal.status,
        actor: overflowing ? { kind: 'USER', id: 'anonymous' } : refusal.actor,
        commandType: refusal.commandType,
        firstRequestId: refusal.requestId,
        firstReason: refusal.reason,
        since: Date.now(),
        count: 1,
      })
    },
    /** Writes what is counted so far (shutdown). */
    close() {
      clearInterval(timer)
      flush()
    },
  }
}

export type RefusalTally = ReturnType<typeof createRefusalTally>
