import { randomUUID } from 'node:crypto'
import type { AuditFact } from '../../core/bus/types.ts'
import type { Common } from '../../core/context.ts'
import { describeError } from '../../core/errors.ts'
import { gatewayMetrics } from '../../core/metrics/protocol.ts'
import type { BatchingPublisher } from './batching.ts'
import type { DependencyHealth } from './kafka-health.ts'

const MAX_QUEUED = 50_000
const RETRY_MS = 1_000

export type AuditFactInput = Omit<AuditFact, 'factId' | 'occurredAt'>

/**
 * One audit fact per accepted or refused command request, onto veridis.audit.intake.v1
 * (keyed by actor id). Requests never wait for it: facts are queued and published in
 * batches of their own (never sharing an outcome with commands); a failed batch is retried
 * after RETRY_MS. While Kafka is away (the very time requests are refused with
 * 503) facts wait here and are published when it returns; only beyond MAX_QUEUED are the
 * oldest dropped, counted and logged, so an outage cannot exhaust memory.
 */
export function createAuditWriter(
  common: Common,
  options: { publisher: BatchingPublisher; topic: string; health: DependencyHealth },
) {
  const logger = common.logger.child({ component: 'audit-intake' })
  const written = gatewayMetrics(common.metrics.registry).auditFacts
  let queue: AuditFact[] = []
  let flushing = false
  let retryTimer: NodeJS.Timeout | undefined

  const flush = async () => {
    // After a failure, the retry timer decides when to try again (not every new fact).
    if (flushing || retryTimer || queue.length === 0) return
    if (!options.health.canPublish()) {
      scheduleRetry()
      return
    }
    flushing = true
    const batch = queue
    queue = []
    // Every record's outcome is awaited before the next attempt: re-sending while a part
    // is still in flight would duplicate it. Only the facts whose publish failed go back.
    const outcomes = await Promise.allSettled(
      batch.map((fact) =>
        options.publisher.publish(options.topic, { key: fact.actor.id, value: fact, eventId: fact.factId }),
      ),
    )
    const unpublished: AuditFact[] = []
    let firstError: unknown
    for (const [index, fact] of batch.entries()) {
      const outcome = outcomes[index]
      if (outcome?.status === 'fulfilled') {
        written.inc({ action: fact.action, outcome: 'published' })
      } else {
        unpublished.push(fact)
        firstError ??= outcome?.reason
      }
    }
    const failed = unpublished.length > 0
    if (failed) {
      // A partial failure may have written some of a batch: they carry factIds, so a second
      // copy of one is recognisable downstream.
      queue = [...unpublished, ...queue]
      logger.warn(
        { err: describeError(firstError), unpublished: unpublished.length, queued: queue.length },
        'audit facts not published; will retry',
      )
    }
    flushing = false
    if (failed) scheduleRetry()
    else if (queue.length > 0) void flush()
  }

  const scheduleRetry = () => {
    if (retryTimer) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void flush()
    }, RETRY_MS)
    retryTimer.unref()
  }

  return {
    write(input: AuditFactInput) {
      const fact: AuditFact = { ...input, factId: randomUUID(), occurredAt: Date.now() }
      queue.push(fact)
      if (queue.length > MAX_QUEUED) {
        const dropped = queue.splice(0, queue.length - MAX_QUEUED)
        for (const lost of dropped) written.inc({ action: lost.action, outcome: 'dropped' })
        logger.error({ dropped: dropped.length }, 'audit intake queue full; oldest facts dropped')
      }
      if (!flushing) queueMicrotask(() => void flush())
    },
    get queued() {
      return queue.length
    },
    /** Publishes what is queued, waiting at most `timeoutMs` (shutdown). */
    async drain(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs
      while ((queue.length > 0 || flushing) && Date.now() < deadline) {
        void flush()
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      clearTimeout(retryTimer)
      retryTimer = undefined
      if (queue.length > 0) logger.error({ lost: queue.length }, 'audit facts not published before shutdown')
    },
  }
}

export type AuditWriter = ReturnType<typeof createAuditWriter>
