import type { Batch, Consumer, KafkaMessage } from 'kafkajs'
import type { Common } from '../context.ts'
import { describeError, isTransient, NonRetryableError } from '../errors.ts'
import type { Logger } from '../logging/logger.ts'
import {
  contextFromTraceparent,
  failSpan,
  inSpan,
  linkTo,
  rootContext,
  SPAN_KIND,
  type Span,
  startSpan,
  traceparentOf,
  tracingEnabled,
} from '../tracing/tracing.ts'
import type { Bus } from './connect.ts'
import { createDeadLetterQueue, type DeadLetterReason } from './dlq.ts'
import type { BusProducer } from './producer.ts'
import { HEADER } from './producer.ts'
import { backoffDelay, sleep } from './retry.ts'
import { groupId } from './topics.ts'

export interface ConsumedMessage<T = unknown> {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly timestamp: number
  readonly key: string | null
  readonly value: T
  readonly headers: Readonly<Record<string, string>>
  readonly eventId: string | undefined
  /**
   * The context to continue: the header's, or with tracing on the consumer span recorded for
   * this message (a child of the header's), so what the handler publishes descends from it.
   */
  readonly traceparent: string | undefined
  readonly raw: KafkaMessage
}

export interface HandlerContext {
  readonly logger: Logger
  /** Aborted when the process is shutting down. */
  readonly signal: AbortSignal
  /**
   * Keeps this member in its group during long work (a chunk of proofs can outlast the
   * session timeout): call it between units of work. Throws when the process is stopping
   * or the partition was taken away, so the rest of the chunk is not worked on in vain.
   */
  readonly heartbeat: () => Promise<void>
}

/**
 * Handles a chunk of messages from one partition, in offset order. It either completes
 * every effect or throws: the runner retries the chunk, then isolates the message that
 * keeps failing and dead-letters it. Effects must therefore be idempotent or guarded by
 * `exactlyOnce` (core/db/exactly-once.ts).
 */
export type BatchHandler<T = unknown> = (
  messages: readonly ConsumedMessage<T>[],
  context: HandlerContext,
) => Promise<void>

export interface ConsumerDefinition<T = unknown> {
  /** Short name: the group id is `[<namespace>.]veridis.<name>` unless `groupId` says otherwise. */
  readonly name: string
  readonly groupId?: string
  readonly topics: readonly string[]
  /** Where a brand-new group starts. Defaults to the beginning: a new projection sees every fact. */
  readonly fromBeginning?: boolean
  readonly handle: BatchHandler<T>
}

/** Raised inside the runner to stop working on a batch without committing the rest of it. */
class AbandonBatch extends Error {}

const HEARTBEAT_SLICE_MS = 2_000

function decodeHeaders(message: KafkaMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) headers[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first)
  }
  return headers
}

/**
 * Runs a consumer definition against the bus: batches with heartbeats, commit after
 * processing, retries with backoff and jitter, poison messages to the dead-letter topic,
 * and a clean stop on shutdown. Transient failures (database or broker away) are retried
 * without limit so an outage never floods the dead-letter topic; any other failure counts
 * against the message's attempts.
 */
