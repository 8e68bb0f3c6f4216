import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ATTESTATION_DISCLOSURE, publicSignalIndex, SNARK_SCALAR_FIELD } from '../../circuits/catalog.ts'
import { terminateCurves } from '../../circuits/curve.ts'
import { type CircuitInputs, loadHashers } from '../../circuits/inputs.ts'
import { proverConsumer } from '../../consumers/prover/index.ts'
import { PAIRING_FAILED } from '../../consumers/verifier/batch.ts'
import { verifierConsumer } from '../../consumers/verifier/index.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import { loadProverPublicKey } from '../../core/crypto/prover-key.ts'
import { sealProveInputs } from '../../core/crypto/prover-seal.ts'
import { runConsumerProcess } from '../../core/service/consumer-process.ts'
import type { AttestationEvent } from '../../schemas/generated/veridis.chain.attestation.v1.ts'
import type { NullifierEvent } from '../../schemas/generated/veridis.chain.nullifier.v1.ts'
import type { Command } from '../../schemas/generated/veridis.command.v1.ts'
import type { ProofResult } from '../../schemas/generated/veridis.proof.v1.ts'
import { collectTopic, eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import { sampleEnvelope } from '../support/records.ts'
import { disclosureCase, erasureCase } from './fixtures.ts'

/**
 * End to end over the real bus: prove commands in, proofs out of the prover consumer; the
 * verifier consumer marks them valid, a tampered one invalid with the reason, and checks
 * roots and nullifiers against the chain events it has seen.
 */
let testBus: TestBus
let producer: BusProducer
const stops: (() => Promise<void>)[] = []
const results: ProofResult[] = []
const chainEventIds: string[] = []
const CHAIN = 'eip155:31337'

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  for (const module of [proverConsumer, verifierConsumer]) {
    const running = await runConsumerProcess(testBus.common, module as never, { opsPort: 0 })
    stops.push(() => running.runner.stop())
  }
  stops.push(
    await collectTopic<ProofResult>(testBus, producer, {
      topic: testBus.bus.topics.proof.name,
      name: 'zk-test-reader',
      onMessage: (message) => results.push(message.value),
    }),
  )
})

afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
  await producer?.disconnect()
  await testBus?.pool.query('DELETE FROM zk_known_roots WHERE event_id = ANY($1)', [chainEventIds])
  await testBus?.pool.query('DELETE FROM zk_used_nullifiers WHERE event_id = ANY($1)', [chainEventIds])
  await testBus?.close()
  await terminateCurves()
})

function command(payload: Command['payload']): Command {
  const id = randomUUID()
  return {
    commandId: id,
    idempotencyKey: `key-${id}`,
    issuedAt: Date.now(),
    actor: { kind: 'SERVICE', id: 'zk-test' },
    payload,
  }
}

async function send(commands: Command[]) {
  await producer.publish(
    testBus.bus.topics.command.name,
    commands.map((value) => ({ key: value.idempotencyKey, value, eventId: value.commandId })),
  )
}

/** Inputs sealed to the prover's key, as the gateway writes them (core/crypto/prover-seal.ts). */
const prove = (circuit: ProofResult['circuit'], inputs: CircuitInputs) => {
  const value = command({ 'io.veridis.command.ProveCommand': { circuit, inputs: {} } })
  const sealed = sealProveInputs(loadProverPublicKey(testBus.common.config), value.commandId, inputs)
  return { ...value, payload: { 'io.veridis.command.ProveCommand': { circuit, inputs: sealed } } }
}

const verify = (
  result: Pick<ProofResult, 'circuit' | 'publicSignals'> & { proof: ProofResult['proof'] },
  expectedChain: string | null = null,
) =>
  command({
    'io.veridis.command.VerifyCommand': {
      circuit: result.circuit,
      proof: result.proof!,
      publicSignals: result.publicSignals,
      expectedChain,
    },
  })

const resultFor = (commandValue: Command) =>
  eventually(
    async () => results.find((result) => result.commandId === commandValue.commandId),
    90_000,
    `a result for command ${commandValue.commandId}`,
  )

async function publishChainEvent(
  topic: 'attestation' | 'nullifier',
  value: AttestationEvent | NullifierEvent,
  key: string,
) {
  chainEventIds.push(value.envelope.eventId)
  await producer.publish(testBus.bus.topics[topic].name, [{ key, value, eventId: value.envelope.eventId }])
}

