-- The bridge guard's periodic checks (consumers/bridge-guard/monitors.ts). Signing latency is
-- known only for releases whose source lock the guard has seen, so the mean latency of a
-- guardian is latency_ms_total / latency_samples (not / signed).
ALTER TABLE bridge_guardian_activity ADD COLUMN latency_samples bigint NOT NULL DEFAULT 0;
