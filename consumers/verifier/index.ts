import { circuitSpecs } from '../../circuits/catalog.ts'
import { terminateCurves } from '../../circuits/curve.ts'
import { chooseZkBackend } from '../../circuits/native.ts'
import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import { handleByTopic } from '../../core/bus/topic-handlers.ts'
import type { TopicRecord } from '../../core/bus/topic-publisher.ts'
import { zkMetrics } from '../../core/metrics/protocol.ts'
import type { ConsumerModule } from '../../core/service/consumer-process.ts'
import type { AttestationEvent } from '../../schemas/generated/veridis.chain.attestation.v1.ts'
import type { NullifierEvent } from '../../schemas/generated/veridis.chain.nullifier.v1.ts'
import type { Command, IoVeridisCommand } from '../../schemas/generated/veridis.command.v1.ts'
import type { ProofResult } from '../../schemas/generated/veridis.proof.v1.ts'
import { checkAgainstChains } from './chain-checks.ts'
import { createChainProofVerifier } from './chain-proofs.ts'
import { recordChainFacts } from './facts.ts'
import { createVerifier } from './verifier.ts'

const VERIFY = 'io.veridis.command.VerifyCommand'

type VerifierInput = Command | AttestationEvent | NullifierEvent

export const verifyResultId = (command: Command) => `verify:${command.idempotencyKey}`

/**
 * The verifier: verdicts for verify commands on veridis.proof.v1 (VERIFIED, or REJECTED
 * with the reason), verified in batches per verification key; verdicts for the proofs
 * chain events carry (a nullifier used with a Semaphore proof), keyed by the event id;
 * and, from the chain events, the roots and nullifiers each chain has published, which
 * proofs naming an expected chain are checked against.
 */
export const verifierConsumer: ConsumerModule<VerifierInput> = {
  name: 'verifier',
  description: 'verifies Groth16 proofs in batches and checks them against chain roots and nullifiers',
  produces: ['proof'],
  create: ({ common, bus, pool, publisher }) => {
    const specs = circuitSpecs(common.config.zk.semaphoreDepth)
    const backend = chooseZkBackend(common.config.zk.backend)
    common.logger.info({ backend: backend.kind, detail: backend.detail }, 'verifier backend')
    const verifier = createVerifier({ specs, batchSize: common.config.zk.verifyBatchSize, backend })
    common.shutdown.onShutdown('zk curve workers', terminateCurves)
    // The protocol rules read status="rejected" as "the verifier refused a proof".
    const metrics = zkMetrics(common.metrics.registry)
    // Chains verify depth-20 proofs today (SemaphoreDepth20Verifier); events are checked
    // against the configured depth's key, so the two must agree (docs/zk.md).
    const chainProofs = createChainProofVerifier({
      pool,
      spec: specs.IDENTITY_MEMBERSHIP,
      verifier,
      publish: (records) => publisher.publish('proof', records),
      onRejected: (result) => metrics.proofs.inc({ circuit_type: result.circuit, status: 'rejected' }),
    })

    const handleCommands = async (messages: readonly ConsumedMessage<Command>[]) => {
      const requests = messages.flatMap((message) => {
        const payload = (message.value.payload as { [VERIFY]?: IoVeridisCommand.VerifyCommand })[VERIFY]
        return payload ? [{ message, payload }] : []
      })
      if (requests.length === 0) return
      const started = Date.now()
      const verdicts = await verifier.verify(requests.map(({ payload }) => payload))
      const chainChecks = requests.flatMap(({ payload }, index) =>
        verdicts[index]!.valid && payload.expectedChain
          ? [
              {
                index,
                check: {
                  circuit: payload.circuit,
                  publicSignals: payload.publicSignals,
                  chain: payload.expectedChain,
                },
              },
            ]
          : [],
      )
      const chainReasons = await checkAgainstChains(
        pool,
        specs,
        chainChecks.map(({ check }) => check),
      )
      const reasons = new Map(chainChecks.map(({ index }, position) => [index, chainReasons[position]]))
      const durationMs = (Date.now() - started) / requests.length
      const records = requests.map(({ message, payload }, index): TopicRecord<'proof'> => {
        const verdict = verdicts[index]!
        const reason = verdict.valid ? reasons.get(index) : verdict.reason
        const result: ProofResult = {
          resultId: verifyResultId(message.value),
          commandId: message.value.commandId,
          sourceEventId: null,
          circuit: payload.circuit,
          status: reason === undefined ? 'VERIFIED' : 'REJECTED',
          proof: payload.proof,
          publicSignals: payload.publicSignals,
          reason: reason ?? null,
          durationMs,
          producedAt: Date.now(),
        }
        return {
          value: result,
          eventId: result.resultId,
          ...(message.traceparent ? { traceparent: message.traceparent } : {}),
        }
      })
      await publisher.publish('proof', records)
      for (const { value } of records) {
        if (value.status === 'REJECTED')
          metrics.proofs.inc({ circuit_type: value.circuit, status: 'rejected' })
      }
    }

    return {
      name: 'verifier',
      ...handleByTopic(bus.topics, {
        command: (messages) => handleCommands(messages),
        // Verdicts first: a root vouched for only by a rejected proof is not recorded.
        nullifier: async (messages, { logger }) => {
          const rejectedProofs = await chainProofs.handle(messages)
          await recordChainFacts(pool, logger, messages, rejectedProofs)
        },
        attestation: (messages, { logger }) => recordChainFacts(pool, logger, messages),
      }),
    }
  },
}
