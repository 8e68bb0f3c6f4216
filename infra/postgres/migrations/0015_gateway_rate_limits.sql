-- The gateway's fixed-window rate limits, shared by every instance (producers/gateway/
-- shared-rate-limits.ts): one row per policy, key (source address or caller) and window, counted
-- with INSERT … ON CONFLICT DO UPDATE. `policy` names the deployment (its command topic), the
-- policy and its quota and window, so gateways of several namespaces sharing this database never
-- count together. Windows are aligned by Postgres's clock, never a gateway's.
--
-- UNLOGGED: a count lives for one window (a minute by default) and is worth no WAL flush on every
-- request. A crash or a failover to a standby forgets the current windows: callers get one fresh
-- window, not a second command (idempotency stays in the logged gateway_idempotency).
-- fillfactor leaves room on each page so the increments are HOT updates (no index churn).
CREATE UNLOGGED TABLE gateway_rate_limits (
  policy text NOT NULL,
  key text NOT NULL,
  window_start timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (policy, key, window_start)
) WITH (fillfactor = 70);
-- Expired windows are deleted in bounded batches by every instance.
CREATE INDEX gateway_rate_limits_expires_at ON gateway_rate_limits (expires_at);
