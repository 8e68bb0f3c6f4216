import { type CircuitSpec, publicSignalIndex } from '../../circuits/catalog.ts'
import { semaphoreHash } from '../../circuits/inputs.ts'
import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { TopicRecord } from '../../core/bus/topic-publisher.ts'
import type { Pool } from '../../core/db/pool.ts'
import type { NullifierEvent } from '../../schemas/generated/veridis.chain.nullifier.v1.ts'
import type { ProofResult } from '../../schemas/generated/veridis.proof.v1.ts'
import { canonicalElement } from './facts.ts'
import type { Verifier } from './verifier.ts'

/**
 * Proofs carried by chain events: a nullifier used with a Semaphore v4 proof
 * (NullifierUsedWithProof on EVM chains). The verifier checks the proof itself rather than
 * trusting the chain that emitted it, and publishes a ProofResult keyed by the event id.
 *
 * One verdict per fact: a chain event arrives as PENDING then FINALIZED (same id), and again
 * after a crash, but whether its proof verifies does not change, so the first copy is
 * verified and the verdict stored (zk_chain_proof_verdicts); later copies are skipped.
 * RETRACTED copies are never verified: a fact that left the canonical chain needs no verdict,
 * and its nullifier and root rows are retracted by recordChainFacts as for any event.
 */
export const chainProofResultId = (eventId: string) => `verify-event:${eventId}`

const UINT256_LIMIT = 1n << 256n

/** A uint256 as the chains write it (decimal or 0x hex), or undefined. */
function uint256(value: string | null): bigint | undefined {
  if (value === null) return undefined
  const canonical = canonicalElement(value)
  if (canonical === undefined) return undefined
  const number = BigInt(canonical)
  return number < UINT256_LIMIT ? number : undefined
}

export type SignalBinding =
  | { readonly signals: readonly string[] }
  | { readonly signals?: undefined; readonly reason: string }

/**
 * The public signals the event's proof must verify for, from the event's own fields: root
 * and nullifier as they are, message and scope hashed the way Semaphore hashes them. A
 * proof verified for any other signals would prove a use other than the one the chain
 * recorded, so when the event also carries the signals its chain verified, they must be
 * these.
 */
export function bindSignals(spec: CircuitSpec, event: NullifierEvent): SignalBinding {
  const root = uint256(event.merkleTreeRoot)
  const nullifier = uint256(event.nullifier)
  const message = uint256(event.message)
  const scope = uint256(event.scope)
  if (root === undefined) return { reason: 'malformed event: merkleTreeRoot is missing or not a uint256' }
  if (nullifier === undefined) return { reason: 'malformed event: nullifier is not a uint256' }
  if (message === undefined) return { reason: 'malformed event: message is missing or not a uint256' }
  if (scope === undefined) return { reason: 'malformed event: scope is not a uint256' }
  const signals = new Array<string>(spec.publicSignals.length)
  signals[publicSignalIndex(spec, 'merkleTreeRoot')] = root.toString()
  signals[publicSignalIndex(spec, 'nullifier')] = nullifier.toString()
  signals[publicSignalIndex(spec, 'message')] = semaphoreHash(message).toString()
  signals[publicSignalIndex(spec, 'scope')] = semaphoreHash(scope).toString()
  if (event.publicSignals.length > 0) {
    const carried = event.publicSignals.map((signal) => canonicalElement(signal))
    const mismatch = spec.publicSignals.filter((_, index) => carried[index] !== signals[index])
    if (carried.length !== signals.length || mismatch.length > 0) {
      return {
        reason: `public signals do not match the event: ${mismatch.length > 0 ? mismatch.join(', ') : `expected ${signals.length} signals`}`,
      }
    }
  }
  return { signals }
}

interface Verdicts {
  readonly all: ReadonlySet<string>
  readonly rejected: ReadonlySet<string>
}

