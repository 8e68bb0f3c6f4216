-- Where each chain listener stands, written by the listener itself on every cursor move
-- and every RPC failure, read by the gateway's network endpoints and by operators. One row
-- per chain (CAIP-2), whatever the family (evm, starknet, cosmos, solana, polkadot).
CREATE TABLE chain_listener_state (
  chain text PRIMARY KEY,
  family text NOT NULL,
  -- Latest head the listener saw, and the last block whose events it has fully published.
  head_block bigint,
  cursor_block bigint,
  cursor_hash text,
  -- Highest block the chain's finality rule has made final, as the listener applies it.
  finalized_block bigint,
  -- The RPC endpoint in use, credentials redacted.
  active_rpc text,
  last_error text,
  last_error_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
