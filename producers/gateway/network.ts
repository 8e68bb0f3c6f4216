import type { Pool } from '../../core/db/pool.ts'

/**
 * The network endpoints answer from `chain_listener_state`, which each chain listener
 * keeps current on every cursor move and RPC failure: nothing here is estimated.
 */
interface ListenerRow {
  chain: string
  family: string
  head_block: number | null
  cursor_block: number | null
  finalized_block: number | null
  last_error: string | null
  last_error_at: Date | null
  updated_at: Date
}

export type ChainHealthStatus = 'ok' | 'error' | 'stale'

export function chainHealth(row: ListenerRow, staleMs: number, now = Date.now()) {
  const ageMs = now - row.updated_at.getTime()
  const recentError = row.last_error_at !== null && now - row.last_error_at.getTime() < staleMs
  const status: ChainHealthStatus = ageMs > staleMs ? 'stale' : recentError ? 'error' : 'ok'
  return {
    chain: row.chain,
    family: row.family,
    status,
    headBlock: row.head_block,
    cursorBlock: row.cursor_block,
    finalizedBlock: row.finalized_block,
    lagBlocks:
      row.head_block !== null && row.cursor_block !== null ? row.head_block - row.cursor_block : null,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at?.toISOString() ?? null,
    updatedAt: row.updated_at.toISOString(),
    secondsSinceUpdate: Math.round(ageMs / 1000),
    ...(status === 'stale'
      ? {
          note: `no update from the listener for ${Math.round(ageMs / 1000)} s (limit ${Math.round(staleMs / 1000)} s): the listener is stopped or stuck, or the chain made no blocks`,
        }
      : {}),
  }
}

const COLUMNS =
  'chain, family, head_block, cursor_block, finalized_block, last_error, last_error_at, updated_at'

export async function networkStatus(
  pool: Pool,
  options: { staleMs: number; configuredChains: readonly string[] },
) {
  const { rows } = await pool.query<ListenerRow>(`SELECT ${COLUMNS} FROM chain_listener_state ORDER BY chain`)
  const chains = rows.map((row) => chainHealth(row, options.staleMs))
  const reported = new Set(rows.map((row) => row.chain))
  const silent = options.configuredChains.filter((chain) => !reported.has(chain))
  const healthy = chains.filter((chain) => chain.status === 'ok').length
  return {
    status: chains.length > 0 && healthy === chains.length && silent.length === 0 ? 'ok' : 'degraded',
    chains,
    // Configured for this pipeline, but no listener has ever reported for them.
    unreported: silent,
    checkedAt: new Date().toISOString(),
  }
}

export async function chainStatus(pool: Pool, chain: string, staleMs: number) {
  const { rows } = await pool.query<ListenerRow>(
    `SELECT ${COLUMNS} FROM chain_listener_state WHERE chain = $1`,
    [chain],
  )
  return rows[0] ? chainHealth(rows[0], staleMs) : undefined
}
