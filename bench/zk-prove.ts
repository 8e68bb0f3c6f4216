import { createHash, randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Group } from '@semaphore-protocol/group'
import { Identity } from '@semaphore-protocol/identity'
import * as snarkjs from 'snarkjs'
import { type CircuitName, semaphoreSpec } from '../circuits/catalog.ts'
import { terminateCurves } from '../circuits/curve.ts'
import { semaphoreInputs } from '../circuits/inputs.ts'
import { loadZkNative } from '../circuits/native.ts'
import { proverConsumer } from '../consumers/prover/index.ts'
import { createWitnessCalculators } from '../consumers/prover/witness.ts'
import { createConsumerRunner } from '../core/bus/consumer.ts'
import { loadProverPublicKey } from '../core/crypto/prover-key.ts'
import { sealProveInputs } from '../core/crypto/prover-seal.ts'
import { runConsumerProcess } from '../core/service/consumer-process.ts'
import type { Command } from '../schemas/generated/veridis.command.v1.ts'
import type { ProofResult } from '../schemas/generated/veridis.proof.v1.ts'
import { eventually, openTestBus, testProducer } from '../test/support/harness.ts'

/**
 * One prover path of `veridis bench zk`, run as a child process of its own so that its peak
 * RSS is its own (bench/zk.ts starts one per path):
 *
 *   bench/zk-prove.ts '{"path":"snarkjs"|"native"|"consumer","proofs":64,"run":"<id>"}'
 *
 * prints one JSON line: {seconds, maxRssMb}.
 */
export const CIRCUIT: CircuitName = 'IDENTITY_MEMBERSHIP'
export const DEPTH = 20

export type ProverPath = 'snarkjs' | 'native' | 'consumer'

export function inputsFor(count: number, run: string) {
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

type Inputs = ReturnType<typeof inputsFor>

/** A bare loop of snarkjs.groth16.fullProve, one proof after the other. */
async function snarkjsProving(inputs: Inputs) {
  const spec = semaphoreSpec(DEPTH)
  const started = performance.now()
  for (const input of inputs) await snarkjs.groth16.fullProve(input, spec.artifacts.wasm, spec.artifacts.zkey)
  return (performance.now() - started) / 1000
}

/** A bare loop of the circuit's wasm witness (pooled calculator) then the native addon's proof, one after the other. */
async function nativeProving(inputs: Inputs) {
  const loaded = loadZkNative()
  if (!loaded.addon) throw new Error(`native addon ${loaded.reason}`)
  const spec = semaphoreSpec(DEPTH)
  const prover = new loaded.addon.Groth16Prover(spec.artifacts.zkey)
  // The consumer's witness path: one wasm instance per circuit, reused.
  const witnesses = createWitnessCalculators()
  const started = performance.now()
  for (const input of inputs)
    await prover.prove(await witnesses.compute(spec, input as Record<string, string[]>))
  return (performance.now() - started) / 1000
}

/** The prover consumer over the real bus (prove commands in, results out), native backend required. */
async function consumerProving(inputs: Inputs) {
  const testBus = await openTestBus(undefined, { VERIDIS_LOG_LEVEL: 'error', VERIDIS_ZK_BACKEND: 'native' })
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
    return seconds
  } finally {
    await reader.stop()
    await running.runner.stop()
    await running.producer.disconnect()
    await running.pool.end()
    await producer.disconnect()
    await testBus.close()
  }
}

async function main() {
  const { path, proofs, run } = JSON.parse(process.argv[2] ?? '{}') as {
    path: ProverPath
    proofs: number
    run: string
  }
  const inputs = inputsFor(proofs, `${run}/${path}`)
  const prove = { snarkjs: snarkjsProving, native: nativeProving, consumer: consumerProving }[path]
  try {
    const seconds = await prove(inputs)
    // ru_maxrss: the process's peak resident set, worker threads included (KiB on Linux).
    const maxRssMb = process.resourceUsage().maxRSS / 1024
    process.stdout.write(`${JSON.stringify({ seconds, maxRssMb })}\n`)
  } finally {
    await terminateCurves()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exit(1)
    },
  )
}
