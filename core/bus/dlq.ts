import type { KafkaMessage } from 'kafkajs'
import type { Counter } from 'prom-client'
import { describeError } from '../errors.ts'
import type { AvroCodec } from './codec.ts'
import type { BusProducer } from './producer.ts'
import { HEADER } from './producer.ts'

export type DeadLetterReason = 'UNDECODABLE' | 'HANDLER_FAILED' | 'NON_RETRYABLE'

const MAX_ERROR_MESSAGE = 2_000
// The dead letter repeats the original key, value and headers; an original near Kafka's
// record limit would make a dead letter over it, and the partition could never move on.
// Past this size the value is left out: it is still at its topic, partition and offset.
const MAX_ORIGINAL_VALUE_BYTES = 512 * 1024

/**
 * Sends a message the consumer gives up on to `veridis.dlq.v1` with its original bytes,
 * the error and the attempt count, keyed by the original key so a replay tool can restore
 * partitioning. Publishing is acks=all and throws on failure: the caller must not commit
 * the offset of a message that is neither handled nor dead-lettered.
 */
export function createDeadLetterQueue(options: {
  producer: BusProducer
  codec: AvroCodec
  group: string
  metrics: Counter<'group' | 'topic' | 'reason'>
  topic: string
  /** Topics whose values are never copied into a dead letter (see TopicDeclaration). */
  secretTopics?: ReadonlySet<string>
}) {
  const dlqTopic = options.topic
  return {
    async send(failure: {
      topic: string
      partition: number
      message: KafkaMessage
      error: unknown
      attempts: number
      firstFailedAt: number
      reason: DeadLetterReason
    }) {
      const { message } = failure
      const headers: Record<string, Buffer> = {}
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        const first = Array.isArray(value) ? value[0] : value
        if (first !== undefined) headers[name] = Buffer.isBuffer(first) ? first : Buffer.from(String(first))
      }
      let originalKey: string
      try {
        originalKey =
          (await options.codec.decodeKey(message.key)) ??
          `${failure.topic}/${failure.partition}/${message.offset}`
      } catch {
        originalKey = `${failure.topic}/${failure.partition}/${message.offset}`
      }
      const described = describeError(failure.error)
      const originalValue = message.value ?? null
      const secret = options.secretTopics?.has(failure.topic) ?? false
      const omitted = originalValue !== null && (secret || originalValue.length > MAX_ORIGINAL_VALUE_BYTES)
      const why = secret ? 'it may hold secrets' : `${originalValue?.length} bytes`
      const errorMessage = omitted
        ? `${described.message.slice(0, MAX_ERROR_MESSAGE)} [original value omitted (${why}); read it at ${failure.topic}/${failure.partition}/${message.offset}]`
        : described.message.slice(0, MAX_ERROR_MESSAGE)
      const eventId =
        headers[HEADER.eventId]?.toString('utf8') ?? `${failure.topic}/${failure.partition}/${message.offset}`
      await options.producer.publish(dlqTopic, [
        {
          key: originalKey,
          eventId,
          ...(headers[HEADER.traceparent]
            ? { traceparent: headers[HEADER.traceparent]!.toString('utf8') }
            : {}),
          value: {
            topic: failure.topic,
            partition: failure.partition,
            offset: message.offset,
            timestamp: Number(message.timestamp),
            key: message.key ?? null,
            value: omitted ? null : originalValue,
            headers,
            consumerGroup: options.group,
            reason: failure.reason,
            errorName: described.name,
            errorMessage,
            attempts: failure.attempts,
            firstFailedAt: failure.firstFailedAt,
            deadLetteredAt: Date.now(),
          },
        },
      ])
      options.metrics.inc({ group: options.group, topic: failure.topic, reason: failure.reason })
    },
  }
}
