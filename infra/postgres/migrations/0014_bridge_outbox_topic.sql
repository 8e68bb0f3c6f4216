-- Guards of several namespaces share one database: each outbox row names the alert topic it is
-- for, and a guard publishes only its own (found when a test's records left through the local
-- guard's monitor round, onto the local topic). Rows written before this were the local guard's.
ALTER TABLE bridge_alert_outbox ADD COLUMN topic text NOT NULL DEFAULT 'veridis.alert.v1';
ALTER TABLE bridge_alert_outbox ALTER COLUMN topic DROP DEFAULT;
DROP INDEX bridge_alert_outbox_unpublished;
CREATE INDEX bridge_alert_outbox_unpublished ON bridge_alert_outbox (topic, created_at) WHERE published_at IS NULL;
