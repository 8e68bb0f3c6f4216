import kafkajs, { type IHeaders, type Kafka, type Message, type RecordMetadata } from 'kafkajs'
import type { Common } from '../context.ts'
import { isTransient, NonRetryableError, RetryableError } from '../errors.ts'
import type { Span } from '../tracing/tracing.ts'
import {
  contextFromTraceparent,
  failSpan,
  SPAN_KIND,
  startSpan,
  traceparentOf,
  tracingEnabled,
} from '../tracing/tracing.ts'
import type { AvroCodec } from './codec.ts'
import { partitionForKey } from './partitioner.ts'
import { createRdKafkaClient, type RdKafkaMessage, requireRdKafka } from './rdkafka.ts'
import { sleep } from './retry.ts'
import { nextTraceparent } from './trace.ts'

export interface OutgoingRecord<T = unknown> {
  /** Partitioning key; decides ordering (DESIGN §2). */
  readonly key: string
  readonly value: T
  /** Id of the fact or request carried, repeated as a header so it can be read without decoding. */
  readonly eventId: string
  /** W3C traceparent of the cause; a child span is created from it, or a new trace. */
  readonly traceparent?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Explicit partition, for the rare record that must bypass key hashing. */
  readonly partition?: number
}

// kafkajs is CommonJS; its partitioners are not visible to ESM named-import detection.
const { Partitioners } = kafkajs

// Kafka refuses a record batch over max.message.bytes (1 MiB by default), and a request
// carries one batch per partition. Records are assigned to partitions here, with the same
// murmur2 partitioner kafkajs and the Java client use (core/bus/partitioner.ts), so every
// batch is kept under the limit exactly, whatever the keys, with no more requests than needed.
const MAX_PARTITION_BYTES_PER_REQUEST = 900 * 1024
const MAX_REQUEST_BYTES = 16 * 1024 * 1024
const METADATA_MAX_AGE_MS = 60_000

type TopicMessages = { topic: string; messages: Message[] }

// Record size on the wire, near enough: key, value, headers and ~20 bytes of varints.
function messageSize(message: Message): number {
  let size = (message.key as Buffer).length + (message.value as Buffer).length + 20
  const headers = message.headers ?? {}
  for (const name in headers) size += name.length + String(headers[name]).length + 4
  return size
}

/** Splits messages (with partitions assigned) into legal requests, keeping per-partition order. */
function splitRequests(batches: readonly TopicMessages[]): TopicMessages[][] {
  const requests: TopicMessages[][] = []
  let current = new Map<string, TopicMessages>()
  let requestBytes = 0
  const partitionBytes = new Map<string, number>()
  for (const batch of batches) {
    for (const message of batch.messages) {
      const bytes = messageSize(message)
      const slot = `${batch.topic}\u0000${message.partition}`
      const inPartition = partitionBytes.get(slot) ?? 0
      if (
        (inPartition + bytes > MAX_PARTITION_BYTES_PER_REQUEST && inPartition > 0) ||
        (requestBytes + bytes > MAX_REQUEST_BYTES && requestBytes > 0)
      ) {
        requests.push([...current.values()])
        current = new Map()
        partitionBytes.clear()
        requestBytes = 0
      }
      let slice = current.get(batch.topic)
      if (!slice) {
        slice = { topic: batch.topic, messages: [] }
        current.set(batch.topic, slice)
      }
      slice.messages.push(message)
      partitionBytes.set(slot, (partitionBytes.get(slot) ?? 0) + bytes)
      requestBytes += bytes
    }
  }
  if (current.size > 0) requests.push([...current.values()])
  return requests
}

/**
 * The same defect's mark, checked on every send: an answer that names no offset for a
 * partition the send carried records to means those records were not written.
 */
function answeredForAll(request: readonly TopicMessages[], answer: readonly RecordMetadata[]): void {
  const answered = new Set(answer.map((entry) => `${entry.topicName}\u0000${entry.partition}`))
  const unanswered = request.flatMap(({ topic, messages }) =>
    [...new Set(messages.map((message) => message.partition))]
      .filter((partition) => !answered.has(`${topic}\u0000${partition}`))
      .map((partition) => `${topic}[${partition}]`),
  )
  if (unanswered.length > 0)
    throw new RetryableError(`Kafka acknowledged the send without an offset for ${unanswered.join(', ')}`)
}

/**
 * A request cut into one send per partition. kafkajs 2.2.4 (tulios/kafkajs#1303) remembers
 * which *brokers* answered a multi-broker send, and on a retry sends only to brokers with no
 * answer yet: when a killed leader's partitions move to a broker that had already answered
 * for its own, their records are never sent again and the send still resolves — acknowledged,
 * and lost (measured: 1 command of 475 in test/cluster/broker-loss.test.ts). A send that
 * names one partition has one leader, so its retry always goes wherever that partition went.
 */
