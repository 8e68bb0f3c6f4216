-- The listener engine is shared by every chain family (producers/chains/common): its tables
-- lose the evm_ prefix and the cursor records which family a chain belongs to. Renamed in
-- place, so a running installation keeps its cursors and resumes from the same blocks.
ALTER TABLE evm_listener_cursor RENAME TO chain_listener_cursor;
ALTER TABLE chain_listener_cursor RENAME CONSTRAINT evm_listener_cursor_pkey TO chain_listener_cursor_pkey;
-- Every cursor written before this migration was an EVM chain's.
ALTER TABLE chain_listener_cursor ADD COLUMN family text NOT NULL DEFAULT 'evm';
ALTER TABLE chain_listener_cursor ALTER COLUMN family DROP DEFAULT;

ALTER TABLE evm_listener_blocks RENAME TO chain_listener_blocks;
ALTER TABLE chain_listener_blocks RENAME CONSTRAINT evm_listener_blocks_pkey TO chain_listener_blocks_pkey;

ALTER TABLE evm_listener_events RENAME TO chain_listener_events;
ALTER TABLE chain_listener_events RENAME CONSTRAINT evm_listener_events_pkey TO chain_listener_events_pkey;
ALTER INDEX evm_listener_events_block RENAME TO chain_listener_events_block;
