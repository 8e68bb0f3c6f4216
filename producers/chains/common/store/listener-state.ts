import type { ChainFamily } from '../../../../core/chains.ts'
import type { Pool } from '../../../../core/db/pool.ts'

/**
 * The shared `chain_listener_state` row of a chain (migration 0003): where the listener
 * stands, for the gateway's network endpoints and for operators. Written after every step
 * and every failure; the RPC URL is already redacted by the caller.
 */
export function createListenerStateWriter(pool: Pool) {
  return {
    async progress(
      chain: string,
      family: ChainFamily,
      state: {
        head: number
        cursorBlock: number
        cursorHash: string | null
        finalizedBlock: number
        activeRpc: string
      },
    ) {
      await pool.query(
        `INSERT INTO chain_listener_state AS s (chain, family, head_block, cursor_block, cursor_hash, finalized_block, active_rpc, updated_at)
         VALUES ($1, $7, $2, $3, $4, $5, $6, now())
         ON CONFLICT (chain) DO UPDATE SET family = EXCLUDED.family, head_block = EXCLUDED.head_block,
           cursor_block = EXCLUDED.cursor_block, cursor_hash = EXCLUDED.cursor_hash,
           finalized_block = EXCLUDED.finalized_block, active_rpc = EXCLUDED.active_rpc, updated_at = now()`,
        [
          chain,
          state.head,
          state.cursorBlock,
          state.cursorHash,
          state.finalizedBlock,
          state.activeRpc,
          family,
        ],
      )
    },

    async error(chain: string, family: ChainFamily, message: string, activeRpc: string | null) {
      await pool.query(
        `INSERT INTO chain_listener_state AS s (chain, family, active_rpc, last_error, last_error_at, updated_at)
         VALUES ($1, $4, $2, $3, now(), now())
         ON CONFLICT (chain) DO UPDATE SET active_rpc = COALESCE(EXCLUDED.active_rpc, s.active_rpc),
           last_error = EXCLUDED.last_error, last_error_at = now(), updated_at = now()`,
        [chain, activeRpc, message.slice(0, 2_000), family],
      )
    },
  }
}

export type ListenerStateWriter = ReturnType<typeof createListenerStateWriter>
