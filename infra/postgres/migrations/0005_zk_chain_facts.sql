-- What the chains have published that proofs are checked against, as the verifier consumer
-- reads it from veridis.chain.attestation.v1 and veridis.chain.nullifier.v1: a proof that
-- names a chain must use a root that chain knows, and a nullifier it has not yet used.
-- One row per chain event, so a reorg retracts exactly the rows of the events it removed;
-- FINALIZED outranks RETRACTED, as in the ledger (a fact re-included and finalized stays).
CREATE TABLE zk_known_roots (
  event_id text PRIMARY KEY,
  chain text NOT NULL,
  -- Decimal field element, canonical (no leading zeros).
  root text NOT NULL,
  -- 'attestation' (AttestationIssued / AttestationRootUpdated) or 'group' (a nullifier
  -- event's Semaphore merkleTreeRoot).
  kind text NOT NULL CHECK (kind IN ('attestation', 'group')),
  finality text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX zk_known_roots_lookup ON zk_known_roots (chain, root) WHERE finality <> 'RETRACTED';

CREATE TABLE zk_used_nullifiers (
  event_id text PRIMARY KEY,
  chain text NOT NULL,
  scope text NOT NULL,
  nullifier text NOT NULL,
  finality text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX zk_used_nullifiers_lookup ON zk_used_nullifiers (chain, nullifier) WHERE finality <> 'RETRACTED';
