import { backoffDelay, sleep } from '../../core/bus/retry.ts'
import type { Pool, PoolClient } from '../../core/db/pool.ts'
import { describeError, RetryableError } from '../../core/errors.ts'
import type { Logger } from '../../core/logging/logger.ts'
import type { NullifierPropagation } from '../../schemas/generated/veridis.nullifier.propagation.v1.ts'
import type { createSenderLock } from './sender-lock.ts'
import { AlreadyPresentError, type NullifierWriter, type PreparedWrite } from './writers/writer.ts'

/**
 * Carries out the propagations `recordUses` planned, one (first use, target chain) each,
 * from PLANNED through SENT to DONE with an outcome. Every step is recorded before the next
 * is taken, so a process killed anywhere resumes where it was.
 *
 *   PLANNED  (the consumer's handler, `advance`)
 *            source use retracted meanwhile → FAILED, nothing sent;
 *            the target already holds the nullifier → ALREADY_PRESENT, nothing sent;
 *            else, under the sender lock: nonce, sign, record SENT (hash, nonce, bytes), broadcast.
 *   SENT     (the follower, `check`, every few hundred ms, from any process)
 *            mined → PROPAGATED (reverted → ALREADY_PRESENT when the target holds the nullifier
 *            by then, else FAILED); in the node's pool → wait; unknown with its nonce still
 *            free → broadcast the same bytes again; nonce taken by another transaction → it
 *            can never land: back to PLANNED and signed afresh.
 *
 * A write is never signed again while an earlier one for the same propagation can still
 * land, so a crash never produces a duplicate transaction. The handler does not wait for
 * blocks: it hands SENT rows to the follower and moves on to the next messages, so one
 * partition's propagations overlap instead of queueing behind each other's receipts.
 * Failures before anything was sent are retried with backoff and end as FAILED with the
 * reason after `maxAttempts`; a sent transaction is followed until its fate is known,
 * because reporting FAILED for a write that then lands would be false.
 */

export interface PropagationRow {
  source_event_id: string
  target_chain: string
  scope: string
  nullifier: string
  source_chain: string
  merkle_tree_root: string | null
  source_observed_ms: number
  state: 'PLANNED' | 'SENT' | 'DONE'
  outcome: NullifierPropagation['outcome'] | null
  nonce: string | null
  tx_hash: string | null
  signed_tx: string | null
  attempts: number
  reason: string | null
  latency_ms: number | null
  source_retracted: boolean
  completed_ms: number | null
  sent_ms: number | null
}

export type Outcome = Pick<NullifierPropagation, 'outcome' | 'txHash' | 'reason' | 'latencyMs'>

export const ROW_COLUMNS = `source_event_id, target_chain, scope, nullifier, source_chain, merkle_tree_root,
  (extract(epoch FROM source_observed_at) * 1000)::float8 AS source_observed_ms, state, outcome, nonce::text AS nonce,
  tx_hash, signed_tx, attempts, reason, latency_ms, source_retracted,
  (extract(epoch FROM completed_at) * 1000)::float8 AS completed_ms,
  (extract(epoch FROM sent_at) * 1000)::float8 AS sent_ms`

/** Propagations of these keys waiting to be signed and sent. */
export async function plannedPropagations(pool: Pool, keys: readonly { scope: string; nullifier: string }[]) {
  if (keys.length === 0) return []
  const { rows } = await pool.query<PropagationRow>(
    `SELECT ${ROW_COLUMNS} FROM nullifier_propagations
     WHERE (scope, nullifier) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND state = 'PLANNED'
     ORDER BY created_at, target_chain`,
    [keys.map((key) => key.scope), keys.map((key) => key.nullifier)],
  )
  return rows
}

export interface DriveContext {
  readonly signal: AbortSignal
  /** Keeps a consumer in its group while it backs off; a no-op outside a handler. */
  readonly heartbeat: () => Promise<void>
}

