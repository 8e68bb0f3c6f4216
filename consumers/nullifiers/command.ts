import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { Pool, PoolClient } from '../../core/db/pool.ts'
import type { Command, IoVeridisCommand } from '../../schemas/generated/veridis.command.v1.ts'
import type { NullifierPropagation } from '../../schemas/generated/veridis.nullifier.propagation.v1.ts'
import { type PropagationRow, ROW_COLUMNS } from './propagate.ts'

/**
 * PropagateNullifierCommand (veridis.command.v1): an explicit request to have one use of a
 * nullifier — its first recorded use on `sourceChain` — registered on some chains, or on
 * every connected chain but the source. It goes through the same rows and machinery as the
 * automatic propagation (PLANNED → SENT → DONE); a command only adds what is missing and
 * re-plans what FAILED, and every requested target gets an outcome for (scope, nullifier,
 * sourceChain) on veridis.nullifier.propagation.v1, so the command's status resolves.
 *
 * Two halves, as for chain events: `planCommands` runs once per command (idempotency key)
 * inside the exactly-once transaction and changes rows; `answerCommand` runs after it on
 * every delivery and only reads: it says what to publish again and what to drive.
 */

const PROPAGATE = 'io.veridis.command.PropagateNullifierCommand'

export interface PropagateRequest {
  readonly command: Command
  readonly scope: string
  readonly nullifier: string
  readonly sourceChain: string
  readonly targetChains: readonly string[]
}

const canonical = (value: string) => (/^[0-9]{1,78}$/.test(value) ? BigInt(value).toString() : value)

/** The chunk's PropagateNullifierCommands; other command types belong to other consumers. */
export function propagateRequests(
  messages: readonly ConsumedMessage<Command>[],
): { message: ConsumedMessage<Command>; request: PropagateRequest }[] {
  return messages.flatMap((message) => {
    const payload = (message.value.payload as { [PROPAGATE]?: IoVeridisCommand.PropagateNullifierCommand })[
      PROPAGATE
    ]
    if (!payload) return []
    return [
      {
        message,
        request: {
          command: message.value,
          scope: canonical(payload.scope),
          nullifier: canonical(payload.nullifier),
          sourceChain: payload.sourceChain,
          targetChains: payload.targetChains,
        },
      },
    ]
  })
}

/** Retries of one request carry one idempotency key: the command is acted on once per key. */
export const commandMessageId = (message: ConsumedMessage<Command>) =>
  `command:${message.value.idempotencyKey}`

interface SourceUse {
  event_id: string
  chain: string
  merkle_tree_root: string | null
  observed_ms: number
}

/** The first recorded PROOF use of the nullifier on the source chain that is still on it. */
async function sourceUse(db: Pool | PoolClient, request: PropagateRequest): Promise<SourceUse | undefined> {
  const { rows } = await db.query<SourceUse>(
    `SELECT event_id, chain, merkle_tree_root, (extract(epoch FROM observed_at) * 1000)::float8 AS observed_ms
     FROM nullifier_uses
     WHERE scope = $1 AND nullifier = $2 AND chain = $3 AND source = 'PROOF' AND finality <> 'RETRACTED'
     ORDER BY arrival LIMIT 1`,
    [request.scope, request.nullifier, request.sourceChain],
  )
  return rows[0]
}

/** The requested targets, each either connected (to be propagated to) or refused with a reason. */
function resolveTargets(request: PropagateRequest, connected: readonly string[]) {
  const requested =
    request.targetChains.length > 0
      ? [...new Set(request.targetChains)]
      : connected.filter((chain) => chain !== request.sourceChain)
  const valid: string[] = []
  const refused: { chain: string; reason: string }[] = []
  for (const chain of requested) {
    if (chain === request.sourceChain) refused.push({ chain, reason: `${chain} is the source chain` })
    else if (!connected.includes(chain))
      refused.push({ chain, reason: `${chain} is not a connected chain (VERIDIS_RELAYER_CHAINS)` })
    else valid.push(chain)
  }
  return { requested, valid, refused }
}

/**
 * The transactional half, once per command: for the known use, a FAILED propagation to a
 * requested target is re-planned (a new attempt: PLANNED again, its outcome cleared, any
 * transaction it sent kept in `dropped_tx_hashes` — a reverted one can never land), and a
 * missing one is planned unless another propagation of the nullifier to that chain is still
 * open. DONE-and-succeeded and in-flight propagations are not touched.
 */
