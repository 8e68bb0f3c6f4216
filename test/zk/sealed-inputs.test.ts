import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { terminateCurves } from '../../circuits/curve.ts'
import { type CircuitInputs, loadHashers } from '../../circuits/inputs.ts'
import { proverConsumer } from '../../consumers/prover/index.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { Command, ProofResult } from '../../core/bus/types.ts'
import { loadProverPublicKey } from '../../core/crypto/prover-key.ts'
import { sealProveInputs } from '../../core/crypto/prover-seal.ts'
import { runConsumerProcess } from '../../core/service/consumer-process.ts'
import { collectTopic, eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import { erasureCase } from './fixtures.ts'

/**
 * Issue 16 item 1, the prover's side: prove inputs travel sealed to the prover's key; the
 * prover consumer proves what opens, and refuses plain text and what does not open.
 */
let testBus: TestBus
let producer: BusProducer
const stops: (() => Promise<void>)[] = []
const results: ProofResult[] = []

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  const running = await runConsumerProcess(testBus.common, proverConsumer as never, { opsPort: 0 })
  stops.push(() => running.runner.stop())
  stops.push(
    await collectTopic<ProofResult>(testBus, producer, {
      topic: testBus.bus.topics.proof.name,
      name: 'sealed-inputs-reader',
      onMessage: (message) => results.push(message.value),
    }),
  )
})

afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
  await producer?.disconnect()
  await testBus?.close()
  await terminateCurves()
})

function proveCommand(inputs: CircuitInputs, commandId = randomUUID()): Command {
  return {
    commandId,
    idempotencyKey: `sealed-${commandId}`,
    issuedAt: Date.now(),
    actor: { kind: 'UPSTREAM', id: 'sealed-inputs-test' },
    payload: { 'io.veridis.command.ProveCommand': { circuit: 'ERASURE', inputs } },
  }
}

async function resultOf(command: Command): Promise<ProofResult> {
  await producer.publish(testBus.bus.topics.command.name, [
    { key: command.idempotencyKey, value: command, eventId: command.commandId },
  ])
  return eventually(
    async () => results.find((result) => result.commandId === command.commandId),
    90_000,
    `a result for ${command.commandId}`,
  )
}

describe('sealed prove inputs', () => {
  test('behavior: inputs sealed to the prover are opened and proved', async () => {
    const { inputs, oldRoot, newRoot } = erasureCase(await loadHashers(), `sealed-${testBus.namespace}`)
    const commandId = randomUUID()
    const sealed = sealProveInputs(loadProverPublicKey(testBus.common.config), commandId, inputs)
    expect(JSON.stringify(sealed)).not.toContain(inputs.dataKey![0])
    const result = await resultOf(proveCommand(sealed, commandId))
    expect(result.reason).toBeNull()
    expect(result.status).toBe('GENERATED')
    expect(result.publicSignals.slice(1)).toEqual([oldRoot.toString(), newRoot.toString()])
  }, 120_000)

  test('error: plain-text inputs are refused naming the signals, never proved', async () => {
    const { inputs } = erasureCase(await loadHashers(), `plain-${testBus.namespace}`)
    const result = await resultOf(proveCommand(inputs))
    expect(result.status).toBe('REJECTED')
    expect(result.reason).toMatch(
      /^inputs in plain text \(dataKey, newRoot, oldRoot, pathIndices, siblings, subjectHash\): .*sealed/,
    )
    expect(result.reason).not.toContain(inputs.dataKey![0])
  }, 120_000)

  test('error: inputs sealed to another key, or for another command, do not open and are refused', async () => {
    const { inputs } = erasureCase(await loadHashers(), `foreign-${testBus.namespace}`)
    const stranger = generateKeyPairSync('x25519').publicKey
    const foreign = await resultOf(proveCommand(sealProveInputs(stranger, randomUUID(), inputs)))
    // Sealed for one command, replayed inside another: the command id is bound into each value.
    const moved = await resultOf(
      proveCommand(sealProveInputs(loadProverPublicKey(testBus.common.config), randomUUID(), inputs)),
    )
    for (const result of [foreign, moved]) {
      expect(result.status).toBe('REJECTED')
      expect(result.reason).toBe("sealed inputs do not open with this prover's key for this command")
    }
  }, 120_000)
})
