import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Group } from '@semaphore-protocol/group'
import { Identity } from '@semaphore-protocol/identity'
import * as snarkjs from 'snarkjs'
import { type CircuitName, circuitSpecs, semaphoreSpec } from '../circuits/catalog.ts'
import { sharedCurve, terminateCurves } from '../circuits/curve.ts'
import { semaphoreInputs } from '../circuits/inputs.ts'
import { fromSnarkjsProof, type SnarkjsProof, toSnarkjsProof } from '../circuits/points.ts'
import { proverConsumer } from '../consumers/prover/index.ts'
import {
  type BatchItem,
  prepareKey,
  type VerificationKeyJson,
  verifyBatch,
} from '../consumers/verifier/batch.ts'
import { createConsumerRunner } from '../core/bus/consumer.ts'
import { loadProverPublicKey } from '../core/crypto/prover-key.ts'
import { sealProveInputs } from '../core/crypto/prover-seal.ts'
import { runConsumerProcess } from '../core/service/consumer-process.ts'
import type { Command } from '../schemas/generated/veridis.command.v1.ts'
import type { ProofResult } from '../schemas/generated/veridis.proof.v1.ts'
import { eventually, openTestBus, testProducer } from '../test/support/harness.ts'
import { median } from './stats.ts'

/**
 * `veridis bench zk`: in one run, on the same proofs (Semaphore v4, depth 20):
 *  - verification: random-linear-combination batches of `batch` proofs vs
 *    snarkjs.groth16.verify one by one (target ≥ 8× faster per proof at 64);
 *  - proving: the prover consumer over the real bus (prove commands in, results out) vs a
 *    bare loop of snarkjs.groth16.fullProve (target ≥ 90% of its throughput).
 * Every prove request has its own message, so the consumer's cache never answers one.
 */
const CIRCUIT: CircuitName = 'IDENTITY_MEMBERSHIP'
const DEPTH = 20

function inputsFor(count: number, run: string) {
  const identities = Array.from({ length: 8 }, (_, index) => new Identity(`veridis-bench-${index}`))
  const group = new Group(identities.map((identity) => identity.commitment))
  return Array.from({ length: count }, (_, n) =>
    semaphoreInputs({
      secret: identities[n % identities.length]!.secretScalar,
      merkleProof: group.generateMerkleProof(n % identities.length),
      message: BigInt(`0x${createHash('sha256').update(`${run}/${n}`).digest('hex').slice(0, 62)}`),
      scope: 77n,
      depth: DEPTH,
    }),
  )
}

async function bareProving(inputs: ReturnType<typeof inputsFor>) {
  const spec = semaphoreSpec(DEPTH)
  const items: BatchItem[] = []
  const started = performance.now()
  for (const input of inputs) {
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      input,
      spec.artifacts.wasm,
      spec.artifacts.zkey,
    )
    items.push({ proof: fromSnarkjsProof(proof as SnarkjsProof), publicSignals: publicSignals as string[] })
  }
  return { seconds: (performance.now() - started) / 1000, items }
}

