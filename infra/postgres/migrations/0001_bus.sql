-- Exactly-once effects: a consumer group records the id of every message whose effect it
-- applied, in the same transaction as the effect (core/db/exactly-once.ts).
CREATE TABLE bus_processed_messages (
  consumer_group text NOT NULL,
  message_id text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, message_id)
);
-- For pruning entries older than the longest topic retention.
CREATE INDEX bus_processed_messages_processed_at ON bus_processed_messages (processed_at);
