-- The HTTP gateway's own state (API keys, idempotency) and the read models the projector
-- keeps from the topics, which the gateway's status endpoints answer from.

-- API keys: the key is shown once, at creation; only its SHA-256 is kept. A key is
-- `vk_<key_id>_<secret>`: key_id is public (it names the caller in audit facts), the
-- secret is 32 random bytes, so a plain hash is enough (nothing to brute-force).
CREATE TABLE gateway_api_keys (
  key_id text PRIMARY KEY,
  name text NOT NULL,
  roles text[] NOT NULL,
  secret_sha256 bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

-- Idempotency-Key decisions, shared by every gateway instance and surviving restarts: one
-- command per (caller, key). published_at stays null until Kafka acknowledged the command,
-- so a retry after a failed publish publishes the same command (same id) again.
CREATE TABLE gateway_idempotency (
  caller text NOT NULL,
  idempotency_key text NOT NULL,
  command_id text NOT NULL,
  command_type text NOT NULL,
  request_sha256 text NOT NULL,
  issued_at timestamptz NOT NULL,
  published_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (caller, idempotency_key)
);
CREATE INDEX gateway_idempotency_created_at ON gateway_idempotency (created_at);

-- Every command seen on veridis.command.v1, from the gateway or written by an upstream
-- system. `summary` holds only the non-private fields of the payload (no proof inputs, no
-- subject ids). source_topic lets a namespace (a test) find and remove its own rows.
CREATE TABLE read_commands (
  command_id text PRIMARY KEY,
  idempotency_key text NOT NULL,
  command_type text NOT NULL,
  actor_kind text NOT NULL,
  actor_id text NOT NULL,
  summary jsonb NOT NULL,
  issued_at timestamptz NOT NULL,
  projected_at timestamptz NOT NULL DEFAULT now(),
  source_topic text NOT NULL,
  kafka_partition int NOT NULL,
  kafka_offset text NOT NULL
);
CREATE INDEX read_commands_actor ON read_commands (actor_kind, actor_id, issued_at DESC);
CREATE INDEX read_commands_nullifier ON read_commands ((summary ->> 'scope'), (summary ->> 'nullifier'))
  WHERE command_type = 'PropagateNullifierCommand';

-- Proof outcomes (veridis.proof.v1), keyed by result; a command may see several (a retry
-- after a rejection), the latest decides.
CREATE TABLE read_proof_results (
  result_id text PRIMARY KEY,
  command_id text,
  source_event_id text,
  circuit text NOT NULL,
  status text NOT NULL,
  public_signals jsonb NOT NULL,
  reason text,
  duration_ms double precision NOT NULL,
  produced_at timestamptz NOT NULL,
  projected_at timestamptz NOT NULL DEFAULT now(),
  source_topic text NOT NULL
);
CREATE INDEX read_proof_results_command ON read_proof_results (command_id, produced_at DESC);

-- Per target chain outcome of a nullifier propagation; the latest report per target wins.
CREATE TABLE read_nullifier_propagations (
  source_event_id text NOT NULL,
  target_chain text NOT NULL,
  scope text NOT NULL,
  nullifier text NOT NULL,
  source_chain text NOT NULL,
  outcome text NOT NULL,
  tx_hash text,
  reason text,
  latency_ms double precision,
  at timestamptz NOT NULL,
  source_topic text NOT NULL,
  PRIMARY KEY (source_event_id, target_chain)
);
CREATE INDEX read_nullifier_propagations_nullifier ON read_nullifier_propagations (scope, nullifier);

CREATE TABLE read_alerts (
  alert_id text PRIMARY KEY,
  kind text NOT NULL,
  severity text NOT NULL,
  chain text,
  summary text NOT NULL,
  evidence jsonb NOT NULL,
  details jsonb NOT NULL,
  detected_at timestamptz NOT NULL,
  source_topic text NOT NULL
);
CREATE INDEX read_alerts_command ON read_alerts ((details ->> 'commandId'));
CREATE INDEX read_alerts_detected_at ON read_alerts (detected_at DESC);

-- References from the hash-chained audit trail: which audit records name which ids
-- (commands, events, proof results). The records themselves stay in veridis.audit.v1.
CREATE TABLE read_audit_references (
  audit_id text PRIMARY KEY,
  chain_id text NOT NULL,
  sequence bigint NOT NULL,
  action text NOT NULL,
  actor_kind text NOT NULL,
  actor_id text NOT NULL,
  refs text[] NOT NULL,
  occurred_at timestamptz NOT NULL,
  source_topic text NOT NULL
);
CREATE INDEX read_audit_references_refs ON read_audit_references USING gin (refs);
