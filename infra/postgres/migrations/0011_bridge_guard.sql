-- The bridge guard (consumers/bridge-guard, docs/bridge-guard.md). Its read models are
-- rebuilt from veridis.chain.bridge.v1; findings and incidents are its own decisions, kept
-- so a redelivered event or a restarted guard never raises the same finding twice.

-- Source locks/burns and destination mints/unlocks as the guard has seen them. A row whose
-- block left the canonical chain is deleted (its event came back RETRACTED).
CREATE TABLE bridge_locks (
  event_id text PRIMARY KEY,
  message_id text NOT NULL,
  bridge_id text NOT NULL,
  chain text NOT NULL,
  gateway text NOT NULL,
  block_number bigint NOT NULL,
  tx_hash text NOT NULL,
  finality text NOT NULL,
  mode text NOT NULL,
  token text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  recipient text NOT NULL,
  destination_chain text NOT NULL,
  observed_at timestamptz NOT NULL
);
CREATE INDEX bridge_locks_message ON bridge_locks (message_id);
CREATE INDEX bridge_locks_observed ON bridge_locks (bridge_id, observed_at);

CREATE TABLE bridge_releases (
  event_id text PRIMARY KEY,
  message_id text NOT NULL,
  bridge_id text NOT NULL,
  chain text NOT NULL,
  gateway text NOT NULL,
  block_number bigint NOT NULL,
  tx_hash text NOT NULL,
  finality text NOT NULL,
  mode text NOT NULL,
  token text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  recipient text NOT NULL,
  source_chain text NOT NULL,
  signers text[] NOT NULL,
  threshold integer NOT NULL,
  -- Set when the source lock was confirmed by enough independent endpoints.
  backed boolean NOT NULL,
  observed_at timestamptz NOT NULL
);
CREATE INDEX bridge_releases_message ON bridge_releases (message_id);
CREATE INDEX bridge_releases_observed ON bridge_releases (bridge_id, observed_at);

-- One incident per (detection, scope) within the detection's cooldown: an attack of many
-- copy-paste transactions is one incident with a count. alert_id names it on the topic.
CREATE TABLE bridge_incidents (
  alert_id text PRIMARY KEY,
  detection text NOT NULL,
  scope text NOT NULL,
  kind text NOT NULL,
  severity text NOT NULL,
  occurrences integer NOT NULL,
  active integer NOT NULL,
  confirmed boolean NOT NULL DEFAULT false,
  withdrawn boolean NOT NULL DEFAULT false,
  revision integer NOT NULL,
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  record jsonb NOT NULL
);
CREATE INDEX bridge_incidents_open ON bridge_incidents (detection, scope, last_at) WHERE NOT withdrawn;

-- One row per finding: what was wrong with which event. The subject event's finality
-- confirms (FINALIZED) or withdraws (RETRACTED) it.
CREATE TABLE bridge_findings (
  finding_id text PRIMARY KEY,
  alert_id text NOT NULL REFERENCES bridge_incidents (alert_id),
  detection text NOT NULL,
  subject_event_id text NOT NULL,
  subject_chain text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  confirmed boolean NOT NULL DEFAULT false,
  summary text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bridge_findings_subject ON bridge_findings (subject_event_id);

-- Alert records to publish, written in the same transaction as the decision that made them.
CREATE TABLE bridge_alert_outbox (
  alert_id text NOT NULL,
  revision integer NOT NULL,
  record jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  PRIMARY KEY (alert_id, revision)
);
CREATE INDEX bridge_alert_outbox_unpublished ON bridge_alert_outbox (created_at) WHERE published_at IS NULL;

-- Value moved per corridor and token in minute buckets (flow limits, anomaly baselines):
-- bounded by pruning buckets older than the longest window.
CREATE TABLE bridge_flow_buckets (
  bridge_id text NOT NULL,
  chain text NOT NULL,
  token text NOT NULL,
  direction text NOT NULL,
  bucket timestamptz NOT NULL,
  amount numeric(78, 0) NOT NULL,
  transfers integer NOT NULL,
  PRIMARY KEY (bridge_id, chain, token, direction, bucket)
);

-- Per guardian: releases signed and how long after the source lock (participation, latency).
CREATE TABLE bridge_guardian_activity (
  gateway text NOT NULL,
  chain text NOT NULL,
  guardian text NOT NULL,
  operator text,
  signed bigint NOT NULL DEFAULT 0,
  eligible bigint NOT NULL DEFAULT 0,
  latency_ms_total double precision NOT NULL DEFAULT 0,
  last_signed_at timestamptz,
  PRIMARY KEY (chain, gateway, guardian)
);

-- Proof-of-reserves checks, newest last, per token.
CREATE TABLE bridge_reserve_checks (
  id bigserial PRIMARY KEY,
  bridge_id text NOT NULL,
  token text NOT NULL,
  custody numeric(78, 0) NOT NULL,
  custody_chain text NOT NULL,
  custody_block bigint NOT NULL,
  wrapped_supply numeric(78, 0) NOT NULL,
  in_flight numeric(78, 0) NOT NULL,
  heights jsonb NOT NULL,
  shortfall numeric(78, 0) NOT NULL,
  checked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bridge_reserve_checks_token ON bridge_reserve_checks (bridge_id, token, checked_at);

-- Events the guard has judged (at whatever finality it first saw them): a later FINALIZED copy
-- confirms what was decided then instead of deciding again.
CREATE TABLE bridge_events_judged (
  event_id text PRIMARY KEY,
  chain text NOT NULL,
  judged_at timestamptz NOT NULL DEFAULT now()
);
