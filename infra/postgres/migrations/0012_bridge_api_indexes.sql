-- The gateway's security endpoints (producers/gateway/routes/security.ts, bridge.ts) look bridge
-- events and findings up by transaction hash and by block range on a chain: these indexes keep
-- each of those questions one index scan, however long the guard's history grows.
CREATE INDEX bridge_locks_tx ON bridge_locks (tx_hash);
CREATE INDEX bridge_locks_chain_block ON bridge_locks (chain, block_number);
CREATE INDEX bridge_releases_tx ON bridge_releases (tx_hash);
CREATE INDEX bridge_releases_chain_block ON bridge_releases (chain, block_number);
CREATE INDEX bridge_findings_alert ON bridge_findings (alert_id);
CREATE INDEX chain_events_tx ON chain_events (tx_hash);
