import type { FastifyInstance } from 'fastify'
import { createKafka } from '../../core/bus/kafka.ts'
import { sleep } from '../../core/bus/retry.ts'
import { namespacedTopics } from '../../core/bus/topics.ts'
import type { Common } from '../../core/context.ts'
import { describeError } from '../../core/errors.ts'
import { counter, gauge, histogram } from '../../core/metrics/define.ts'
import { startOpsServer } from '../../core/ops/server.ts'
import { waitFor } from '../../core/service/wait.ts'
import { createLagState } from './monitor.ts'
import { pollCluster } from './poll.ts'

/**
 * `veridis lag`: polls the cluster, judges every consumer group, and serves the result as
 * Prometheus metrics (/metrics), JSON (/api/v1/lag) and the dashboard (/). A process of
 * its own: it watches the consumers, so it must not share their fate.
 */
export async function runLagMonitor(
  common: Common,
  options: { port: number; dashboard?: (app: FastifyInstance) => void | Promise<void> },
) {
  const { logger, config } = common
  const settings = config.lagMonitor
  const kafka = createKafka({ config: config.kafka, clientId: 'veridis-lag-monitor', logger })
  let admin = kafka.admin()
  const dlqTopic = namespacedTopics(config.namespace).deadLetter.name
  const registry = common.metrics.registry
  const pollDuration = histogram(
    registry,
    'veridis_lag_poll_duration_seconds',
    'Time one poll of the cluster (admin calls and evaluation) took.',
    [],
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  )
  const pollErrors = counter(registry, 'veridis_lag_poll_errors_total', 'Polls that failed.', [])
  const lastSuccess = gauge(
    registry,
    'veridis_lag_last_successful_poll_timestamp_seconds',
    'When a poll last succeeded; the exported lag is as old as this.',
    [],
  )
  const state = createLagState({
    registry: common.metrics.registry,
    window: settings.window,
    pollIntervalMs: settings.pollMs,
    dlqTopic,
  })
  let lastSuccessAt = 0
  // Ready while the numbers are fresh: a monitor that keeps failing must not look healthy.
  const fresh = () => Date.now() - lastSuccessAt < Math.max(3 * settings.pollMs, 15_000)

  const { port } = await startOpsServer(common, {
    port: options.port,
    checks: [{ name: 'recent successful poll', check: fresh }],
    extend: async (app) => {
      app.get('/api/v1/lag', async (_request, reply) =>
        reply.header('cache-control', 'no-store').send(state.view()),
      )
      await options.dashboard?.(app)
    },
  })

  await waitFor('Kafka', () => admin.connect(), { logger, signal: common.shutdown.signal })
  common.shutdown.onShutdown('admin client', () => admin.disconnect())

  const pollNow = async () => {
    const timer = pollDuration.startTimer()
    try {
      const snapshot = await pollCluster(admin, {
        ...(settings.groupFilter ? { groupFilter: settings.groupFilter } : {}),
        extraTopics: [dlqTopic],
      })
      state.update(snapshot)
      lastSuccessAt = Date.now()
      lastSuccess.set(lastSuccessAt / 1000)
    } catch (error) {
      pollErrors.inc()
      logger.warn({ err: describeError(error) }, 'poll failed; reconnecting the admin client')
      // kafkajs's admin keeps asking for metadata of every topic it has seen; once one of
      // them is deleted every later call fails. A new client starts with a clean slate.
      const broken = admin
      admin = kafka.admin()
      await broken.disconnect().catch(() => undefined)
      await admin.connect().catch(() => undefined)
    } finally {
      timer()
    }
  }
  // One poll at a time: an older snapshot finishing last would overwrite a newer one and
  // feed observations out of order (a false REWIND).
  let inFlight: Promise<void> | undefined
  const pollOnce = (): Promise<void> => {
    inFlight ??= pollNow().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }

  // Polls on a fixed cadence; a slow poll delays the next one rather than overlapping it.
  const loop = (async () => {
    while (!common.shutdown.signal.aborted) {
      const started = Date.now()
      await pollOnce()
      await sleep(Math.max(0, settings.pollMs - (Date.now() - started)), common.shutdown.signal)
    }
  })()
  common.shutdown.onShutdown('poll loop', () => loop)
  logger.info({ port, pollMs: settings.pollMs, window: settings.window }, 'lag monitor running')
  return { port, state, pollOnce }
}