export function createConsumerRunner<T>(
  common: Common,
  options: { bus: Bus; producer: BusProducer; definition: ConsumerDefinition<T> },
) {
  const { definition, bus } = options
  const group = definition.groupId ?? groupId(common.config.namespace, definition.name)
  const logger = common.logger.child({ consumer: definition.name, group })
  const settings = common.config.consumer
  const metrics = common.metrics.bus
  const deadLetters = createDeadLetterQueue({
    producer: options.producer,
    codec: bus.codec,
    group,
    metrics: metrics.deadLetters,
    topic: bus.topics.deadLetter.name,
    secretTopics: new Set(
      Object.values(bus.topics)
        .filter((topic) => topic.carriesSecrets)
        .map((topic) => topic.name),
    ),
  })
  const consumer: Consumer = bus.kafka.consumer({
    groupId: group,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: 3_000,
    maxBytesPerPartition: 4 * 1024 * 1024,
    allowAutoTopicCreation: false,
    retry: { retries: 10 },
  })
  let ready = false
  const stopping = new AbortController()
  const signal = AbortSignal.any([stopping.signal, common.shutdown.signal])

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    ready = true
    metrics.consumerReady.set({ group }, 1)
    logger.info({ memberId: payload.memberId, assignment: payload.memberAssignment }, 'joined group')
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    ready = false
    metrics.consumerReady.set({ group }, 0)
    logger.error({ err: describeError(payload.error), restart: payload.restart }, 'consumer crashed')
    // kafkajs will not restart it: a process that stays up without consuming would look
    // healthy while doing nothing, so exit and let the supervisor start a fresh one.
    if (!payload.restart) void common.shutdown.shutdown('consumer crashed and will not restart', 1)
  })
  consumer.on(consumer.events.DISCONNECT, () => {
    ready = false
    metrics.consumerReady.set({ group }, 0)
  })

  const decode = async (
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): Promise<ConsumedMessage<T>> => {
    const headers = decodeHeaders(message)
    const [key, value] = await Promise.all([
      bus.codec.decodeKey(message.key),
      bus.codec.decodeValue(topic, message.value),
    ])
    return {
      topic,
      partition,
      offset: message.offset,
      timestamp: Number(message.timestamp),
      key,
      value: value as T,
      headers,
      eventId: headers[HEADER.eventId],
      traceparent: headers[HEADER.traceparent],
      raw: message,
    }
  }

  const processBatch = async (
    batch: Batch,
    controls: {
      resolveOffset: (offset: string) => void
      heartbeat: () => Promise<void>
      commitOffsetsIfNecessary: () => Promise<void>
      isRunning: () => boolean
      isStale: () => boolean
    },
  ) => {
    const { topic, partition } = batch
    metrics.batchSize.observe({ group }, batch.messages.length)

    /** Stops work on this batch when the process shuts down or the partition was taken away. */
    const abandonIfStopping = () => {
      if (signal.aborted || !controls.isRunning() || controls.isStale()) throw new AbandonBatch()
    }

    const handlerHeartbeat = async () => {
      abandonIfStopping()
      await controls.heartbeat()
    }

    const waitWithHeartbeat = async (ms: number) => {
      for (let left = ms; left > 0; left -= HEARTBEAT_SLICE_MS) {
        abandonIfStopping()
        await sleep(Math.min(left, HEARTBEAT_SLICE_MS), signal)
        await controls.heartbeat()
      }
      if (signal.aborted) throw new AbandonBatch()
    }

    /** Runs the handler until it succeeds, or returns the error that should dead-letter. */
    const attempt = async (messages: readonly ConsumedMessage<T>[], isolate: boolean) => {
      let failures = 0
      let transientFailures = 0
      const firstFailedAt = Date.now()
      for (;;) {
        const timer = metrics.handlerDuration.startTimer({ group, topic })
        try {
          const handle = () => definition.handle(messages, { logger, signal, heartbeat: handlerHeartbeat })
          // Off, nothing of the span is built: its links parse every message's traceparent.
          await (tracingEnabled()
            ? inSpan(
                `handle ${definition.name}`,
                {
                  kind: SPAN_KIND.INTERNAL,
                  // One message: a child of its consumer span. A chunk: a span of its own, linked to each.
                  parent:
                    messages.length === 1 ? contextFromTraceparent(messages[0]!.traceparent) : rootContext(),
                  links: messages.flatMap((message) => linkTo(message.traceparent) ?? []),
                  attributes: {
                    'messaging.batch.message_count': messages.length,
                    'veridis.attempt': failures + 1,
                  },
                },
                handle,
              )
            : handle())
          timer()
          return undefined
        } catch (error) {
          timer()
          if (error instanceof AbandonBatch) throw error
          if (isTransient(error)) {
            transientFailures++
            metrics.retries.inc({ group, topic, kind: 'transient' })
            logger.warn(
              { err: describeError(error), attempt: transientFailures, partition },
              'transient failure, retrying',
            )
            await waitWithHeartbeat(
              backoffDelay(transientFailures, settings.backoffMs, settings.backoffMaxMs),
            )
            continue
          }
          failures++
          // A failing chunk is split so that one poison message cannot hold back the rest.
          if (!isolate) return { error, attempts: failures, firstFailedAt }
          const reason: DeadLetterReason =
            error instanceof NonRetryableError ? 'NON_RETRYABLE' : 'HANDLER_FAILED'
          if (reason === 'NON_RETRYABLE' || failures >= settings.maxAttempts) {
            return { error, attempts: failures, firstFailedAt, reason }
          }
          metrics.retries.inc({ group, topic, kind: 'handler' })
          logger.warn({ err: describeError(error), attempt: failures, partition }, 'handler failed, retrying')
          await waitWithHeartbeat(backoffDelay(failures, settings.backoffMs, settings.backoffMaxMs))
        }
      }
    }

    /** With tracing on: one consumer span per message, parented by its header, ended with its chunk. */
    const messageSpans = new Map<KafkaMessage, Span>()
    const traced = (message: ConsumedMessage<T>): ConsumedMessage<T> => {
      if (!tracingEnabled()) return message
      const span = startSpan(`process ${topic}`, {
        kind: SPAN_KIND.CONSUMER,
        parent: contextFromTraceparent(message.traceparent),
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.kafka.offset': Number(message.offset),
          'messaging.consumer.group.name': group,
        },
      })
      messageSpans.set(message.raw, span)
      return { ...message, traceparent: traceparentOf(span) }
    }

    for (let start = 0; start < batch.messages.length; start += settings.chunkSize) {
      abandonIfStopping()
      const chunk = batch.messages.slice(start, start + settings.chunkSize)
      try {
        await processChunk(chunk)
      } finally {
        for (const span of messageSpans.values()) span.end()
        messageSpans.clear()
      }
    }

    async function processChunk(chunk: KafkaMessage[]) {
      const decoded: ConsumedMessage<T>[] = []
      for (const message of chunk) {
        const outcome = await decodeWithRetry(message)
        if ('decoded' in outcome) {
          decoded.push(traced(outcome.decoded))
          continue
        }
        // Undecodable messages cannot get better with retries: dead-letter them at once.
        // Order is kept: messages before it in the chunk are handled first.
        await handleDecoded(decoded.splice(0))
        await sendDeadLetter({
          topic,
          partition,
          message,
          error: outcome.undecodable,
          attempts: 1,
          firstFailedAt: Date.now(),
          reason: 'UNDECODABLE',
        })
      }
      await handleDecoded(decoded)
      const last = chunk[chunk.length - 1]
      if (last) controls.resolveOffset(last.offset)
      await controls.heartbeat()
      await controls.commitOffsetsIfNecessary()
    }

    /**
     * Runs `work` until it succeeds, waiting out transient failures (registry or broker
     * away) with backoff and heartbeats; any other failure is thrown to the caller.
     */
    async function retryWhileTransient<R>(kind: string, what: string, work: () => Promise<R>): Promise<R> {
      for (let failures = 1; ; failures++) {
        let failure: unknown
        try {
          return await work()
        } catch (error) {
          if (!isTransient(error)) throw error
          failure = error
        }
        metrics.retries.inc({ group, topic, kind })
        logger.warn(
          { err: describeError(failure), attempt: failures, partition },
          `${what} failed transiently, retrying`,
        )
        await waitWithHeartbeat(backoffDelay(failures, settings.backoffMs, settings.backoffMaxMs))
      }
    }

    /**
     * A message that cannot be decoded is returned as such. Anything else (a failed
     * heartbeat during a rebalance, shutdown) propagates: it says nothing about the message.
     */
    function decodeWithRetry(
      message: KafkaMessage,
    ): Promise<{ decoded: ConsumedMessage<T> } | { undecodable: unknown }> {
      return retryWhileTransient('transient', 'decoding', async () => {
        try {
          return { decoded: await decode(topic, partition, message) }
        } catch (error) {
          if (isTransient(error)) throw error
          return { undecodable: error }
        }
      })
    }

    /** A dead letter must be written before its offset is resolved: wait for Kafka if it is away. */
    async function sendDeadLetter(failure: Parameters<typeof deadLetters.send>[0]) {
      const span = messageSpans.get(failure.message)
      if (span) failSpan(span, failure.error)
      await retryWhileTransient('dead-letter', 'dead-lettering', () => deadLetters.send(failure))
      metrics.messagesConsumed.inc({ group, topic, outcome: 'dead-lettered' })
    }

    async function handleDecoded(messages: ConsumedMessage<T>[]) {
      if (messages.length === 0) return
      const failure = await attempt(messages, messages.length === 1)
      if (!failure) {
        metrics.messagesConsumed.inc({ group, topic, outcome: 'handled' }, messages.length)
        return
      }
      if (messages.length > 1) {
        logger.warn(
          { err: describeError(failure.error), partition, size: messages.length },
          'chunk failed, isolating messages',
        )
        for (const message of messages) {
          // Isolating a large chunk takes a while: stay in the group and honour shutdown.
          abandonIfStopping()
          await handleDecoded([message])
          await controls.heartbeat()
        }
        return
      }
      const [message] = messages as [ConsumedMessage<T>]
      await sendDeadLetter({
        topic,
        partition,
        message: message.raw,
        error: failure.error,
        attempts: failure.attempts,
        firstFailedAt: failure.firstFailedAt,
        reason: 'reason' in failure && failure.reason ? failure.reason : 'HANDLER_FAILED',
      })
    }
  }

  return {
    group,
    consumer,
    isReady: () => ready,

    async start() {
      await consumer.connect()
      for (const topic of definition.topics) {
        await consumer.subscribe({ topic, fromBeginning: definition.fromBeginning ?? true })
      }
      await consumer.run({
        eachBatchAutoResolve: false,
        autoCommitInterval: settings.commitIntervalMs,
        // Partitions are independent: while one waits for its database commit, another decodes.
        partitionsConsumedConcurrently: settings.partitionConcurrency,
        eachBatch: async ({
          batch,
          resolveOffset,
          heartbeat,
          commitOffsetsIfNecessary,
          isRunning,
          isStale,
        }) => {
          try {
            await processBatch(batch, {
              resolveOffset,
              heartbeat,
              commitOffsetsIfNecessary: () => commitOffsetsIfNecessary(),
              isRunning,
              isStale,
            })
          } catch (error) {
            if (error instanceof AbandonBatch) {
              logger.info(
                { topic: batch.topic, partition: batch.partition },
                'batch abandoned; the rest will be redelivered',
              )
              return
            }
            throw error
          }
        },
      })
      logger.info({ topics: definition.topics }, 'consuming')
    },

    /** Finishes the chunk in hand, leaves the rest of the batch uncommitted, leaves the group. */
    async stop() {
      stopping.abort()
      ready = false
      await consumer.disconnect()
      metrics.consumerReady.set({ group }, 0)
    },
  }
}