function perPartition(request: readonly TopicMessages[]): TopicMessages[][] {
  return request.flatMap(({ topic, messages }) => {
    const byPartition = new Map<number, Message[]>()
    for (const message of messages) {
      const slice = byPartition.get(message.partition!) ?? []
      slice.push(message)
      byPartition.set(message.partition!, slice)
    }
    return [...byPartition.values()].map((slice) => [{ topic, messages: slice }])
  })
}

/**
 * Waits before sending a multi-broker request's failed partitions again, after kafkajs's own
 * retries (core/bus/kafka.ts) gave up on them. Without this, one partition failing failed the
 * whole publish, and the caller's resend wrote the partitions that had succeeded a second time.
 */
const PARTITION_RESEND_DELAYS_MS = [1_000, 2_000, 4_000] as const

export const HEADER = { eventId: 'eventId', traceparent: 'traceparent', producer: 'producer' } as const

/** What the bus producer needs of a client's producer: one acks=all, idempotent send. */
interface ProducerClient {
  connect(): Promise<void>
  sendBatch(topicMessages: TopicMessages[]): Promise<RecordMetadata[]>
  disconnect(): Promise<void>
}

/**
 * kafkajs's producer. One request in flight keeps per-partition order under retries;
 * throughput comes from batching many records per request instead. Every record arrives with
 * its partition assigned; the partitioner is named only so kafkajs does not warn about its
 * default.
 */
function kafkajsProducer(kafka: Kafka): ProducerClient {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  return {
    connect: () => producer.connect(),
    sendBatch: (topicMessages) => producer.sendBatch({ topicMessages, acks: -1 }),
    disconnect: () => producer.disconnect(),
  }
}

/**
 * How long librdkafka keeps a record it could not deliver, retrying, before the send fails:
 * as long as kafkajs's retries take (core/bus/kafka.ts), so a caller still answers 503 or
 * retries instead of waiting its default five minutes.
 */
const RDKAFKA_MESSAGE_TIMEOUT_MS = 30_000

/**
 * librdkafka's producer (VERIDIS_KAFKA_TRANSPORT=librdkafka), through the KafkaJS-compatible
 * API: acks and idempotence are set per producer; it batches (linger.ms 5) and keeps order
 * with up to five requests in flight, as idempotence allows. The API rewrites the messages it
 * is given (headers, partition, timestamp), so it gets copies: a failed partition is sent
 * again from the same objects.
 */
function rdKafkaProducer(common: Common, clientId: string): ProducerClient {
  const producer = createRdKafkaClient(requireRdKafka(), {
    config: common.config.kafka,
    clientId,
    logger: common.logger,
  }).producer({
    kafkaJS: { acks: -1, idempotent: true, allowAutoTopicCreation: false },
    'message.timeout.ms': RDKAFKA_MESSAGE_TIMEOUT_MS,
  })
  return {
    connect: () => producer.connect(),
    sendBatch: async (topicMessages) =>
      producer.sendBatch({
        topicMessages: topicMessages.map(({ topic, messages }) => ({
          topic,
          messages: messages.map((message) => ({ ...message }) as RdKafkaMessage),
        })),
      }),
    disconnect: () => producer.disconnect(),
  }
}

/**
 * The one way anything writes to the bus: idempotent, acks=all, Avro in the Confluent
 * wire format, standard headers. `publish` resolves when every record is acknowledged by
 * all in-sync replicas, and throws (retryably) otherwise.
 */
