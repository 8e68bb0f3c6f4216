import type { ConsumedMessage, HandlerContext } from '../../core/bus/consumer.ts'
import { handleByTopic } from '../../core/bus/topic-handlers.ts'
import { nullifierKey } from '../../core/bus/topics.ts'
import { exactlyOnce } from '../../core/db/exactly-once.ts'
import { nullifierMetrics, securityMetrics } from '../../core/metrics/protocol.ts'
import type { ConsumerModule } from '../../core/service/consumer-process.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import type { NullifierEvent } from '../../schemas/generated/veridis.chain.nullifier.v1.ts'
import type { Command } from '../../schemas/generated/veridis.command.v1.ts'
import { answerCommand, commandMessageId, planCommands, propagateRequests } from './command.ts'
import { startFollower } from './follow.ts'
import { advanceAll, createPropagationDriver, type PropagationRow, plannedPropagations } from './propagate.ts'
import { nullifierMessageId, recordUses } from './record.ts'
import { createSenderLock } from './sender-lock.ts'
import { createWriters } from './writers/index.ts'

// Propagations signed and sent at once per chunk; nonces are still taken one at a time per chain.
const DRIVE_CONCURRENCY = 32

const keysOf = (messages: readonly ConsumedMessage<NullifierEvent>[]) => [
  ...new Map(
    messages.map(({ value }) => {
      const scope = /^[0-9]+$/.test(value.scope) ? BigInt(value.scope).toString() : value.scope
      const nullifier = /^[0-9]+$/.test(value.nullifier)
        ? BigInt(value.nullifier).toString()
        : value.nullifier
      return [nullifierKey({ scope, nullifier }), { scope, nullifier }]
    }),
  ).values(),
]

/** One id per outcome reached: a propagation reopened after a reorg reaches another, later one. */
export const propagationId = (
  row: Pick<PropagationRow, 'source_event_id' | 'target_chain' | 'completed_ms'>,
) => `${row.source_event_id}:${row.target_chain}:${Math.round(row.completed_ms ?? 0)}`

/**
 * The nullifier consumer: records every use of every nullifier on every chain (first use
 * per scope wins), raises one DOUBLE_NULLIFIER_USE alert per proven double use, and copies
 * each first use into the registry of every other connected chain, publishing one outcome
 * per target chain. docs/nullifiers.md explains the finality and crash rules.
 *
 * Per chunk: first the uses, projection, alerts and planned propagations, in one
 * transaction with the exactly-once bookkeeping; then, outside it, the alerts are published
 * and the chunk's planned propagations signed, recorded and sent. The second half runs again
 * on redelivery (its work is recorded step by step), so a crash anywhere resumes it. Sent
 * transactions are followed to their outcome by a follower loop (./follow.ts) that picks up
 * whatever any process sent, so the handler never waits for a block.
 *
 * It also acts on PropagateNullifierCommands from veridis.command.v1 (./command.ts), once
 * per idempotency key: outcomes for every requested target, re-planning FAILED ones.
 */
