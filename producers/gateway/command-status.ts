import type { Pool } from '../../core/db/pool.ts'

/**
 * A command's life as the read models tell it: accepted (seen on the command topic) →
 * processing (a consumer reported about it) → done or failed (its outcome arrived), with
 * the outcome. Facts are joined at read time, so it does not matter which topic the
 * projector saw first.
 */
export type CommandStatus = 'accepted' | 'processing' | 'done' | 'failed'

export interface CommandFacts {
  readonly command: {
    command_id: string
    command_type: string
    actor_kind: string
    actor_id: string
    summary: Record<string, unknown>
    issued_at: Date
    projected_at: Date
  }
  readonly proofs: readonly {
    result_id: string
    circuit: string
    status: string
    public_signals: string[]
    reason: string | null
    duration_ms: number
    produced_at: Date
  }[]
  readonly propagations: readonly {
    target_chain: string
    outcome: string
    tx_hash: string | null
    reason: string | null
    at: Date
  }[]
  readonly alerts: readonly {
    alert_id: string
    kind: string
    severity: string
    summary: string
    detected_at: Date
  }[]
  readonly audit: readonly { audit_id: string; action: string; occurred_at: Date }[]
}

const OK_PROPAGATION = new Set(['PROPAGATED', 'ALREADY_PRESENT'])

/** Pure: decides the status and history from the facts. */
export function commandLife(facts: CommandFacts, connectedChains: readonly string[]) {
  const { command } = facts
  const history: { status: CommandStatus; at: string }[] = [
    { status: 'accepted', at: command.issued_at.toISOString() },
  ]
  let terminal: { status: 'done' | 'failed'; at: Date } | undefined
  // `command.*` records (received, accepted, replayed) say the command arrived, not that
  // any consumer works on it: only the others mark it processing.
  const progressTimes: Date[] = facts.audit
    .filter((record) => !record.action.startsWith('command.'))
    .map((record) => record.occurred_at)
  let result: Record<string, unknown> | null = null

  if (command.command_type === 'ProveCommand' || command.command_type === 'VerifyCommand') {
    const latest = [...facts.proofs].sort((a, b) => b.produced_at.getTime() - a.produced_at.getTime())[0]
    if (latest) {
      terminal = { status: latest.status === 'REJECTED' ? 'failed' : 'done', at: latest.produced_at }
      result = {
        resultId: latest.result_id,
        proofStatus: latest.status,
        circuit: latest.circuit,
        publicSignals: latest.public_signals,
        reason: latest.reason,
        durationMs: latest.duration_ms,
      }
    }
  }

  if (command.command_type === 'PropagateNullifierCommand') {
    const listed = (command.summary.targetChains as string[] | undefined) ?? []
    const source = command.summary.sourceChain as string
    // An empty list means every connected chain but the source (the command's contract).
    const targets = listed.length > 0 ? listed : connectedChains.filter((chain) => chain !== source)
    const byTarget = new Map(facts.propagations.map((row) => [row.target_chain, row]))
    const reported = targets.filter((chain) => byTarget.has(chain))
    for (const row of facts.propagations) progressTimes.push(row.at)
    if (facts.propagations.length > 0) {
      result = {
        targets: targets.map((chain) => {
          const row = byTarget.get(chain)
          return row
            ? {
                chain,
                outcome: row.outcome,
                txHash: row.tx_hash,
                reason: row.reason,
                at: row.at.toISOString(),
              }
            : { chain, outcome: 'PENDING' }
        }),
      }
    }
    if (targets.length > 0 && reported.length === targets.length) {
      const rows = reported.map((chain) => byTarget.get(chain)!)
      const at = new Date(Math.max(...rows.map((row) => row.at.getTime())))
      terminal = { status: rows.every((row) => OK_PROPAGATION.has(row.outcome)) ? 'done' : 'failed', at }
    }
  }

  // Any command: the consumer that acted on it reports its end in the audit trail.
  if (!terminal) {
    const ending = facts.audit.find((record) => /\.(completed|failed|rejected)$/.test(record.action))
    if (ending)
      terminal = { status: ending.action.endsWith('.completed') ? 'done' : 'failed', at: ending.occurred_at }
  }

  const firstProgress = progressTimes
    .filter((time) => !terminal || time.getTime() < terminal.at.getTime())
    .sort((a, b) => a.getTime() - b.getTime())[0]
  if (firstProgress) history.push({ status: 'processing', at: firstProgress.toISOString() })
  if (terminal) history.push({ status: terminal.status, at: terminal.at.toISOString() })
  const status = history[history.length - 1]!.status

  return {
    commandId: command.command_id,
    type: command.command_type,
    status,
    actor: { kind: command.actor_kind, id: command.actor_id },
    issuedAt: command.issued_at.toISOString(),
    summary: command.summary,
    history,
    result,
    alerts: facts.alerts.map((alert) => ({
      alertId: alert.alert_id,
      kind: alert.kind,
      severity: alert.severity,
      summary: alert.summary,
      detectedAt: alert.detected_at.toISOString(),
    })),
    audit: facts.audit.map((record) => ({
      auditId: record.audit_id,
      action: record.action,
      occurredAt: record.occurred_at.toISOString(),
    })),
  }
}