export function createPropagationDriver(options: {
  pool: Pool
  writers: ReadonlyMap<string, NullifierWriter>
  withSenderLock: ReturnType<typeof createSenderLock>
  logger: Logger
  maxAttempts: number
  backoffMs: number
  backoffMaxMs: number
  fault: 'kill-after-sign' | 'kill-after-broadcast' | undefined
  /** Publishes a reached outcome (and marks it published); called by whoever reached it. */
  publish: (row: PropagationRow) => Promise<void>
  onOutcome: (row: PropagationRow, outcome: Outcome) => void
}) {
  const { pool, logger } = options

  /** Test-only crash points (VERIDIS_RELAYER_FAULT): the process dies as a power cut would. */
  const crashAt = (point: 'kill-after-sign' | 'kill-after-broadcast') => {
    if (options.fault !== point) return
    logger.warn({ point }, 'fault hook: killing the process (VERIDIS_RELAYER_FAULT)')
    process.kill(process.pid, 'SIGKILL')
  }

  /**
   * Records the outcome, if the row is still where this caller saw it (another process's
   * follower may have got there first: then nothing is published twice), and publishes it.
   */
  async function complete(row: PropagationRow, outcome: Outcome): Promise<boolean> {
    const { rows } = await pool.query<{ completed_ms: number }>(
      `UPDATE nullifier_propagations SET state = 'DONE', outcome = $4, tx_hash = COALESCE($5, tx_hash), reason = $6,
         latency_ms = $7, completed_at = now()
       WHERE source_event_id = $1 AND target_chain = $2 AND state = $3
       RETURNING (extract(epoch FROM completed_at) * 1000)::float8 AS completed_ms`,
      [
        row.source_event_id,
        row.target_chain,
        row.state,
        outcome.outcome,
        outcome.txHash,
        outcome.reason,
        outcome.latencyMs,
      ],
    )
    if (rows.length === 0) return false
    Object.assign(row, {
      state: 'DONE',
      outcome: outcome.outcome,
      tx_hash: outcome.txHash ?? row.tx_hash,
      reason: outcome.reason,
      latency_ms: outcome.latencyMs,
      completed_ms: rows[0]!.completed_ms,
    })
    options.onOutcome(row, outcome)
    logger.info(
      {
        scope: row.scope,
        nullifier: row.nullifier,
        source: row.source_chain,
        target: row.target_chain,
        outcome: outcome.outcome,
        txHash: outcome.txHash,
        reason: outcome.reason,
      },
      'nullifier propagation finished',
    )
    await options.publish(row)
    return true
  }

  /** PLANNED → SENT, unless another process signed it meanwhile (then this write is never sent). */
  async function markSent(client: PoolClient, row: PropagationRow, write: PreparedWrite, sender: string) {
    const { rowCount } = await client.query(
      `UPDATE nullifier_propagations SET state = 'SENT', sender = $3, nonce = $4, tx_hash = $5, signed_tx = $6,
         sent_at = now()
       WHERE source_event_id = $1 AND target_chain = $2 AND state = 'PLANNED'`,
      [row.source_event_id, row.target_chain, sender, write.nonce, write.txHash, write.signed],
    )
    if (!rowCount) return false
    Object.assign(row, { state: 'SENT', nonce: write.nonce, tx_hash: write.txHash, signed_tx: write.signed })
    return true
  }

  async function replan(row: PropagationRow) {
    const { rowCount } = await pool.query(
      `UPDATE nullifier_propagations SET state = 'PLANNED', dropped_tx_hashes = array_append(dropped_tx_hashes, tx_hash),
         nonce = NULL, tx_hash = NULL, signed_tx = NULL, attempts = 0
       WHERE source_event_id = $1 AND target_chain = $2 AND state = 'SENT' AND tx_hash = $3`,
      [row.source_event_id, row.target_chain, row.tx_hash],
    )
    if (!rowCount) return false
    logger.warn(
      { target: row.target_chain, txHash: row.tx_hash, nonce: row.nonce },
      'propagation transaction can never land (its nonce went to another); signing a new one',
    )
    Object.assign(row, { state: 'PLANNED', nonce: null, tx_hash: null, signed_tx: null, attempts: 0 })
    return true
  }

  /**
   * One try at PLANNED → SENT (or DONE when there is nothing to send). False when another
   * process got there first (signed it, or finished it): this write was never sent, and the
   * row is that process's now.
   */
  async function send(row: PropagationRow, writer: NullifierWriter): Promise<boolean> {
    if (row.source_retracted) {
      return complete(row, {
        outcome: 'FAILED',
        txHash: null,
        reason: 'source use retracted (reorg) before it was propagated',
        latencyMs: null,
      })
    }
    if (await writer.isUsed(row.scope, row.nullifier)) {
      return complete(row, { outcome: 'ALREADY_PRESENT', txHash: null, reason: null, latencyMs: null })
    }
    const use = {
      scope: row.scope,
      nullifier: row.nullifier,
      merkleTreeRoot: row.merkle_tree_root,
      originChain: row.source_chain,
    }
    try {
      return await options.withSenderLock(writer.chain, writer.sender, async (client) => {
        const write = await writer.prepare(use, await writer.nextNonce())
        if (!(await markSent(client, row, write, writer.sender))) return false
        crashAt('kill-after-sign')
        await writer.broadcast(write)
        crashAt('kill-after-broadcast')
        return true
      })
    } catch (error) {
      if (error instanceof AlreadyPresentError) {
        return complete(row, { outcome: 'ALREADY_PRESENT', txHash: null, reason: null, latencyMs: null })
      }
      throw error
    }
  }

  /**
   * Takes a PLANNED propagation to SENT or DONE, retrying failures before anything was sent
   * with backoff; after `maxAttempts` it is FAILED with the reason. A write that was recorded
   * and then failed to broadcast is left SENT: the follower re-broadcasts it.
   */
  async function advance(row: PropagationRow, context: DriveContext): Promise<void> {
    const writer = options.writers.get(row.target_chain)
    if (!writer) {
      if (row.state !== 'DONE') {
        await complete(row, {
          outcome: 'FAILED',
          txHash: null,
          reason: `no writer for ${row.target_chain} in this process (VERIDIS_RELAYER_CHAINS)`,
          latencyMs: null,
        })
      }
      return
    }
    while (row.state === 'PLANNED') {
      try {
        if (!(await send(row, writer))) return
      } catch (error) {
        if ((row.state as PropagationRow['state']) !== 'PLANNED') {
          logger.warn(
            { err: describeError(error), target: row.target_chain, txHash: row.tx_hash },
            'broadcasting a recorded propagation failed; the follower will send it again',
          )
          return
        }
        row.attempts++
        const reason = describeError(error).message
        await pool.query(
          `UPDATE nullifier_propagations SET attempts = $3, reason = $4
           WHERE source_event_id = $1 AND target_chain = $2 AND state = 'PLANNED'`,
          [row.source_event_id, row.target_chain, row.attempts, reason],
        )
        if (row.attempts >= options.maxAttempts) {
          await complete(row, {
            outcome: 'FAILED',
            txHash: null,
            reason: `gave up after ${row.attempts} attempts: ${reason}`,
            latencyMs: null,
          })
          return
        }
        logger.warn(
          { err: describeError(error), target: row.target_chain, attempt: row.attempts },
          'propagation failed, retrying',
        )
        await context.heartbeat()
        await sleep(backoffDelay(row.attempts, options.backoffMs, options.backoffMaxMs), context.signal)
        if (context.signal.aborted) throw new RetryableError('shutting down while retrying a propagation')
      }
    }
  }

  /** One look at a SENT propagation: finish it, send its bytes again, or sign it afresh. */
  async function check(row: PropagationRow, context: DriveContext): Promise<void> {
    const writer = options.writers.get(row.target_chain)
    if (!writer || row.state !== 'SENT') return
    const write: PreparedWrite = { txHash: row.tx_hash!, nonce: row.nonce!, signed: row.signed_tx! }
    const status = await writer.status(write)
    switch (status.state) {
      case 'pending':
        return
      case 'unknown':
        // The node lost it (restarted, or the process died before broadcasting): same bytes again.
        await writer.broadcast(write)
        return
      case 'dropped':
        if (await replan(row)) await advance(row, context)
        return
      case 'confirmed':
        await complete(row, {
          outcome: 'PROPAGATED',
          txHash: row.tx_hash,
          reason: null,
          latencyMs: Math.max(0, Date.now() - row.source_observed_ms),
        })
        return
      case 'reverted': {
        // Someone (a proof on the target chain, another relayer) got there first.
        const present = await writer.isUsed(row.scope, row.nullifier)
        await complete(
          row,
          present
            ? {
                outcome: 'ALREADY_PRESENT',
                txHash: row.tx_hash,
                reason: 'registration reverted: already present',
                latencyMs: null,
              }
            : {
                outcome: 'FAILED',
                txHash: row.tx_hash,
                reason: 'registration transaction reverted',
                latencyMs: null,
              },
        )
      }
    }
  }

  return { advance, check }
}

export type PropagationDriver = ReturnType<typeof createPropagationDriver>

/**
 * Advances `planned` with up to `concurrency` at once, heartbeating before each: a chunk of
 * hundreds of propagations can outlast the session timeout. A heartbeat that throws (the
 * process is stopping, the partition was taken away) stops the rest; the first failure is
 * rethrown once every propagation under way has settled.
 */
export async function advanceAll(
  driver: Pick<PropagationDriver, 'advance'>,
  planned: readonly PropagationRow[],
  context: DriveContext,
  concurrency: number,
): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(concurrency, planned.length) }, async () => {
    while (next < planned.length) {
      const row = planned[next++]!
      await context.heartbeat()
      await driver.advance(row, context)
    }
  })
  const results = await Promise.allSettled(workers)
  const failure = results.find((result) => result.status === 'rejected')
  if (failure) throw failure.reason
}
