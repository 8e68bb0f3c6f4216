-- The verifier consumer's verdict on each proof-carrying chain event (a nullifier used with a
-- Semaphore proof), one row per event id. A chain event arrives several times — PENDING, then
-- FINALIZED, and redelivered after a crash — but the proof is one fact: it is verified once,
-- and later copies read the verdict here instead (a rejected proof's root is never recorded
-- as a known root, whichever copy comes).
CREATE TABLE zk_chain_proof_verdicts (
  event_id text PRIMARY KEY,
  chain text NOT NULL,
  status text NOT NULL CHECK (status IN ('VERIFIED', 'REJECTED')),
  reason text,
  verified_at timestamptz NOT NULL DEFAULT now()
);