/**
 * Loads the facts about one command; undefined when the projector has not seen it or,
 * with `visibleTo`, when it is not that actor's. Visibility is part of the first query, so
 * another caller's command costs exactly what an unknown id costs: nothing tells them apart.
 */
export async function loadCommandFacts(
  pool: Pool,
  commandId: string,
  visibleTo?: { kind: string; id: string },
): Promise<CommandFacts | undefined> {
  const { rows } = await pool.query<CommandFacts['command']>(
    `SELECT command_id, command_type, actor_kind, actor_id, summary, issued_at, projected_at
     FROM read_commands
     WHERE command_id = $1 AND ($2::text IS NULL OR (actor_kind = $2 AND actor_id = $3))`,
    [commandId, visibleTo?.kind ?? null, visibleTo?.id ?? null],
  )
  const command = rows[0]
  if (!command) return undefined
  const isProof = command.command_type === 'ProveCommand' || command.command_type === 'VerifyCommand'
  const isPropagation = command.command_type === 'PropagateNullifierCommand'
  const [proofs, propagations, alerts, audit] = await Promise.all([
    isProof
      ? pool.query<CommandFacts['proofs'][number]>(
          `SELECT result_id, circuit, status, public_signals, reason, duration_ms, produced_at
           FROM read_proof_results WHERE command_id = $1 ORDER BY produced_at`,
          [commandId],
        )
      : { rows: [] },
    isPropagation
      ? pool.query<CommandFacts['propagations'][number]>(
          `SELECT DISTINCT ON (target_chain) target_chain, outcome, tx_hash, reason, at
           FROM read_nullifier_propagations
           WHERE scope = $1 AND nullifier = $2 AND source_chain = $3
           ORDER BY target_chain, at DESC`,
          [command.summary.scope, command.summary.nullifier, command.summary.sourceChain],
        )
      : { rows: [] },
    pool.query<CommandFacts['alerts'][number]>(
      `SELECT alert_id, kind, severity, summary, detected_at FROM read_alerts
       WHERE details ->> 'commandId' = $1 ORDER BY detected_at`,
      [commandId],
    ),
    pool.query<CommandFacts['audit'][number]>(
      `SELECT audit_id, action, occurred_at FROM read_audit_references
       WHERE refs @> ARRAY[$1]::text[] ORDER BY occurred_at, sequence`,
      [commandId],
    ),
  ])
  return {
    command,
    proofs: proofs.rows,
    propagations: propagations.rows,
    alerts: alerts.rows,
    audit: audit.rows,
  }
}