async function storedVerdicts(pool: Pool, eventIds: readonly string[]): Promise<Verdicts> {
  const { rows } = await pool.query<{ event_id: string; status: string }>(
    'SELECT event_id, status FROM zk_chain_proof_verdicts WHERE event_id = ANY($1)',
    [eventIds],
  )
  return {
    all: new Set(rows.map((row) => row.event_id)),
    rejected: new Set(rows.filter((row) => row.status === 'REJECTED').map((row) => row.event_id)),
  }
}

export function createChainProofVerifier(options: {
  pool: Pool
  spec: CircuitSpec
  verifier: Verifier
  publish: (records: TopicRecord<'proof'>[]) => Promise<void>
  onRejected?: (result: ProofResult) => void
}) {
  const { pool, spec, verifier } = options
  return {
    /**
     * Verifies the proofs of the events not verified before and publishes their results.
     * Returns the ids of the events (of this chunk) whose proofs are rejected, now or
     * before: their roots are not roots anyone should prove against.
     */
    async handle(messages: readonly ConsumedMessage<NullifierEvent>[]): Promise<ReadonlySet<string>> {
      const carrying = messages.filter((message) => message.value.proof !== null)
      if (carrying.length === 0) return new Set()
      const known = await storedVerdicts(
        pool,
        carrying.map((message) => message.value.envelope.eventId),
      )
      const rejected = new Set(known.rejected)
      const fresh = new Map<string, ConsumedMessage<NullifierEvent>>()
      for (const message of carrying) {
        const { eventId, finality } = message.value.envelope
        if (finality === 'RETRACTED' || known.all.has(eventId) || fresh.has(eventId)) continue
        fresh.set(eventId, message)
      }
      if (fresh.size === 0) return rejected

      const started = Date.now()
      const pending = [...fresh.values()].map((message) => ({
        message,
        binding: bindSignals(spec, message.value),
      }))
      const toVerify = pending.flatMap(({ message, binding }, index) =>
        binding.signals
          ? [{ index, circuit: spec.circuit, proof: message.value.proof!, publicSignals: binding.signals }]
          : [],
      )
      const verdicts = await verifier.verify(toVerify)
      const reasons = pending.map(({ binding }) => ('reason' in binding ? binding.reason : undefined))
      toVerify.forEach(({ index }, position) => {
        const verdict = verdicts[position]!
        if (!verdict.valid) reasons[index] = verdict.reason
      })
      const durationMs = (Date.now() - started) / pending.length

      const records = pending.map(({ message, binding }, index): TopicRecord<'proof'> => {
        const { eventId } = message.value.envelope
        const reason = reasons[index]
        const result: ProofResult = {
          resultId: chainProofResultId(eventId),
          commandId: null,
          sourceEventId: eventId,
          circuit: spec.circuit,
          status: reason === undefined ? 'VERIFIED' : 'REJECTED',
          proof: message.value.proof,
          publicSignals: binding.signals ? [...binding.signals] : message.value.publicSignals,
          reason: reason ?? null,
          durationMs,
          producedAt: Date.now(),
        }
        return {
          value: result,
          eventId: result.resultId,
          ...(message.traceparent ? { traceparent: message.traceparent } : {}),
        }
      })
      await options.publish(records)
      // After the results are acknowledged: a crash in between repeats the verification and
      // republishes the same resultId under the same key, never loses a verdict.
      await pool.query(
        `INSERT INTO zk_chain_proof_verdicts (event_id, chain, status, reason)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
         ON CONFLICT (event_id) DO NOTHING`,
        [
          records.map(({ value }) => value.sourceEventId),
          pending.map(({ message }) => message.value.envelope.chain),
          records.map(({ value }) => value.status),
          records.map(({ value }) => value.reason),
        ],
      )
      for (const { value } of records) {
        if (value.status !== 'REJECTED') continue
        rejected.add(value.sourceEventId!)
        options.onRejected?.(value)
      }
      return rejected
    },
  }
}
