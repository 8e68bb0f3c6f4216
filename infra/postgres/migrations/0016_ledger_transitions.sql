-- The ledger no longer records message ids (bus_processed_messages) to apply each message once:
-- a fact's finality only moves forward, so a message applied again changes nothing, and the
-- counters in chain_event_stats count the transitions the ledger's statement made
-- (consumers/ledger/project.ts). `previous_finality` is the finality a fact had before its latest
-- change (NULL until it first changes), set by the same row update that moves `finality`: the
-- statement's RETURNING sees the state it moved the row from, even when another transaction
-- changed the row after the statement's snapshot.
ALTER TABLE chain_events ADD COLUMN previous_finality text
  CHECK (previous_finality IN ('PENDING', 'SAFE', 'FINALIZED', 'RETRACTED'));
