import { createHash, randomUUID } from 'node:crypto'
import type { Command } from '../../core/bus/types.ts'
import type { Pool } from '../../core/db/pool.ts'
import { describeError } from '../../core/errors.ts'
import type { Logger } from '../../core/logging/logger.ts'
import type { Caller } from './auth.ts'
import type { BatchingPublisher } from './batching.ts'
import { type CommandRoute, payloadFor } from './contract.ts'
import { HttpError, kafkaUnavailable } from './errors.ts'
import { createIdempotencyClaims } from './idempotency-claims.ts'
import { type DependencyHealth, withTimeout } from './kafka-health.ts'

export interface Acceptance {
  readonly commandId: string
  /** The command's key on the topic. */
  readonly idempotencyKey: string
  /** True when an earlier request with the same Idempotency-Key already created it. */
  readonly replayed: boolean
}

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

/** How much longer than the publish timeout a first attempt is taken to be still running. */
const IN_PROGRESS_GRACE_MS = 1_000

/**
 * Turns a validated request into a command on veridis.command.v1. With an Idempotency-Key,
 * Postgres decides (unique on caller + key; reservations of concurrent requests share
 * statements, idempotency-claims.ts), so a retry gets the original command id from
 * any gateway instance, before or after a restart. The command's key on the topic is a
 * hash of caller and key: two callers choosing the same key never share one.
 */
