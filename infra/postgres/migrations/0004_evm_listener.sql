-- The EVM listener's durable position, per listener (the namespace, 'default' in production)
-- and chain. A restart resumes after cursor_block and never skips a block.
CREATE TABLE evm_listener_cursor (
  listener text NOT NULL,
  chain text NOT NULL,
  -- Last block whose events are all published (PENDING or FINALIZED), with its hash.
  cursor_block bigint NOT NULL,
  cursor_hash text,
  -- Last block whose events are published FINALIZED; never reorganised away.
  finalized_block bigint NOT NULL,
  finalized_hash text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (listener, chain)
);

-- Published blocks above finalized_block: the chain of hashes reorgs are detected against.
CREATE TABLE evm_listener_blocks (
  listener text NOT NULL,
  chain text NOT NULL,
  block_number bigint NOT NULL,
  block_hash text NOT NULL,
  parent_hash text NOT NULL,
  PRIMARY KEY (listener, chain, block_number)
);

-- Events published PENDING from those blocks, as published, so they can be republished
-- FINALIZED or RETRACTED even when the node no longer serves an orphaned block.
CREATE TABLE evm_listener_events (
  listener text NOT NULL,
  chain text NOT NULL,
  block_number bigint NOT NULL,
  event_id text NOT NULL,
  log_order bigint NOT NULL,
  event jsonb NOT NULL,
  PRIMARY KEY (listener, chain, event_id)
);
CREATE INDEX evm_listener_events_block ON evm_listener_events (listener, chain, block_number);