export const nullifiersConsumer: ConsumerModule<NullifierEvent | Command> = {
  name: 'nullifiers',
  description: 'records nullifier uses, alerts on double use, propagates first uses to every other chain',
  produces: ['alert', 'propagation'],
  create: ({ common, bus, pool, publisher, group }) => {
    const { config, logger } = common
    const writers = createWriters(config)
    common.shutdown.onShutdown('nullifier writers', () => {
      for (const writer of writers.values()) writer.close()
    })
    const targets = [...writers.keys()]
    logger.info(
      { chains: targets, relayers: Object.fromEntries([...writers].map(([chain, w]) => [chain, w.sender])) },
      'propagating nullifiers between chains',
    )
    const metrics = nullifierMetrics(common.metrics.registry)
    const security = securityMetrics(common.metrics.registry)
    const publishOutcomes = async (rows: readonly PropagationRow[]) => {
      await publisher.publish(
        'propagation',
        rows.map((row) => ({
          eventId: propagationId(row),
          value: {
            scope: row.scope,
            nullifier: row.nullifier,
            sourceChain: row.source_chain,
            sourceEventId: row.source_event_id,
            targetChain: row.target_chain,
            outcome: row.outcome!,
            txHash: row.tx_hash,
            reason: row.reason,
            latencyMs: row.latency_ms,
            at: Math.round(row.completed_ms ?? Date.now()),
          },
        })),
      )
      await pool.query(
        `UPDATE nullifier_propagations SET published_at = now()
         WHERE (source_event_id, target_chain) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [rows.map((row) => row.source_event_id), rows.map((row) => row.target_chain)],
      )
    }
    const driver = createPropagationDriver({
      pool,
      writers,
      withSenderLock: createSenderLock(pool),
      logger,
      maxAttempts: config.relayer.maxAttempts,
      backoffMs: config.consumer.backoffMs,
      backoffMaxMs: config.consumer.backoffMaxMs,
      fault: config.relayer.fault,
      publish: (row) => publishOutcomes([row]),
      onOutcome: (row, outcome) => {
        const labels = { source_chain: row.source_chain, target_chain: row.target_chain }
        metrics.propagations.inc({ ...labels, outcome: outcome.outcome })
        if (outcome.outcome === 'PROPAGATED' && outcome.latencyMs !== null)
          metrics.propagationLatency.observe(labels, outcome.latencyMs / 1000)
      },
    })
    const follower = startFollower({
      pool,
      driver,
      chains: targets,
      publish: publishOutcomes,
      logger,
      signal: common.shutdown.signal,
      backoffMs: config.consumer.backoffMs,
      backoffMaxMs: config.consumer.backoffMaxMs,
      stuckAfterMs: config.relayer.receiptTimeoutMs,
    })
    common.shutdown.onShutdown('propagation follower', () => follower.stopped)

    const record = exactlyOnce<NullifierEvent>({
      pool,
      group,
      idOf: nullifierMessageId,
      effect: async (messages, client) => {
        await recordUses(messages, client, targets)
      },
      duplicates: common.metrics.bus.duplicatesSkipped,
    })

    const publishAlerts = async (keys: ReturnType<typeof keysOf>) => {
      const { rows } = await pool.query<{ alert_id: string; record: Alert }>(
        `SELECT alert_id, record FROM nullifier_alerts
         WHERE (scope, nullifier) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND published_at IS NULL`,
        [keys.map((key) => key.scope), keys.map((key) => key.nullifier)],
      )
      if (rows.length === 0) return
      await publisher.publish(
        'alert',
        rows.map(({ record: alert }) => ({ value: alert, eventId: alert.alertId })),
      )
      await pool.query('UPDATE nullifier_alerts SET published_at = now() WHERE alert_id = ANY($1)', [
        rows.map((row) => row.alert_id),
      ])
      for (const { record: alert } of rows) {
        security.events.inc({ kind: alert.kind, severity: alert.severity })
        logger.warn({ alertId: alert.alertId, summary: alert.summary }, 'double nullifier use')
      }
    }

    /** Signs and sends the chunk's planned propagations; the follower takes them from there. */
    const propagate = async (keys: ReturnType<typeof keysOf>, context: HandlerContext) => {
      await drive(await plannedPropagations(pool, keys), context)
    }
    const drive = (planned: readonly PropagationRow[], context: HandlerContext) =>
      advanceAll(driver, planned, context, DRIVE_CONCURRENCY)

    const planForCommands = exactlyOnce<Command>({
      pool,
      group,
      idOf: commandMessageId,
      effect: async (messages, client) => {
        await planCommands(
          client,
          propagateRequests(messages).map(({ request }) => request),
          targets,
        )
      },
      duplicates: common.metrics.bus.duplicatesSkipped,
    })

    /**
     * PropagateNullifierCommands: re-plans and plans once per command (in the exactly-once
     * transaction), then — on every delivery, so a crash in between is resumed — publishes the
     * refusals and the finished outcomes again and drives what is planned.
     */
    const handleCommands = async (messages: readonly ConsumedMessage<Command>[], context: HandlerContext) => {
      const requests = propagateRequests(messages)
      if (requests.length === 0) return
      await planForCommands(
        requests.map(({ message }) => message),
        context,
      )
      for (const { message, request } of requests) {
        const answer = await answerCommand(pool, request, targets)
        if (answer.refusals.length > 0) {
          await publisher.publish(
            'propagation',
            answer.refusals.map((refusal) => ({
              eventId: refusal.eventId,
              value: refusal.value,
              ...(message.traceparent ? { traceparent: message.traceparent } : {}),
            })),
          )
          // Not counted in veridis_nullifier_propagations_total: a refused target chain is any
          // string a caller wrote, and would be a label value of its choosing.
          logger.info(
            {
              commandId: request.command.commandId,
              scope: request.scope,
              nullifier: request.nullifier,
              source: request.sourceChain,
              refused: answer.refusals.map(({ value }) => ({
                target: value.targetChain,
                reason: value.reason,
              })),
            },
            'propagate command: targets refused',
          )
        }
        if (answer.done.length > 0) await publishOutcomes(answer.done)
        await drive(answer.planned, context)
      }
    }

    return {
      name: 'nullifiers',
      ...handleByTopic(bus.topics, {
        command: handleCommands,
        nullifier: async (events, context) => {
          await record(events, context)
          const keys = keysOf(events)
          await publishAlerts(keys)
          await propagate(keys, context)
        },
      }),
    }
  },
}
