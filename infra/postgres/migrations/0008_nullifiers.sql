-- The nullifier consumer (consumers/nullifiers, docs/nullifiers.md).

-- Every nullifier use any chain published, one row per chain fact (event id). `arrival` is
-- the Kafka offset the fact was first seen at: every use of one (scope, nullifier) is on
-- one partition, so it orders the uses of a key the same way on every replay.
CREATE TABLE nullifier_uses (
  event_id text PRIMARY KEY,
  scope text NOT NULL,
  nullifier text NOT NULL,
  chain text NOT NULL,
  source text NOT NULL CHECK (source IN ('PROOF', 'RELAYER')),
  origin_chain text,
  merkle_tree_root text,
  block_number bigint NOT NULL,
  tx_hash text NOT NULL,
  finality text NOT NULL CHECK (finality IN ('PENDING', 'SAFE', 'FINALIZED', 'RETRACTED')),
  observed_at timestamptz NOT NULL,
  arrival bigint NOT NULL,
  finality_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nullifier_uses_key ON nullifier_uses (scope, nullifier, arrival);

-- The projection: per (scope, nullifier), the use that counts (the first PROOF use not
-- retracted) and where the nullifier stands.
--   USED        one live PROOF use (plus our own relayed copies)
--   DOUBLE_USE  live PROOF uses on more than one chain (alerted once both are final)
--   RETRACTED   every PROOF use left its chain before it was final
--   RELAYED     only relayed copies are known (the origin chain is not connected)
CREATE TABLE nullifier_status (
  scope text NOT NULL,
  nullifier text NOT NULL,
  status text NOT NULL CHECK (status IN ('USED', 'DOUBLE_USE', 'RETRACTED', 'RELAYED')),
  first_event_id text,
  first_chain text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, nullifier)
);

-- Double-use alerts, written in the same transaction as the uses that prove them and
-- published to veridis.alert.v1 afterwards (an outbox): a crash between the two publishes
-- on redelivery, under the same deterministic alert id.
CREATE TABLE nullifier_alerts (
  alert_id text PRIMARY KEY,
  scope text NOT NULL,
  nullifier text NOT NULL,
  first_event_id text NOT NULL,
  second_event_id text NOT NULL,
  record jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  UNIQUE (first_event_id, second_event_id)
);
CREATE INDEX nullifier_alerts_key ON nullifier_alerts (scope, nullifier);

-- One propagation per (first use, target chain). The signed transaction and its nonce are
-- recorded (state SENT) before it is broadcast, so a process killed at any point finds,
-- on restart, either nothing sent or exactly the transaction to look for: it never signs
-- a second one while the first can still land.
CREATE TABLE nullifier_propagations (
  source_event_id text NOT NULL,
  target_chain text NOT NULL,
  scope text NOT NULL,
  nullifier text NOT NULL,
  source_chain text NOT NULL,
  merkle_tree_root text,
  source_observed_at timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'PLANNED' CHECK (state IN ('PLANNED', 'SENT', 'DONE')),
  outcome text CHECK (outcome IN ('PROPAGATED', 'ALREADY_PRESENT', 'FAILED')),
  sender text,
  nonce numeric,
  tx_hash text,
  signed_tx text,
  -- Transactions signed earlier for this propagation that can no longer land (their
  -- nonce went to another transaction): kept so an operator can see every hash ever sent.
  dropped_tx_hashes text[] NOT NULL DEFAULT '{}',
  attempts int NOT NULL DEFAULT 0,
  reason text,
  latency_ms double precision,
  source_retracted boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  completed_at timestamptz,
  published_at timestamptz,
  PRIMARY KEY (source_event_id, target_chain),
  CHECK ((state = 'DONE') = (outcome IS NOT NULL))
);
CREATE INDEX nullifier_propagations_key ON nullifier_propagations (scope, nullifier);
CREATE INDEX nullifier_propagations_open ON nullifier_propagations (target_chain) WHERE state <> 'DONE';