describe('prover and verifier consumers', () => {
  test('behavior: prove commands in, proofs out; the verifier marks them valid, tampered ones invalid with a reason', async () => {
    const hashers = await loadHashers()
    const erasure = erasureCase(hashers, `e2e-${testBus.namespace}`)
    const disclosure = disclosureCase(hashers, `e2e-${testBus.namespace}`)
    const dataKey = erasure.inputs.dataKey![0]!
    const valid = prove('ERASURE', erasure.inputs)
    const attestation = prove('ATTESTATION_DISCLOSURE', disclosure.inputs)
    const wrongRoot = prove('ERASURE', { ...erasure.inputs, oldRoot: ['1'] })
    const outOfField = prove('ERASURE', { ...erasure.inputs, dataKey: [SNARK_SCALAR_FIELD.toString()] })
    const unrelated = command({
      'io.veridis.command.RequestErasureCommand': { subjectId: 'subject-1', reason: null },
    })
    await send([valid, attestation, wrongRoot, outOfField, unrelated])

    const proved = await resultFor(valid)
    expect(proved).toMatchObject({
      status: 'GENERATED',
      circuit: 'ERASURE',
      resultId: `prove:${valid.idempotencyKey}`,
    })
    expect(proved.publicSignals).toEqual([
      erasure.inputs.subjectHash![0],
      erasure.oldRoot.toString(),
      erasure.newRoot.toString(),
    ])
    const rejectedRoot = await resultFor(wrongRoot)
    expect(rejectedRoot.status).toBe('REJECTED')
    expect(rejectedRoot.reason).toMatch(
      /^inputs do not satisfy the circuit \(failed constraint in Erasure:\d+/,
    )
    const rejectedField = await resultFor(outOfField)
    expect(rejectedField).toMatchObject({
      status: 'REJECTED',
      reason: "invalid inputs: input 'dataKey' is not below the BN254 scalar field modulus",
    })
    for (const result of [rejectedRoot, rejectedField]) {
      expect(JSON.stringify(result)).not.toContain(dataKey)
      expect(result.proof).toBeNull()
    }
    const provedDisclosure = await resultFor(attestation)
    expect(provedDisclosure.status).toBe('GENERATED')

    // The verifier: the genuine proof, a tampered signal, a malformed point.
    const genuine = verify(proved)
    const tamperedSignals = [...proved.publicSignals]
    tamperedSignals[2] = (BigInt(tamperedSignals[2]!) + 1n).toString()
    const tampered = verify({ ...proved, publicSignals: tamperedSignals })
    const malformed = verify({ ...proved, proof: { ...proved.proof!, piA: ['1', '3', '1'] } })
    await send([genuine, tampered, malformed])
    expect(await resultFor(genuine)).toMatchObject({ status: 'VERIFIED', reason: null, circuit: 'ERASURE' })
    expect(await resultFor(tampered)).toMatchObject({ status: 'REJECTED', reason: PAIRING_FAILED })
    expect(await resultFor(malformed)).toMatchObject({
      status: 'REJECTED',
      reason: 'malformed: piA is not on the curve',
    })
    // Nothing was dead-lettered: every command got its result.
    expect(results.filter((result) => result.commandId === unrelated.commandId)).toEqual([])
  })

  test('behavior: a proof naming a chain needs a root that chain published and a nullifier it has not used', async () => {
    const hashers = await loadHashers()
    const disclosure = disclosureCase(hashers, `chain-${testBus.namespace}`)
    const proving = prove('ATTESTATION_DISCLOSURE', disclosure.inputs)
    await send([proving])
    const proved = await resultFor(proving)
    expect(proved.status).toBe('GENERATED')
    const root = proved.publicSignals[publicSignalIndex(ATTESTATION_DISCLOSURE, 'attestationRoot')]!
    const nullifier = proved.publicSignals[publicSignalIndex(ATTESTATION_DISCLOSURE, 'nullifier')]!

    const unknownRoot = verify(proved, CHAIN)
    await send([unknownRoot])
    expect(await resultFor(unknownRoot)).toMatchObject({
      status: 'REJECTED',
      reason: `root is not one ${CHAIN} has published`,
    })

    const run = testBus.namespace
    const registry = '0x00000000000000000000000000000000000000aa'
    await publishChainEvent(
      'attestation',
      {
        envelope: sampleEnvelope(0, { chain: CHAIN, run, finality: 'FINALIZED' }),
        registry,
        change: {
          'io.veridis.chain.AttestationRootUpdated': {
            issuer: '0x00000000000000000000000000000000000000bb',
            previousRoot: null,
            root,
          },
        },
      },
      `${registry}:${root}`,
    )
    await eventually(async () => {
      const { rowCount } = await testBus.pool.query(
        'SELECT 1 FROM zk_known_roots WHERE chain = $1 AND root = $2',
        [CHAIN, root],
      )
      return rowCount ? true : undefined
    })
    const knownRoot = verify(proved, CHAIN)
    const otherChain = verify(proved, 'eip155:31338')
    await send([knownRoot, otherChain])
    expect(await resultFor(knownRoot)).toMatchObject({ status: 'VERIFIED', reason: null })
    expect(await resultFor(otherChain)).toMatchObject({
      status: 'REJECTED',
      reason: 'root is not one eip155:31338 has published',
    })

    const scope = proved.publicSignals[publicSignalIndex(ATTESTATION_DISCLOSURE, 'scope')]!
    await publishChainEvent(
      'nullifier',
      {
        envelope: sampleEnvelope(1, { chain: CHAIN, run, finality: 'PENDING' }),
        registry,
        scope,
        nullifier,
        merkleTreeRoot: null,
        source: 'PROOF',
        originChain: null,
        proof: null,
        publicSignals: [],
        message: null,
      },
      `${scope}:${nullifier}`,
    )
    await eventually(async () => {
      const { rowCount } = await testBus.pool.query('SELECT 1 FROM zk_used_nullifiers WHERE nullifier = $1', [
        nullifier,
      ])
      return rowCount ? true : undefined
    })
    const replayed = verify(proved, CHAIN)
    await send([replayed])
    expect(await resultFor(replayed)).toMatchObject({
      status: 'REJECTED',
      reason: `nullifier already used on ${CHAIN}`,
    })
  })
})
