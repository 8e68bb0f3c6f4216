import { circuitSpecs } from '../../circuits/catalog.ts'
import { terminateCurves } from '../../circuits/curve.ts'
import { chooseZkBackend } from '../../circuits/native.ts'
import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { OutgoingRecord } from '../../core/bus/producer.ts'
import { UndecryptableError } from '../../core/crypto/aead.ts'
import { loadProverKeyPair } from '../../core/crypto/prover-key.ts'
import { openProveInputs, PROVER_SEAL_VERSION, unsealedSignals } from '../../core/crypto/prover-seal.ts'
import { zkMetrics } from '../../core/metrics/protocol.ts'
import type { ConsumerModule } from '../../core/service/consumer-process.ts'
import type { Command } from '../../schemas/generated/veridis.command.v1.ts'
import type { ProofResult } from '../../schemas/generated/veridis.proof.v1.ts'
import { createProver, type ProveOutcome } from './prover.ts'

const PROVE = 'io.veridis.command.ProveCommand'

/** One result per prove request: retries of a request (same idempotency key) carry the same id. */
export const proveResultId = (command: Command) => `prove:${command.idempotencyKey}`

export function proofResultOf(
  command: Command,
  circuit: ProofResult['circuit'],
  outcome: ProveOutcome,
): ProofResult {
  return {
    resultId: proveResultId(command),
    commandId: command.commandId,
    sourceEventId: null,
    circuit,
    status: outcome.status,
    proof: outcome.status === 'GENERATED' ? outcome.proof : null,
    publicSignals: outcome.status === 'GENERATED' ? outcome.publicSignals : [],
    reason: outcome.status === 'REJECTED' ? outcome.reason : null,
    durationMs: outcome.durationMs,
    producedAt: Date.now(),
  }
}

/**
 * The prover: turns prove commands into Groth16 proofs on veridis.proof.v1, keyed by
 * command id. Other command types are left to their own consumers. Inputs that cannot be
 * proved become REJECTED results with a reason; private inputs never reach a log line or
 * a result.
 */
export const proverConsumer: ConsumerModule<Command> = {
  name: 'prover',
  description: 'computes Groth16 proofs for prove commands',
  produces: ['proof'],
  create: ({ common, bus, producer }) => {
    const metrics = zkMetrics(common.metrics.registry)
    const backend = chooseZkBackend(common.config.zk.backend)
    common.logger.info({ backend: backend.kind, detail: backend.detail }, 'prover backend')
    const prover = createProver({
      backend,
      specs: circuitSpecs(common.config.zk.semaphoreDepth),
      concurrency: common.config.zk.proverConcurrency,
      cacheSize: common.config.zk.proofCacheSize,
      metrics: {
        observe(circuit, outcome, seconds, cached) {
          metrics.proofs.inc({ circuit_type: circuit, status: outcome })
          // The histogram is witness and proof time: a cache hit computed neither.
          if (outcome === 'success' && !cached)
            metrics.proofDuration.observe({ circuit_type: circuit }, seconds)
        },
      },
    })
    const keys = loadProverKeyPair(common.config)
    /**
     * Inputs arrive sealed to this prover's key (core/crypto/prover-seal.ts). Plain-text
     * inputs are refused, not proved: they were readable by anyone with the topic, and
     * proving them would make that silent. Reasons name signals, never values.
     */
    const proveSealed = async (
      commandId: string,
      circuit: ProofResult['circuit'],
      inputs: Readonly<Record<string, readonly string[]>>,
    ): Promise<ProveOutcome> => {
      const plain = unsealedSignals(inputs)
      if (plain.length > 0) {
        metrics.proofs.inc({ circuit_type: circuit, status: 'failure' })
        return {
          status: 'REJECTED',
          reason: `inputs in plain text (${plain.join(', ')}): prove inputs must be sealed to the prover's key (${PROVER_SEAL_VERSION}, docs/zk.md)`,
          durationMs: 0,
        }
      }
      let opened: Record<string, string[]>
      try {
        opened = openProveInputs(keys, commandId, inputs)
      } catch (error) {
        if (!(error instanceof UndecryptableError)) throw error
        metrics.proofs.inc({ circuit_type: circuit, status: 'failure' })
        return {
          status: 'REJECTED',
          reason: "sealed inputs do not open with this prover's key for this command",
          durationMs: 0,
        }
      }
      return prover.prove(circuit, opened)
    }
    // The curve's worker threads would keep the process alive after the consumer stopped.
    common.shutdown.onShutdown('zk curve workers', terminateCurves)

    return {
      name: 'prover',
      topics: [bus.topics.command.name],
      handle: async (messages: readonly ConsumedMessage<Command>[], { logger, heartbeat }) => {
        const requests = messages.filter((message) => PROVE in message.value.payload)
        const records = await Promise.all(
          requests.map(async (message): Promise<OutgoingRecord<ProofResult>> => {
            const command = message.value
            const { circuit, inputs } = (
              command.payload as {
                [PROVE]: { circuit: ProofResult['circuit']; inputs: Record<string, string[]> }
              }
            )[PROVE]
            const outcome = await proveSealed(command.commandId, circuit, inputs)
            // A chunk of proofs can take longer than the group's session timeout.
            await heartbeat()
            if (outcome.status === 'REJECTED') {
              // The reason names signals and templates only, never input values.
              logger.info(
                { commandId: command.commandId, circuit, reason: outcome.reason },
                'prove command rejected',
              )
            }
            const result = proofResultOf(command, circuit, outcome)
            return {
              key: command.commandId,
              value: result,
              eventId: result.resultId,
              ...(message.traceparent ? { traceparent: message.traceparent } : {}),
            }
          }),
        )
        await producer.publish(bus.topics.proof.name, records)
      },
    }
  },
}