async function consumerProving(inputs: ReturnType<typeof inputsFor>) {
  const testBus = await openTestBus(undefined, { VERIDIS_LOG_LEVEL: 'error' })
  const producer = await testProducer(testBus)
  const results = new Map<string, ProofResult>()
  const running = await runConsumerProcess(testBus.common, proverConsumer as never, { opsPort: 0 })
  const reader = createConsumerRunner(testBus.common, {
    bus: testBus.bus,
    producer,
    definition: {
      name: 'bench-zk-reader',
      topics: [testBus.bus.topics.proof.name],
      handle: async (messages) => {
        for (const message of messages) {
          const value = message.value as ProofResult
          results.set(value.commandId ?? '', value)
        }
      },
    },
  })
  try {
    await reader.start()
    await eventually(async () => (running.runner.isReady() && reader.isReady() ? true : undefined), 60_000)
    const proverKey = loadProverPublicKey(testBus.common.config)
    const commands: Command[] = inputs.map((input) => {
      const id = randomUUID()
      return {
        commandId: id,
        idempotencyKey: id,
        issuedAt: Date.now(),
        actor: { kind: 'SERVICE', id: 'bench-zk' },
        // Sealed to the prover's key, as the gateway writes them (core/crypto/prover-seal.ts).
        payload: {
          'io.veridis.command.ProveCommand': {
            circuit: CIRCUIT,
            inputs: sealProveInputs(proverKey, id, input),
          },
        },
      }
    })
    const started = performance.now()
    await producer.publish(
      testBus.bus.topics.command.name,
      commands.map((value) => ({ key: value.idempotencyKey, value, eventId: value.commandId })),
    )
    await eventually(
      async () => (results.size >= commands.length ? true : undefined),
      30 * 60_000,
      'all proofs',
    )
    const seconds = (performance.now() - started) / 1000
    const generated = [...results.values()].filter((result) => result.status === 'GENERATED').length
    if (generated !== commands.length)
      throw new Error(`only ${generated} of ${commands.length} proofs generated`)
    return { seconds }
  } finally {
    await reader.stop()
    await running.runner.stop()
    await running.producer.disconnect()
    await running.pool.end()
    await producer.disconnect()
    await testBus.close()
  }
}

async function verification(items: readonly BatchItem[], batch: number, rounds: number) {
  const curve = await sharedCurve()
  const json = JSON.parse(
    readFileSync(circuitSpecs(DEPTH)[CIRCUIT].artifacts.vkey, 'utf8'),
  ) as VerificationKeyJson
  const key = prepareKey(curve, json)
  const set = Array.from({ length: batch }, (_, index) => items[index % items.length]!)
  const snarkjsMs: number[] = []
  const batchMs: number[] = []
  for (let round = 0; round < rounds; round++) {
    let started = performance.now()
    for (const item of set) {
      if (
        !(await snarkjs.groth16.verify(json, [...item.publicSignals], toSnarkjsProof(item.proof) as never))
      ) {
        throw new Error('snarkjs refused a bench proof')
      }
    }
    snarkjsMs.push((performance.now() - started) / set.length)
    started = performance.now()
    const verdicts = await verifyBatch(curve, key, set)
    batchMs.push((performance.now() - started) / set.length)
    if (!verdicts.every((verdict) => verdict.valid)) throw new Error('the batch refused a bench proof')
  }
  return { snarkjsMs: median(snarkjsMs), batchMs: median(batchMs) }
}

export async function benchZk(options: { proofs: number; batch: number; rounds: number }) {
  try {
    await sharedCurve()
    const run = randomUUID()
    const bare = await bareProving(inputsFor(options.proofs, `${run}/bare`))
    const consumer = await consumerProving(inputsFor(options.proofs, `${run}/consumer`))
    const verify = await verification(bare.items, options.batch, options.rounds)
    return { ...options, bareSeconds: bare.seconds, consumerSeconds: consumer.seconds, ...verify }
  } finally {
    await terminateCurves()
  }
}

export function printZkBench(result: Awaited<ReturnType<typeof benchZk>>) {
  const out = (line: string) => process.stdout.write(`${line}\n`)
  const bareRate = result.proofs / result.bareSeconds
  const consumerRate = result.proofs / result.consumerSeconds
  out(`\nzk bench: Semaphore v4 depth ${DEPTH}, ${result.proofs} proofs per prover path`)
  out(`verification, batch of ${result.batch}, median of ${result.rounds} rounds:`)
  out(`  snarkjs.groth16.verify      ${result.snarkjsMs.toFixed(2).padStart(8)} ms per proof`)
  out(`  batch (RLC, n+3 Miller)     ${result.batchMs.toFixed(2).padStart(8)} ms per proof`)
  out(`  batch speed-up: ${(result.snarkjsMs / result.batchMs).toFixed(1)}×  (target ≥ 8×)`)
  out('proving:')
  out(`  bare snarkjs fullProve loop ${bareRate.toFixed(2).padStart(8)} proofs/s`)
  out(`  prover consumer over Kafka  ${consumerRate.toFixed(2).padStart(8)} proofs/s`)
  out(`  consumer / bare: ${((consumerRate / bareRate) * 100).toFixed(0)}%  (target ≥ 90%)`)
}
