-- The compliance-audit service (consumers/audit, docs/audit.md): hash-chain state, the
-- outbox between chaining and publishing, the projection of veridis.audit.v1, personal data
-- encrypted under per-subject keys, the erasure tree and erasure proofs.
--
-- `scope` is the audit topic's (namespaced) name: several pipelines or test runs share one
-- database, and each keeps chains, subjects and trees of its own.

-- Head of each hash chain (one chain per partition of the audit topic). Chaining locks the
-- row, so two writers can never both extend the same head: there is one successor per head.
CREATE TABLE audit_chain_heads (
  scope text NOT NULL,
  chain_id text NOT NULL,
  next_sequence bigint NOT NULL,
  head_hash text NOT NULL,
  PRIMARY KEY (scope, chain_id)
);

-- Chained records not yet on the topic. Written in the same transaction as the chain head
-- and the exactly-once bookkeeping of the message that caused them; the relay publishes
-- them in sequence order and deletes them in the transaction that projects them.
CREATE TABLE audit_outbox (
  scope text NOT NULL,
  chain_id text NOT NULL,
  sequence bigint NOT NULL,
  kafka_partition int NOT NULL,
  record_key text NOT NULL,
  record jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, chain_id, sequence)
);

-- The projection of veridis.audit.v1: every record with where it sits on the topic. Kept by
-- the relay as it publishes; `veridis audit replay` rebuilds it from the topic.
CREATE TABLE audit_records (
  scope text NOT NULL,
  kafka_partition int NOT NULL,
  kafka_offset bigint NOT NULL,
  audit_id text NOT NULL,
  chain_id text NOT NULL,
  sequence bigint NOT NULL,
  prev_hash text NOT NULL,
  record_hash text NOT NULL,
  action text NOT NULL,
  actor_kind text NOT NULL,
  actor_id text NOT NULL,
  subject_hash text,
  gdpr_category text NOT NULL,
  legal_basis text NOT NULL,
  retention_days int,
  refs text[] NOT NULL,
  details jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (scope, kafka_partition, kafka_offset)
);
-- Not unique: a tampered topic replayed into the projection may repeat a chain position.
CREATE INDEX audit_records_chain ON audit_records (scope, chain_id, sequence);
CREATE INDEX audit_records_subject ON audit_records (scope, subject_hash) WHERE subject_hash IS NOT NULL;

-- One data key per subject (AES-256-GCM), stored wrapped by the master key. Erasure sets
-- wrapped_key to NULL: every ciphertext under it becomes noise. key_commitment is the
-- erasure tree's leaf for the key, Poseidon(subjectHash, H(key)); leaf_index its position.
CREATE TABLE audit_subject_keys (
  scope text NOT NULL,
  subject_hash text NOT NULL,
  wrapped_key bytea,
  key_commitment text NOT NULL,
  leaf_index bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  erased_at timestamptz,
  PRIMARY KEY (scope, subject_hash),
  UNIQUE (scope, leaf_index)
);

-- Personal data the pipeline keeps, encrypted under the subject's key: AES-256-GCM with a
-- random 12-byte IV; the GCM tag is appended to the ciphertext. kind says what it is
-- (e.g. attestation.subject_id); reference which command or event brought it.
CREATE TABLE audit_subject_data (
  id bigserial PRIMARY KEY,
  scope text NOT NULL,
  subject_hash text NOT NULL,
  kind text NOT NULL,
  reference text NOT NULL,
  iv bytea NOT NULL,
  ciphertext bytea NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now(),
  retain_until timestamptz NOT NULL,
  UNIQUE (scope, kind, reference)
);
CREATE INDEX audit_subject_data_subject ON audit_subject_data (scope, subject_hash);
CREATE INDEX audit_subject_data_retain_until ON audit_subject_data (retain_until);

-- Which on-chain attestation belongs to which (pseudonymous) subject, so chain events about
-- it are audited against that subject.
CREATE TABLE audit_subject_attestations (
  scope text NOT NULL,
  registry text NOT NULL,
  attestation_id text NOT NULL,
  subject_hash text NOT NULL,
  PRIMARY KEY (scope, registry, attestation_id)
);

-- The erasure tree (depth 20, Poseidon): only nodes that differ from the empty tree.
-- level 0 holds leaves; the root is (level 20, index 0).
CREATE TABLE audit_erasure_tree (
  scope text NOT NULL,
  level int NOT NULL,
  node_index bigint NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (scope, level, node_index)
);

-- Every cryptographic erasure with its Groth16 proof (circuit ERASURE) and verdict.
CREATE TABLE audit_erasures (
  scope text NOT NULL,
  erasure_id text NOT NULL,
  subject_hash text NOT NULL,
  command_id text NOT NULL,
  leaf_index bigint NOT NULL,
  old_root text NOT NULL,
  new_root text NOT NULL,
  proof jsonb NOT NULL,
  public_signals jsonb NOT NULL,
  verified boolean NOT NULL,
  erased_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, erasure_id)
);
CREATE INDEX audit_erasures_subject ON audit_erasures (scope, subject_hash);
