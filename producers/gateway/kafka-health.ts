import type { Admin } from 'kafkajs'
import type { Bus } from '../../core/bus/connect.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { Common } from '../../core/context.ts'
import type { Pool } from '../../core/db/pool.ts'
import { describeError } from '../../core/errors.ts'

const PROBE_TIMEOUT_MS = 2_000

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * What the gateway depends on, probed every `intervalMs`: Kafka (the command topic's
 * metadata), the schema registry and Postgres. The producer is connected here, in the
 * background, so the gateway starts (and answers 503) while Kafka is away and recovers
 * without a restart when it returns. A failed publish marks Kafka down at once, so
 * further requests are refused fast until a probe sees it back.
 */
export function createDependencyHealth(
  common: Common,
  options: { bus: Bus; producer: BusProducer; pool: Pool; intervalMs?: number },
) {
  const { bus, producer, pool } = options
  const logger = common.logger.child({ component: 'dependencies' })
  const state = { kafka: false, registry: false, database: false, producer: false }
  let admin: Admin | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  const probeKafka = async () => {
    admin ??= bus.kafka.admin()
    try {
      await withTimeout(
        (async () => {
          await admin!.connect()
          await admin!.fetchTopicMetadata({ topics: [bus.topics.command.name] })
        })(),
        PROBE_TIMEOUT_MS,
        'Kafka metadata',
      )
      return true
    } catch {
      // A fresh admin next time: one stuck on a dead connection would stay stuck.
      const stale = admin
      admin = undefined
      void stale?.disconnect().catch(() => undefined)
      return false
    }
  }

  const probeRegistry = async () => {
    const auth = common.config.schemaRegistry.auth
    try {
      const response = await fetch(`${common.config.schemaRegistry.url}/subjects`, {
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
        headers: auth
          ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
          : {},
      })
      await response.body?.cancel()
      return response.ok
    } catch {
      return false
    }
  }

  const probeDatabase = async () => {
    try {
      await withTimeout(pool.query('SELECT 1'), PROBE_TIMEOUT_MS, 'database')
      return true
    } catch {
      return false
    }
  }

  const probe = async () => {
    const [kafka, registry, database] = await Promise.all([probeKafka(), probeRegistry(), probeDatabase()])
    if (kafka && registry && !state.producer) {
      try {
        await withTimeout(producer.connect(), 10_000, 'producer connect')
        state.producer = true
        logger.info('producer connected')
      } catch (error) {
        logger.warn({ err: describeError(error) }, 'producer not connected yet; will retry')
      }
    }
    for (const [name, ok] of Object.entries({ kafka, registry, database }) as [
      keyof typeof state,
      boolean,
    ][]) {
      if (state[name] !== ok) logger[ok ? 'info' : 'warn'](`${name} ${ok ? 'reachable' : 'unreachable'}`)
      state[name] = ok
    }
  }

  const loop = async () => {
    if (stopped) return
    await probe().catch(() => undefined)
    if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 1_000)
  }

  return {
    /** Starts probing; resolves after the first round. */
    async start() {
      await loop()
    },
    /** Ready to accept commands: the producer is connected and Kafka answers. */
    canPublish: () => state.producer && state.kafka,
    markKafkaDown() {
      if (state.kafka) logger.warn('Kafka marked unreachable after a failed publish')
      state.kafka = false
    },
    checks: () => ({ ...state }),
    async stop() {
      stopped = true
      clearTimeout(timer)
      await admin?.disconnect().catch(() => undefined)
    },
  }
}

export type DependencyHealth = ReturnType<typeof createDependencyHealth>
