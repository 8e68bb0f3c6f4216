import type { ChainFamily } from '../../../../core/chains.ts'
import { jsonRows } from '../../../../core/db/json-rows.ts'
import type { Pool } from '../../../../core/db/pool.ts'
import { inTransaction } from '../../../../core/db/pool.ts'
import type { ChainEvent } from '../publisher.ts'
import type { BlockRef } from '../source.ts'

/**
 * The listener engine's durable state in Postgres (migrations 0004, 0010), the same tables
 * for every family: the cursor, the hashes of the published blocks that are not final yet,
 * and the events published from them. Every
 * change of position is one transaction, written only after Kafka acknowledged the events
 * it covers: a crash in between repeats those events (same ids) and never skips one.
 */
export interface Cursor {
  readonly cursorBlock: number
  readonly cursorHash: string | null
  readonly finalizedBlock: number
  readonly finalizedHash: string | null
}

export interface StoredBlock {
  readonly number: number
  readonly hash: string
  readonly parentHash: string
}

const PENDING_EVENT_ROWS = jsonRows({
  block_number: 'bigint',
  event_id: 'text',
  log_order: 'bigint',
  event: 'jsonb',
})

export function createCursorStore(pool: Pool, listener: string) {
  return {
    listener,

    async cursor(chain: string): Promise<Cursor | undefined> {
      const { rows } = await pool.query<{
        cursor_block: string
        cursor_hash: string | null
        finalized_block: string
        finalized_hash: string | null
      }>(
        'SELECT cursor_block, cursor_hash, finalized_block, finalized_hash FROM chain_listener_cursor WHERE listener = $1 AND chain = $2',
        [listener, chain],
      )
      const row = rows[0]
      if (!row) return undefined
      return {
        cursorBlock: Number(row.cursor_block),
        cursorHash: row.cursor_hash,
        finalizedBlock: Number(row.finalized_block),
        finalizedHash: row.finalized_hash,
      }
    },

    /** Published blocks above the finalized one, highest first. */
    async unfinalizedBlocks(chain: string): Promise<StoredBlock[]> {
      const { rows } = await pool.query<{ block_number: string; block_hash: string; parent_hash: string }>(
        `SELECT block_number, block_hash, parent_hash FROM chain_listener_blocks
         WHERE listener = $1 AND chain = $2 ORDER BY block_number DESC`,
        [listener, chain],
      )
      return rows.map((row) => ({
        number: Number(row.block_number),
        hash: row.block_hash,
        parentHash: row.parent_hash,
      }))
    },

    /** Events published from blocks in (after, upTo], in chain order. */
    async eventsBetween(chain: string, after: number, upTo: number): Promise<ChainEvent[]> {
      const { rows } = await pool.query<{ event: ChainEvent }>(
        `SELECT event FROM chain_listener_events
         WHERE listener = $1 AND chain = $2 AND block_number > $3 AND block_number <= $4
         ORDER BY block_number, log_order`,
        [listener, chain, after, upTo],
      )
      return rows.map((row) => row.event)
    },

    /**
     * Records a published range: the new cursor, and for blocks that are not final yet their
     * headers and events; a range published FINALIZED moves the finalized mark with it.
     */
    async advance(
      chain: string,
      family: ChainFamily,
      update: {
        cursor: { block: number; hash: string }
        finalized: { block: number; hash: string | null }
        pendingBlocks: readonly BlockRef[]
        pendingEvents: readonly ChainEvent[]
      },
    ) {
      await inTransaction(pool, async (client) => {
        await upsertCursor(client, listener, chain, family, update.cursor, update.finalized)
        if (update.pendingBlocks.length > 0) {
          await client.query(
            `INSERT INTO chain_listener_blocks (listener, chain, block_number, block_hash, parent_hash)
             SELECT $1, $2, * FROM unnest($3::bigint[], $4::text[], $5::text[])
             ON CONFLICT (listener, chain, block_number) DO UPDATE
               SET block_hash = EXCLUDED.block_hash, parent_hash = EXCLUDED.parent_hash`,
            [
              listener,
              chain,
              update.pendingBlocks.map((block) => block.number),
              update.pendingBlocks.map((block) => block.hash),
              update.pendingBlocks.map((block) => block.parentHash),
            ],
          )
        }
        if (update.pendingEvents.length > 0) {
          await client.query(
            `INSERT INTO chain_listener_events (listener, chain, block_number, event_id, log_order, event)
             SELECT $1, $2, e.block_number, e.event_id, e.log_order, e.event
             FROM ${PENDING_EVENT_ROWS.from('$3')} AS e
             ON CONFLICT (listener, chain, event_id) DO NOTHING`,
            [
              listener,
              chain,
              PENDING_EVENT_ROWS.param(
                update.pendingEvents.map((event) => ({
                  block_number: event.value.envelope.blockNumber,
                  event_id: event.value.envelope.eventId,
                  log_order: event.value.envelope.logIndex,
                  event,
                })),
              ),
            ],
          )
        }
      })
    },

    /** Blocks up to `block` are final and their FINALIZED events published: forget them. */
    async finalize(chain: string, block: number, hash: string) {
      await inTransaction(pool, async (client) => {
        await client.query(
          'DELETE FROM chain_listener_events WHERE listener = $1 AND chain = $2 AND block_number <= $3',
          [listener, chain, block],
        )
        await client.query(
          'DELETE FROM chain_listener_blocks WHERE listener = $1 AND chain = $2 AND block_number <= $3',
          [listener, chain, block],
        )
        await client.query(
          `UPDATE chain_listener_cursor SET finalized_block = $3, finalized_hash = $4, updated_at = now()
           WHERE listener = $1 AND chain = $2`,
          [listener, chain, block, hash],
        )
      })
    },

    /** Blocks above `forkBlock` left the chain and their RETRACTED events are published: rewind. */
    async rewind(chain: string, forkBlock: number, forkHash: string | null) {
      await inTransaction(pool, async (client) => {
        await client.query(
          'DELETE FROM chain_listener_events WHERE listener = $1 AND chain = $2 AND block_number > $3',
          [listener, chain, forkBlock],
        )
        await client.query(
          'DELETE FROM chain_listener_blocks WHERE listener = $1 AND chain = $2 AND block_number > $3',
          [listener, chain, forkBlock],
        )
        await client.query(
          `UPDATE chain_listener_cursor SET cursor_block = $3, cursor_hash = $4, updated_at = now()
           WHERE listener = $1 AND chain = $2`,
          [listener, chain, forkBlock, forkHash],
        )
      })
    },

    /** Forgets everything of this listener (tests). */
    async clear(chain: string) {
      for (const table of ['chain_listener_events', 'chain_listener_blocks', 'chain_listener_cursor']) {
        await pool.query(`DELETE FROM ${table} WHERE listener = $1 AND chain = $2`, [listener, chain])
      }
    },
  }
}

async function upsertCursor(
  client: { query: Pool['query'] },
  listener: string,
  chain: string,
  family: ChainFamily,
  cursor: { block: number; hash: string },
  finalized: { block: number; hash: string | null },
) {
  await client.query(
    `INSERT INTO chain_listener_cursor (listener, chain, family, cursor_block, cursor_hash, finalized_block, finalized_hash)
     VALUES ($1, $2, $7, $3, $4, $5, $6)
     ON CONFLICT (listener, chain) DO UPDATE SET cursor_block = EXCLUDED.cursor_block,
       cursor_hash = EXCLUDED.cursor_hash, finalized_block = EXCLUDED.finalized_block,
       finalized_hash = EXCLUDED.finalized_hash, updated_at = now()`,
    [listener, chain, cursor.block, cursor.hash, finalized.block, finalized.hash, family],
  )
}

export type CursorStore = ReturnType<typeof createCursorStore>
