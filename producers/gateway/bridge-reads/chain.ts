import type { Pool } from '../../../core/db/pool.ts'
import { openFindingsOn } from './findings.ts'

/**
 * What the network health endpoint adds about one chain: the listeners' durable cursors
 * (chain_listener_cursor, one per listener namespace), the last bridge event seen on it — by
 * the ledger (chain_events, the bridge topic) or by the guard (its lock and release rows) —
 * and how many of the guard's findings about it still stand.
 */
export async function chainBridgeActivity(pool: Pool, chain: string, bridgeTopic: string) {
  const [cursors, last, openFindings] = await Promise.all([
    pool.query<{
      listener: string
      family: string
      cursor_block: number
      finalized_block: number
      updated_at: Date
    }>(
      `SELECT listener, family, cursor_block, finalized_block, updated_at FROM chain_listener_cursor
       WHERE chain = $1 ORDER BY listener`,
      [chain],
    ),
    pool.query<{ event_id: string; kind: string; block_number: number; tx_hash: string; observed_at: Date }>(
      `SELECT * FROM (
         (SELECT event_id, kind, block_number, tx_hash, observed_at FROM chain_events
          WHERE chain = $1 AND topic = $2 AND finality <> 'RETRACTED' ORDER BY block_number DESC, log_index DESC LIMIT 1)
         UNION ALL
         (SELECT event_id, 'BridgeLocked', block_number, tx_hash, observed_at FROM bridge_locks
          WHERE chain = $1 ORDER BY block_number DESC LIMIT 1)
         UNION ALL
         (SELECT event_id, 'BridgeReleased', block_number, tx_hash, observed_at FROM bridge_releases
          WHERE chain = $1 ORDER BY block_number DESC LIMIT 1)
       ) AS latest ORDER BY block_number DESC, observed_at DESC LIMIT 1`,
      [chain, bridgeTopic],
    ),
    openFindingsOn(pool, chain),
  ])
  const event = last.rows[0]
  return {
    cursors: cursors.rows.map((row) => ({
      listener: row.listener,
      family: row.family,
      cursorBlock: row.cursor_block,
      finalizedBlock: row.finalized_block,
      updatedAt: row.updated_at.toISOString(),
    })),
    bridge: {
      lastEvent: event
        ? {
            eventId: event.event_id,
            kind: event.kind,
            blockNumber: event.block_number,
            txHash: event.tx_hash,
            observedAt: event.observed_at.toISOString(),
          }
        : null,
      openFindings,
    },
  }
}
