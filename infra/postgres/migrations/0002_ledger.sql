-- The chain-event ledger (consumers/ledger): every chain fact the listeners published,
-- with where it stands now. RETRACTED facts stay, marked, so downstream state can be
-- audited against what the chains said at the time.
CREATE TABLE chain_events (
  event_id text PRIMARY KEY,
  topic text NOT NULL,
  kind text NOT NULL,
  chain text NOT NULL,
  block_number bigint NOT NULL,
  block_hash text NOT NULL,
  tx_hash text NOT NULL,
  log_index integer NOT NULL,
  emitter text NOT NULL,
  finality text NOT NULL CHECK (finality IN ('PENDING', 'SAFE', 'FINALIZED', 'RETRACTED')),
  observed_at timestamptz NOT NULL,
  finality_changed_at timestamptz NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset text NOT NULL
);
CREATE INDEX chain_events_chain_block ON chain_events (chain, block_number);

-- Counters per chain, topic and finality. Incremented, not recomputed: they are only right
-- if every message is applied exactly once, which makes them the pipeline's own check.
CREATE TABLE chain_event_stats (
  chain text NOT NULL,
  topic text NOT NULL,
  finality text NOT NULL,
  events_total bigint NOT NULL,
  last_block_number bigint NOT NULL,
  last_observed_at timestamptz NOT NULL,
  PRIMARY KEY (chain, topic, finality)
);