export function createCommandAcceptor(options: {
  pool: Pool
  publisher: BatchingPublisher
  health: DependencyHealth
  topic: string
  publishTimeoutMs: number
  /** Seals subject data and prove inputs before publishing (core/crypto/command-seal.ts). */
  seal: (command: Command) => Promise<Command>
  logger: Logger
}) {
  const { pool, publisher, health } = options

  /**
   * Publishes, or throws 503 after the publish timeout. `onLateAcknowledgement` runs if the
   * producer still gets the record acknowledged after that 503 (it was already in flight).
   */
  const publish = async (
    command: Command,
    traceparent: string | undefined,
    onLateAcknowledgement?: (sending: Promise<unknown>) => void,
  ) => {
    const { sent: sending, withdraw } = publisher.publishWithdrawable(options.topic, {
      key: command.idempotencyKey,
      value: command,
      eventId: command.commandId,
      ...(traceparent ? { traceparent } : {}),
    })
    try {
      await withTimeout(sending, options.publishTimeoutMs, 'Kafka acknowledgement')
    } catch (error) {
      // Not yet handed to the producer: it never will be, so the 503 below is exact. One
      // already in flight cannot be withdrawn and may still be written.
      withdraw(error)
      health.markKafkaDown()
      onLateAcknowledgement?.(sending)
      throw kafkaUnavailable('the command was not acknowledged', error)
    }
  }

  const claims = createIdempotencyClaims(pool, {
    inProgressMs: options.publishTimeoutMs + IN_PROGRESS_GRACE_MS,
  })
  // Keys whose command Kafka acknowledged while the row's published_at is being written: a
  // retry meanwhile (on this instance) is a replay, not "in progress".
  const recording = new Set<string>()
  // Keys answered 503 whose record is still in the producer (a leader election outlasting the
  // publish timeout): a retry now would write the command a second time if that one lands, so
  // it is "in progress" until the producer settles; a late acknowledgement is recorded, and
  // retries after it are replays. Measured without it: 3 commands twice on the topic of 718
  // in a broker-kill run (test/cluster/broker-loss.test.ts). Another instance cannot see this
  // set: a retry sent there after the in-progress window may still publish a second copy
  // (same command id, so consumers apply it once).
  const unsettled = new Set<string>()
  const recordPublished = (caller: string, clientKey: string, commandId: string) => {
    const pair = `${caller}\u0000${clientKey}`
    recording.add(pair)
    claims
      .markPublished({ caller, clientKey })
      .catch((error: unknown) => {
        options.logger.warn(
          { err: describeError(error), commandId },
          'recording the publication of a keyed command failed; a retry of its key republishes it',
        )
      })
      .finally(() => recording.delete(pair))
  }

  return {
    /** Waits until every publication this acceptor recorded has reached Postgres (shutdown). */
    settled: () => claims.settled(),
    async accept(request: {
      caller: Caller
      route: CommandRoute
      body: Record<string, unknown>
      idempotencyKey: string | undefined
      traceparent: string | undefined
    }): Promise<Acceptance> {
      const { caller, route, body, idempotencyKey: clientKey } = request
      if (!health.canPublish()) throw kafkaUnavailable('not connected')
      let commandId: string = randomUUID()
      let issuedAt = Date.now()
      let replayed = false
      const topicKey = clientKey ? sha256(`${caller.key}\u0000${clientKey}`) : commandId

      if (clientKey) {
        const requestHash = sha256(`${route.url}\u0000${canonicalJson(body)}`)
        // Read before the claim's query: a key leaves `recording` only once its published_at
        // is committed, so either it is recording now or the query below sees published_at.
        // Read after the query, a publication recorded in between would be neither.
        const wasRecording = recording.has(`${caller.key}\u0000${clientKey}`)
        const row = await claims.claim({
          caller: caller.key,
          clientKey,
          commandId,
          commandType: route.record,
          requestHash,
          issuedAt,
        })
        if (!row) throw new Error('idempotency row vanished between insert and select')
        if (!row.fresh) {
          if (row.request_sha256 !== requestHash) {
            throw new HttpError(
              422,
              'idempotency_key_reused',
              'Idempotency-Key was already used for a different request',
              { field: 'headers.idempotency-key' },
            )
          }
          if (row.published_at || wasRecording || recording.has(`${caller.key}\u0000${clientKey}`))
            return { commandId: row.command_id, idempotencyKey: topicKey, replayed: true }
          // Decided by Postgres alone (the gateway's clock may differ from the database's), or
          // by a send of this instance not settled yet.
          if (row.in_progress || unsettled.has(`${caller.key}\u0000${clientKey}`)) {
            throw new HttpError(
              409,
              'request_in_progress',
              'a request with this Idempotency-Key is still in progress; retry shortly',
              { field: 'headers.idempotency-key', retryAfterSeconds: 1 },
            )
          }
          // The first attempt was never acknowledged: publish the same command again.
          commandId = row.command_id
          issuedAt = row.issued_at.getTime()
          replayed = true
        }
      }

      const command: Command = {
        commandId,
        idempotencyKey: topicKey,
        issuedAt,
        actor: caller.actor,
        payload: payloadFor(route, body) as unknown as Command['payload'],
      }
      // Sealed on every attempt: a republished command is sealed afresh under the same id.
      await publish(
        await options.seal(command),
        request.traceparent,
        clientKey
          ? (sending) => {
              const pair = `${caller.key}\u0000${clientKey}`
              unsettled.add(pair)
              sending
                .then(
                  () => recordPublished(caller.key, clientKey, commandId),
                  () => undefined,
                )
                .finally(() => unsettled.delete(pair))
            }
          : undefined,
      )
      // Recorded after answering, batched: awaiting it would add a second database round trip
      // to every keyed request. Until it lands (or if the process dies first) the key reads as
      // unpublished: a retry inside the in-progress window gets 409, one after it publishes the
      // same command id again, recognisable.
      if (clientKey) recordPublished(caller.key, clientKey, commandId)
      return { commandId, idempotencyKey: topicKey, replayed }
    },
  }
}

export type CommandAcceptor = ReturnType<typeof createCommandAcceptor>

/** Forgets idempotency decisions older than the command topic keeps commands. */
export async function pruneIdempotency(pool: Pool, olderThanMs: number): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM gateway_idempotency WHERE created_at < now() - make_interval(secs => $1 / 1000.0)`,
    [olderThanMs],
  )
  return rowCount ?? 0
}
