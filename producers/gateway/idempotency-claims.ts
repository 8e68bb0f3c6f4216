import type { Pool } from '../../core/db/pool.ts'
import { createStatementBatcher } from './statement-batcher.ts'

export interface ClaimRequest {
  readonly caller: string
  readonly clientKey: string
  readonly commandId: string
  readonly commandType: string
  readonly requestHash: string
  readonly issuedAt: number
}

export interface ClaimRow {
  command_id: string
  request_sha256: string
  issued_at: Date
  published_at: Date | null
  /** This request reserved the key. */
  fresh: boolean
  /** Reserved less than the in-progress window ago, by Postgres's clock. */
  in_progress: boolean
}

const pairKey = (caller: string, clientKey: string) => `${caller}\u0000${clientKey}`

/**
 * Idempotency-Key reservations in batches (issue 16 item 6): one INSERT … ON CONFLICT DO
 * NOTHING for every request waiting, one SELECT for the keys already taken, and one UPDATE
 * for every command Kafka acknowledged (after the answer) — instead of two statements per
 * request, each waiting for its own commit, which made the keys cost three quarters of the
 * throughput. Postgres still decides (unique on
 * caller + key): across instances and restarts a key names one command.
 */
export function createIdempotencyClaims(pool: Pool, options: { inProgressMs: number }) {
  const claim = createStatementBatcher<ClaimRequest, ClaimRow | undefined>(async (requests) => {
    // Within one batch the first request with a key competes; later ones see its row as taken.
    const firstIndex = new Map<string, number>()
    requests.forEach((request, index) => {
      const key = pairKey(request.caller, request.clientKey)
      if (!firstIndex.has(key)) firstIndex.set(key, index)
    })
    const competing = [...firstIndex.values()].map((index) => requests[index]!)
    const inserted = await pool.query<ClaimRow & { caller: string; idempotency_key: string }>(
      `INSERT INTO gateway_idempotency (caller, idempotency_key, command_id, command_type, request_sha256, issued_at)
       SELECT caller, idempotency_key, command_id, command_type, request_sha256, to_timestamp(issued_ms / 1000.0)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[])
         AS input (caller, idempotency_key, command_id, command_type, request_sha256, issued_ms)
       ON CONFLICT (caller, idempotency_key) DO NOTHING
       RETURNING caller, idempotency_key, command_id, request_sha256, issued_at, published_at,
                 true AS fresh, true AS in_progress`,
      [
        competing.map((request) => request.caller),
        competing.map((request) => request.clientKey),
        competing.map((request) => request.commandId),
        competing.map((request) => request.commandType),
        competing.map((request) => request.requestHash),
        competing.map((request) => request.issuedAt),
      ],
    )
    const won = new Map(inserted.rows.map((row) => [pairKey(row.caller, row.idempotency_key), row]))
    const results: (ClaimRow | undefined)[] = requests.map((request, index) => {
      const key = pairKey(request.caller, request.clientKey)
      return firstIndex.get(key) === index ? won.get(key) : undefined
    })
    const taken = requests.filter((_, index) => results[index] === undefined)
    if (taken.length > 0) {
      // A separate statement: it sees rows a concurrent winner committed after the insert began.
      const existing = await pool.query<ClaimRow & { caller: string; idempotency_key: string }>(
        `SELECT g.caller, g.idempotency_key, g.command_id, g.request_sha256, g.issued_at, g.published_at,
                false AS fresh, now() - g.created_at < make_interval(secs => $3 / 1000.0) AS in_progress
         FROM gateway_idempotency g
         JOIN unnest($1::text[], $2::text[]) AS wanted (caller, idempotency_key)
           ON g.caller = wanted.caller AND g.idempotency_key = wanted.idempotency_key`,
        [
          taken.map((request) => request.caller),
          taken.map((request) => request.clientKey),
          options.inProgressMs,
        ],
      )
      const rows = new Map(existing.rows.map((row) => [pairKey(row.caller, row.idempotency_key), row]))
      requests.forEach((request, index) => {
        if (results[index] === undefined)
          results[index] = rows.get(pairKey(request.caller, request.clientKey))
      })
    }
    // Undefined only when the row was pruned between the two statements.
    return results
  })

  // Not waited for by any request (the answer is already sent): one statement per batch.
  const markPublished = createStatementBatcher<{ caller: string; clientKey: string }, void>(async (keys) => {
    await pool.query(
      `UPDATE gateway_idempotency g SET published_at = now()
       FROM unnest($1::text[], $2::text[]) AS done (caller, idempotency_key)
       WHERE g.caller = done.caller AND g.idempotency_key = done.idempotency_key`,
      [keys.map((key) => key.caller), keys.map((key) => key.clientKey)],
    )
    return keys.map(() => undefined)
  })

  return {
    claim,
    markPublished,
    /** Waits for the reservations and records still queued or running. */
    settled: () => Promise.all([claim.settled(), markPublished.settled()]).then(() => undefined),
  }
}