export function createBusProducer(
  common: Common,
  options: { kafka: Kafka; codec: AvroCodec; producerName: string; topics: readonly string[] },
) {
  const createProducer =
    common.config.kafka.transport === 'librdkafka'
      ? () => rdKafkaProducer(common, `veridis-${common.service}`)
      : () => kafkajsProducer(options.kafka)
  let producer = createProducer()
  let producerConnected = false
  const admin = options.kafka.admin()
  const { messagesProduced, produceErrors } = common.metrics.bus
  let connected = false
  let partitionCounts = new Map<string, number>()
  let metadataAt = 0
  // Whether the topics' replicas live on more than one broker, where a leader can move.
  let severalBrokers = false

  const refreshPartitionCounts = async () => {
    const metadata = await admin
      .fetchTopicMetadata({ topics: [...options.topics] })
      .catch((cause: unknown) => {
        throw new RetryableError('could not read partition metadata', { cause })
      })
    partitionCounts = new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]))
    const brokers = new Set(
      metadata.topics.flatMap((topic) =>
        topic.partitions.flatMap((partition) => [partition.leader, ...partition.replicas]),
      ),
    )
    severalBrokers = brokers.size > 1
    metadataAt = Date.now()
  }

  const partitionOf = (topic: string, key: Buffer): number => {
    const count = partitionCounts.get(topic)
    if (!count) throw new RetryableError(`no partition metadata for ${topic}`)
    return partitionForKey(key, count)
  }

  /**
   * The record's traceparent: with tracing on, the context of a producer span (a child of the
   * cause, or of the active span) that ends when the record is acknowledged; off, a fresh span
   * id minted here.
   */
  const traceparentFor = (topic: string, record: OutgoingRecord, spans: Span[]): string => {
    if (!tracingEnabled()) return nextTraceparent(record.traceparent)
    const span = startSpan(`send ${topic}`, {
      kind: SPAN_KIND.PRODUCER,
      parent: contextFromTraceparent(record.traceparent),
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
        'messaging.client.id': options.producerName,
      },
    })
    spans.push(span)
    return traceparentOf(span)
  }

  const toMessage = (topic: string, record: OutgoingRecord, spans: Span[]): Message => {
    const headers: IHeaders = {
      ...record.headers,
      [HEADER.eventId]: record.eventId,
      [HEADER.traceparent]: traceparentFor(topic, record, spans),
      [HEADER.producer]: options.producerName,
    }
    const key = options.codec.encodeKey(topic, record.key)
    return {
      key,
      value: options.codec.encodeValue(topic, record.value),
      headers,
      partition: record.partition ?? partitionOf(topic, key),
    }
  }

  return {
    async connect() {
      await options.codec.resolveIds(options.topics)
      await admin.connect()
      await refreshPartitionCounts()
      await producer.connect()
      producerConnected = true
      connected = true
      common.logger.info(
        { producer: options.producerName, transport: common.config.kafka.transport },
        'bus producer connected',
      )
    },

    async publish<T>(topic: string, records: readonly OutgoingRecord<T>[]): Promise<void> {
      await this.publishMany([{ topic, records }])
    },

    /**
     * Publishes to one or more topics, split into requests the broker accepts. Resolves when
     * every record is acknowledged by all in-sync replicas; a failure part-way leaves earlier
     * requests written, which is safe because records carry deterministic ids.
     */
    async publishMany(
      batches: readonly { topic: string; records: readonly OutgoingRecord[] }[],
    ): Promise<void> {
      if (!connected) throw new NonRetryableError('producer is not connected')
      // Partitions added by provisioning are picked up within a minute, as kafkajs itself would.
      if (Date.now() - metadataAt > METADATA_MAX_AGE_MS) await refreshPartitionCounts()
      const spans: Span[] = []
      try {
        await send(batches, spans)
      } catch (error) {
        for (const span of spans) failSpan(span, error)
        throw error
      } finally {
        for (const span of spans) span.end()
      }
    },

    async disconnect() {
      connected = false
      await producer.disconnect()
      await admin.disconnect()
    },
  }

  async function send(
    batches: readonly { topic: string; records: readonly OutgoingRecord[] }[],
    spans: Span[],
  ): Promise<void> {
    const topicMessages = batches
      .filter((batch) => batch.records.length > 0)
      .map((batch) => {
        if (!options.topics.includes(batch.topic)) {
          throw new NonRetryableError(`producer ${options.producerName} may not write to ${batch.topic}`)
        }
        return {
          topic: batch.topic,
          messages: batch.records.map((record) => toMessage(batch.topic, record, spans)),
        }
      })
    for (const request of splitRequests(topicMessages)) {
      // One broker cannot lose leadership to another: its requests stay whole.
      const sends = severalBrokers ? perPartition(request) : [request]
      if (!producerConnected) {
        try {
          await producer.connect()
          producerConnected = true
        } catch (cause) {
          throw await failed(request, cause)
        }
      }
      let pending = sends
      for (let attempt = 1; pending.length > 0; attempt += 1) {
        const outcomes = await Promise.allSettled(
          pending.map(async (topicMessages) =>
            answeredForAll(topicMessages, await producer.sendBatch(topicMessages)),
          ),
        )
        const rejected = outcomes.find((outcome) => outcome.status === 'rejected')
        if (!rejected) break
        if (attempt > PARTITION_RESEND_DELAYS_MS.length || !isTransient(rejected.reason))
          throw await failed(request, rejected.reason)
        // Only the partitions that failed, by the same producer: each is the same batch at
        // the same sequence numbers (kafkajs rolled them back), so a batch the broker did
        // write is recognised as a duplicate. A resend of the whole request by the caller,
        // after `failed` replaced the producer, would write the others twice.
        pending = pending.filter((_, index) => outcomes[index]!.status === 'rejected')
        await sleep(PARTITION_RESEND_DELAYS_MS[attempt - 1]!)
      }
      for (const slice of request) messagesProduced.inc({ topic: slice.topic }, slice.messages.length)
    }
  }

  /** Counts the failure, replaces the producer, and says whether a retry may succeed. */
  async function failed(request: readonly TopicMessages[], cause: unknown): Promise<Error> {
    for (const slice of request) produceErrors.inc({ topic: slice.topic })
    // kafkajs rolls its sequence numbers back after a failed request; if the broker did
    // write that request, the next one would collide with it. A fresh producer (a new
    // producer id) starts clean; it connects on the next publish.
    const broken = producer
    producer = createProducer()
    producerConnected = false
    await broken.disconnect().catch(() => undefined)
    const message = `publishing to ${request.map((slice) => slice.topic).join(', ')} failed`
    return isTransient(cause)
      ? new RetryableError(message, { cause })
      : new NonRetryableError(message, { cause })
  }
}

export type BusProducer = ReturnType<typeof createBusProducer>
