import { backoffDelay, sleep } from '../../core/bus/retry.ts'
import type { Pool } from '../../core/db/pool.ts'
import { describeError } from '../../core/errors.ts'
import type { Logger } from '../../core/logging/logger.ts'
import { type PropagationDriver, type PropagationRow, ROW_COLUMNS } from './propagate.ts'

const POLL_MS = 250
// A finished row its finisher has not marked published after this long: the finisher died.
const ORPHANED_PUBLISH_MS = 10_000
const CONCURRENCY = 32

/**
 * Follows every SENT propagation towards this process's target chains until its fate is
 * known, whichever process sent it — so a transaction sent by a process that died is still
 * settled — and publishes finished outcomes whose finisher died before publishing them.
 * Several followers may look at one row: completing is a guarded update, so only one of them
 * records and publishes the outcome.
 */
export function startFollower(options: {
  pool: Pool
  driver: PropagationDriver
  chains: readonly string[]
  publish: (rows: readonly PropagationRow[]) => Promise<void>
  logger: Logger
  signal: AbortSignal
  backoffMs: number
  backoffMaxMs: number
  /** A sent transaction still not mined after this is reported, once. */
  stuckAfterMs: number
}) {
  const { pool, logger, signal } = options
  const context = { signal, heartbeat: async () => undefined }
  const reportedStuck = new Set<string>()

  const round = async () => {
    const { rows: sent } = await pool.query<PropagationRow>(
      `SELECT ${ROW_COLUMNS} FROM nullifier_propagations
       WHERE state = 'SENT' AND target_chain = ANY($1) ORDER BY sent_at LIMIT 1000`,
      [options.chains],
    )
    let next = 0
    const failures: unknown[] = []
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, sent.length) }, async () => {
        while (next < sent.length && !signal.aborted) {
          const row = sent[next++]!
          if (
            row.sent_ms !== null &&
            Date.now() - row.sent_ms > options.stuckAfterMs &&
            !reportedStuck.has(row.tx_hash!)
          ) {
            reportedStuck.add(row.tx_hash!)
            logger.warn(
              { target: row.target_chain, txHash: row.tx_hash, nonce: row.nonce, sentMs: row.sent_ms },
              'propagation transaction not mined yet; still following it (fees too low? node dropped it?)',
            )
          }
          try {
            await options.driver.check(row, context)
          } catch (error) {
            failures.push(error)
          }
        }
      }),
    )
    const { rows: orphaned } = await pool.query<PropagationRow>(
      `SELECT ${ROW_COLUMNS} FROM nullifier_propagations
       WHERE state = 'DONE' AND published_at IS NULL AND target_chain = ANY($1)
         AND completed_at < now() - make_interval(secs => $2)
       LIMIT 1000`,
      [options.chains, ORPHANED_PUBLISH_MS / 1000],
    )
    if (orphaned.length > 0) await options.publish(orphaned)
    if (failures.length > 0) throw failures[0]
  }

  const done = (async () => {
    for (let failures = 0; !signal.aborted; ) {
      try {
        await round()
        failures = 0
        await sleep(POLL_MS, signal)
      } catch (error) {
        failures++
        logger.warn(
          { err: describeError(error), attempt: failures },
          'following sent propagations failed; retrying',
        )
        await sleep(backoffDelay(failures, options.backoffMs, options.backoffMaxMs) + POLL_MS, signal)
      }
    }
  })()
  return { stopped: done }
}