export async function planCommands(
  client: PoolClient,
  requests: readonly PropagateRequest[],
  connected: readonly string[],
): Promise<void> {
  for (const request of requests) {
    const use = await sourceUse(client, request)
    if (!use) continue
    const { valid } = resolveTargets(request, connected)
    if (valid.length === 0) continue
    await client.query(
      `UPDATE nullifier_propagations AS p SET state = 'PLANNED', outcome = NULL, reason = NULL, attempts = 0,
         dropped_tx_hashes = CASE WHEN p.tx_hash IS NULL THEN p.dropped_tx_hashes
                                  ELSE array_append(p.dropped_tx_hashes, p.tx_hash) END,
         sender = NULL, nonce = NULL, tx_hash = NULL, signed_tx = NULL, latency_ms = NULL, sent_at = NULL,
         completed_at = NULL, published_at = NULL,
         source_retracted = EXISTS (SELECT 1 FROM nullifier_uses u
                                    WHERE u.event_id = p.source_event_id AND u.finality = 'RETRACTED')
       WHERE p.source_event_id = $1 AND p.target_chain = ANY($2) AND p.state = 'DONE' AND p.outcome = 'FAILED'`,
      [use.event_id, valid],
    )
    await client.query(
      `INSERT INTO nullifier_propagations (source_event_id, target_chain, scope, nullifier, source_chain,
         merkle_tree_root, source_observed_at)
       SELECT $1, target, $2, $3, $4, $5, to_timestamp($6 / 1000.0) FROM unnest($7::text[]) AS target
       WHERE NOT EXISTS (SELECT 1 FROM nullifier_propagations open
                         WHERE open.scope = $2 AND open.nullifier = $3 AND open.target_chain = target
                           AND open.state <> 'DONE')
       ON CONFLICT (source_event_id, target_chain) DO NOTHING`,
      [
        use.event_id,
        request.scope,
        request.nullifier,
        use.chain,
        use.merkle_tree_root,
        use.observed_ms,
        valid,
      ],
    )
  }
}

export interface CommandAnswer {
  /** Outcomes decided here: no known use, or a target that cannot be propagated to. */
  readonly refusals: { eventId: string; value: NullifierPropagation }[]
  /** Finished propagations of the use to requested targets: their outcomes, published again. */
  readonly done: PropagationRow[]
  /** Propagations waiting to be signed and sent (re-planned or planned by the command). */
  readonly planned: PropagationRow[]
}

/**
 * The half that runs on every delivery, after the transaction: reads where each requested
 * target stands. Refusals carry event id `command:<idempotency key>:<target>`, so a
 * redelivery publishes the same record again.
 */
export async function answerCommand(
  pool: Pool,
  request: PropagateRequest,
  connected: readonly string[],
): Promise<CommandAnswer> {
  const use = await sourceUse(pool, request)
  const { requested, valid, refused } = resolveTargets(request, connected)
  const refuse = (chain: string, reason: string) => ({
    eventId: `command:${request.command.idempotencyKey}:${chain}`,
    value: {
      scope: request.scope,
      nullifier: request.nullifier,
      sourceChain: request.sourceChain,
      sourceEventId: use?.event_id ?? `command:${request.command.commandId}`,
      targetChain: chain,
      outcome: 'FAILED' as const,
      txHash: null,
      reason,
      latencyMs: null,
      at: Date.now(),
    },
  })
  if (!use) {
    const reason = `no recorded use of this nullifier on ${request.sourceChain}`
    return { refusals: requested.map((chain) => refuse(chain, reason)), done: [], planned: [] }
  }
  const refusals = refused.map(({ chain, reason }) => refuse(chain, reason))
  const { rows } = await pool.query<PropagationRow>(
    `SELECT ${ROW_COLUMNS} FROM nullifier_propagations
     WHERE source_event_id = $1 AND target_chain = ANY($2) ORDER BY target_chain`,
    [use.event_id, valid],
  )
  // A target without a row for this use was not planned because another use's propagation
  // of the nullifier to it was open (a double use, or a retracted use and a new one). Its
  // outcomes name the other use's source, so they would never resolve this command: it is
  // refused with the reason instead, and may be sent again once that one has finished.
  const planned = new Set(rows.map((row) => row.target_chain))
  const unplanned = valid.filter((chain) => !planned.has(chain))
  if (unplanned.length > 0) {
    const { rows: others } = await pool.query<{ target_chain: string; source_chain: string; state: string }>(
      `SELECT DISTINCT ON (target_chain) target_chain, source_chain, state FROM nullifier_propagations
       WHERE scope = $1 AND nullifier = $2 AND target_chain = ANY($3) AND source_event_id <> $4
       ORDER BY target_chain, created_at DESC`,
      [request.scope, request.nullifier, unplanned, use.event_id],
    )
    for (const chain of unplanned) {
      const other = others.find((row) => row.target_chain === chain)
      refusals.push(
        refuse(
          chain,
          other
            ? `another use of this nullifier (on ${other.source_chain}) ${other.state === 'DONE' ? 'was' : 'is being'} propagated to ${chain}; send the command again once that has finished`
            : `nothing was planned for ${chain}; send the command again`,
        ),
      )
    }
  }
  return {
    refusals,
    done: rows.filter((row) => row.state === 'DONE'),
    planned: rows.filter((row) => row.state === 'PLANNED'),
  }
}
