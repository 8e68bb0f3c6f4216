import { describe, expect, test } from 'vitest'
import type { OutgoingRecord } from '../../core/bus/producer.ts'
import { createBatchingPublisher, type PublishMany, serialPublishes } from './batching.ts'

type Batches = Parameters<PublishMany>[0]

/** A producer that holds each request until released, recording what it was given. */
function heldProducer() {
  const requests: { batches: Batches; release: (error?: Error) => void }[] = []
  const publishMany: PublishMany = (batches) =>
    new Promise<void>((resolve, reject) => {
      requests.push({ batches, release: (error) => (error ? reject(error) : resolve()) })
    })
  const ids = (n: number) => requests[n]!.batches.flatMap((batch) => batch.records.map((r) => r.eventId))
  return { requests, publishMany, ids }
}

const record = (eventId: string): OutgoingRecord => ({ key: eventId, value: {}, eventId })
const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('batching publisher', () => {
  test('behavior: a record withdrawn while waiting for a batch is never published; the others are', async () => {
    const producer = heldProducer()
    const publisher = createBatchingPublisher(producer.publishMany)
    const first = publisher.publish('t', record('a'))
    // 'a' is with the producer; these wait for the next batch.
    const withdraw = new AbortController()
    const kept = publisher.publish('t', record('b'))
    const withdrawn = publisher.publish('t', record('c'), withdraw.signal)
    const alsoKept = publisher.publish('t', record('d'))
    expect(publisher.pending).toBe(3)

    withdraw.abort(new Error('timed out'))
    await expect(withdrawn).rejects.toThrow('timed out')
    expect(publisher.pending).toBe(2)

    producer.requests[0]!.release()
    await first
    await tick()
    expect(producer.requests).toHaveLength(2)
    expect(producer.ids(1)).toEqual(['b', 'd'])
    producer.requests[1]!.release()
    await expect(Promise.all([kept, alsoKept])).resolves.toEqual([undefined, undefined])
    await tick()
    expect(producer.requests).toHaveLength(2)
  })

  test('behavior: a record already handed to the producer cannot be withdrawn and keeps its outcome', async () => {
    const producer = heldProducer()
    const publisher = createBatchingPublisher(producer.publishMany)
    const withdraw = new AbortController()
    const inFlight = publisher.publish('t', record('a'), withdraw.signal)
    expect(producer.ids(0)).toEqual(['a'])
    withdraw.abort(new Error('timed out'))
    producer.requests[0]!.release()
    await expect(inFlight).resolves.toBeUndefined()
  })

  test('behavior: when every waiting record was withdrawn, no empty request is sent', async () => {
    const producer = heldProducer()
    const publisher = createBatchingPublisher(producer.publishMany)
    const first = publisher.publish('t', record('a'))
    const withdraw = new AbortController()
    const withdrawn = publisher.publish('t', record('b'), withdraw.signal)
    withdraw.abort(new Error('timed out'))
    await expect(withdrawn).rejects.toThrow('timed out')
    producer.requests[0]!.release()
    await first
    await tick()
    expect(producer.requests).toHaveLength(1)
    // An already aborted signal is refused at once.
    await expect(publisher.publish('t', record('c'), AbortSignal.abort(new Error('gone')))).rejects.toThrow(
      'gone',
    )
    expect(producer.requests).toHaveLength(1)
  })

  test('behavior: publishers sharing a serial producer keep their own outcomes, one request at a time', async () => {
    const producer = heldProducer()
    const shared = serialPublishes(producer.publishMany)
    const commands = createBatchingPublisher(shared)
    const audit = createBatchingPublisher(shared)
    const fact = audit.publish('audit', record('f'))
    const command = commands.publish('command', record('c'))
    await tick()
    // The command waits for the audit request to finish before it is sent.
    expect(producer.requests).toHaveLength(1)
    producer.requests[0]!.release(new Error('audit topic unavailable'))
    await expect(fact).rejects.toThrow('audit topic unavailable')
    await tick()
    expect(producer.requests).toHaveLength(2)
    expect(producer.requests[1]!.batches.map((batch) => batch.topic)).toEqual(['command'])
    producer.requests[1]!.release()
    await expect(command).resolves.toBeUndefined()
  })
})
