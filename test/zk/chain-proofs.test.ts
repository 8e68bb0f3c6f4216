import { randomBytes } from 'node:crypto'
import { generateProof } from '@semaphore-protocol/proof'
import type { Contract, TransactionReceipt } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { semaphoreSpec } from '../../circuits/catalog.ts'
import { terminateCurves } from '../../circuits/curve.ts'
import { semaphoreHash } from '../../circuits/inputs.ts'
import { PAIRING_FAILED } from '../../consumers/verifier/batch.ts'
import { chainProofResultId } from '../../consumers/verifier/chain-proofs.ts'
import { verifierConsumer } from '../../consumers/verifier/index.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import { runConsumerProcess } from '../../core/service/consumer-process.ts'
import { chainEventId } from '../../producers/chains/common/event-id.ts'
import { unpackSemaphorePoints } from '../../producers/chains/evm/normalise/events.ts'
import type { NullifierEvent } from '../../schemas/generated/veridis.chain.nullifier.v1.ts'
import type { ProofResult } from '../../schemas/generated/veridis.proof.v1.ts'
import {
  chainEntry,
  cleanListenerRows,
  collectChainEvents,
  DEV_ACCOUNT,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import {
  collectTopic,
  eventually,
  openTestBus,
  type TestBus,
  testProducer,
  untilReady,
} from '../support/harness.ts'
import { sampleEnvelope } from '../support/records.ts'
import { semaphoreCase } from './fixtures.ts'

/**
 * Proofs that arrive from chains, not from commands: a Semaphore v4 proof made by
 * @semaphore-protocol/proof (local ceremony artifacts) is used on a real anvil through
 * NullifierRegistry.useNullifierWithProof, which verifies it on-chain; the real
 * `veridis listen evm` process publishes the use with its proof; the verifier consumer
 * verifies it again and publishes a ProofResult keyed by the event id. A chain that does not
 * verify on-chain is played by writing events straight to the nullifier topic.
 *
 * The chain is an anvil of this file's own (random chain id), like every listener test:
 * the listener writes the shared chain_listener_state row of its chain, which must not be
 * the stack's anvil A.
 */
const DEPTH = 20
const spec = semaphoreSpec(DEPTH)
let testBus: TestBus
let chain: TestChain
let listener: ListenerProcess
let seen: Awaited<ReturnType<typeof collectChainEvents>>
let producer: BusProducer
const stops: (() => Promise<void>)[] = []
const results: { key: string | null; value: ProofResult }[] = []
const eventIds: string[] = []
let proof: Awaited<ReturnType<typeof generateProof>>

beforeAll(async () => {
  testBus = await openTestBus()
  chain = await startTestChain()
  listener = await startListener({
    namespace: testBus.namespace,
    configFile: writeEvmConfig([chainEntry(chain)]),
    chains: [chain.chain],
  })
  seen = await collectChainEvents(testBus)
  producer = await testProducer(testBus)
  const running = await runConsumerProcess(testBus.common, verifierConsumer as never, { opsPort: 0 })
  stops.push(() => running.runner.stop())
  stops.push(
    await collectTopic<ProofResult>(testBus, producer, {
      topic: testBus.bus.topics.proof.name,
      name: 'zk-chain-proof-reader',
      onMessage: ({ key, value }) => results.push({ key, value }),
    }),
  )
  // A fresh scope per run: the nullifier is then fresh too.
  const { identity, group } = semaphoreCase(1, 0n, 0n, DEPTH)
  const scope = BigInt(`0x${randomBytes(31).toString('hex')}`)
  proof = await generateProof(identity, group, 2026n, scope, DEPTH, {
    wasm: spec.artifacts.wasm,
    zkey: spec.artifacts.zkey,
  })
  await untilReady(listener, 'listener')
}, 120_000)

afterAll(async () => {
  await listener?.kill()
  await seen?.stop()
  for (const stop of stops.reverse()) await stop()
  await producer?.disconnect()
  await chain?.stop()
  if (testBus) {
    for (const table of ['zk_known_roots', 'zk_used_nullifiers', 'zk_chain_proof_verdicts']) {
      await testBus.pool.query(`DELETE FROM ${table} WHERE event_id = ANY($1)`, [eventIds])
    }
    await cleanListenerRows(testBus, chain ? [chain.chain] : [])
    await testBus.close()
  }
  await terminateCurves()
})

const useArgs = (p: typeof proof, overrides: { message?: string } = {}) =>
  [p.merkleTreeRoot, p.nullifier, overrides.message ?? p.message, p.scope, p.points] as const

/** The custom error a call reverts with, by name. */
async function revertName(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call
    return undefined
  } catch (error) {
    return (error as { revert?: { name?: string } }).revert?.name ?? String(error)
  }
}

const resultsFor = (eventId: string) => results.filter(({ value }) => value.sourceEventId === eventId)
const resultFor = (eventId: string) =>
  eventually(async () => resultsFor(eventId)[0], 60_000, `a result for chain event ${eventId}`)

let receipt: TransactionReceipt
let registry: Contract

describe('proofs from chain events', () => {
  test('behavior: the registry verifies a Semaphore proof on-chain, refusing a tampered one and a second use', async () => {
    registry = chain.contract('NullifierRegistry', DEV_ACCOUNT.zk)
    const use = registry.getFunction('useNullifierWithProof')
    expect(
      await revertName(
        use.staticCall(...useArgs(proof, { message: (BigInt(proof.message) + 1n).toString() })),
      ),
    ).toBe('InvalidProof')
    const tamperedPoints = [...proof.points]
    tamperedPoints[6] = proof.points[0]
    tamperedPoints[7] = proof.points[1]
    expect(
      await revertName(
        use.staticCall(proof.merkleTreeRoot, proof.nullifier, proof.message, proof.scope, tamperedPoints),
      ),
    ).toBe('InvalidProof')
    expect(await registry.getFunction('isUsed')(proof.scope, proof.nullifier)).toBe(false)

    receipt = (await (await use.send(...useArgs(proof))).wait())!
    expect(receipt.status).toBe(1)
    expect(await registry.getFunction('isUsed')(proof.scope, proof.nullifier)).toBe(true)
    expect(await revertName(use.staticCall(...useArgs(proof)))).toBe('NullifierAlreadyUsed')
    // The role-guarded path is untouched and shares the one-use rule.
    expect(
      await revertName(
        chain
          .contract('NullifierRegistry', DEV_ACCOUNT.protocol)
          .getFunction('recordUse')
          .staticCall(proof.scope, proof.nullifier, proof.merkleTreeRoot),
      ),
    ).toBe('NullifierAlreadyUsed')

    const log = registry.interface.parseLog(receipt.logs[0]!)
    expect(log?.name).toBe('NullifierUsedWithProof')
    expect(log?.args.toObject(true)).toMatchObject({
      merkleTreeRoot: BigInt(proof.merkleTreeRoot),
      message: BigInt(proof.message),
      points: proof.points.map(BigInt),
      publicSignals: [
        BigInt(proof.merkleTreeRoot),
        BigInt(proof.nullifier),
        semaphoreHash(BigInt(proof.message)),
        semaphoreHash(BigInt(proof.scope)),
      ],
    })
  })

  test('behavior: the listener publishes the use with its proof; the verifier consumer marks it VERIFIED once, by event id', async () => {
    const log = receipt.logs[0]!
    const eventId = chainEventId({
      chain: chain.chain,
      blockHash: receipt.blockHash,
      txHash: receipt.hash,
      logIndex: log.index,
    })
    eventIds.push(eventId)
    const published = await eventually(
      async () => seen.events.find((event) => event.value.envelope.eventId === eventId),
      30_000,
      `the chain event ${eventId}`,
    )
    expect(published.topic).toBe('nullifier')
    expect(published.key).toBe(`${proof.scope}:${proof.nullifier}`)
    expect(published.value).toMatchObject({
      source: 'PROOF',
      scope: proof.scope,
      nullifier: proof.nullifier,
      merkleTreeRoot: proof.merkleTreeRoot,
      message: proof.message,
      proof: unpackSemaphorePoints(proof.points.map(BigInt)),
      publicSignals: [
        proof.merkleTreeRoot,
        proof.nullifier,
        semaphoreHash(BigInt(proof.message)).toString(),
        semaphoreHash(BigInt(proof.scope)).toString(),
      ],
    })

    const verdict = await resultFor(eventId)
    expect(verdict.key).toBe(eventId)
    expect(verdict.value).toMatchObject({
      resultId: chainProofResultId(eventId),
      commandId: null,
      sourceEventId: eventId,
      circuit: 'IDENTITY_MEMBERSHIP',
      status: 'VERIFIED',
      reason: null,
      publicSignals: (published.value as unknown as NullifierEvent).publicSignals,
    })

    // The FINALIZED copy of the same fact: facts move on, the proof is not verified again.
    await chain.mine(5)
    await eventually(
      async () =>
        seen.events.find(
          (event) =>
            event.value.envelope.eventId === eventId && event.value.envelope.finality === 'FINALIZED',
        ),
      30_000,
      'the FINALIZED copy',
    )
    // The verifier records facts after its verdicts, in the same handler: once the row is
    // FINALIZED, the FINALIZED copy has been through the proof path.
    await eventually(async () => {
      const { rows } = await testBus.pool.query<{ finality: string }>(
        'SELECT finality FROM zk_used_nullifiers WHERE event_id = $1',
        [eventId],
      )
      return rows[0]?.finality === 'FINALIZED' ? true : undefined
    }, 30_000)
    expect(resultsFor(eventId)).toHaveLength(1)
    const { rows: roots } = await testBus.pool.query('SELECT root FROM zk_known_roots WHERE event_id = $1', [
      eventId,
    ])
    expect(roots).toEqual([{ root: proof.merkleTreeRoot }])
  })

  test('behavior: a chain that does not verify on-chain: tampered proofs are REJECTED with a reason, and their roots are not known roots', async () => {
    const genuine = seen.events.find(
      (event) => event.value.envelope.chain === chain.chain && event.topic === 'nullifier',
    )!.value as unknown as NullifierEvent
    const run = testBus.namespace
    const OTHER_CHAIN = 'eip155:4242'
    const event = (
      n: number,
      finality: NullifierEvent['envelope']['finality'],
      changes: Partial<NullifierEvent>,
    ) => {
      const value: NullifierEvent = {
        ...genuine,
        envelope: sampleEnvelope(n, { chain: OTHER_CHAIN, run, finality }),
        ...changes,
      }
      eventIds.push(value.envelope.eventId)
      return value
    }
    const otherMessage = (BigInt(proof.message) + 1n).toString()
    const signalsFor = (message: string) => [
      proof.merkleTreeRoot,
      proof.nullifier,
      semaphoreHash(BigInt(message)).toString(),
      semaphoreHash(BigInt(proof.scope)).toString(),
    ]
    // Never verified: a RETRACTED copy of a fact seen for the first time.
    const retractedOnly = event(10, 'RETRACTED', {})
    // The proof of the genuine use, claimed for another message (signals consistent with it).
    const otherUse = event(11, 'PENDING', { message: otherMessage, publicSignals: signalsFor(otherMessage) })
    // Signals that say one scope while the event says another.
    const mismatched = event(12, 'PENDING', { scope: (BigInt(proof.scope) + 1n).toString() })
    const offCurve = event(13, 'PENDING', { proof: { ...genuine.proof!, piA: ['1', '3', '1'] } })
    const genuineElsewhere = event(14, 'FINALIZED', {})
    // One key: one partition, read in this order.
    await producer.publish(
      testBus.bus.topics.nullifier.name,
      [retractedOnly, otherUse, mismatched, offCurve, genuineElsewhere].map((value) => ({
        key: `${proof.scope}:${proof.nullifier}`,
        value,
        eventId: value.envelope.eventId,
      })),
    )

    expect((await resultFor(otherUse.envelope.eventId)).value).toMatchObject({
      status: 'REJECTED',
      reason: PAIRING_FAILED,
      sourceEventId: otherUse.envelope.eventId,
      commandId: null,
    })
    expect((await resultFor(mismatched.envelope.eventId)).value).toMatchObject({
      status: 'REJECTED',
      reason: 'public signals do not match the event: scope',
    })
    expect((await resultFor(offCurve.envelope.eventId)).value).toMatchObject({
      status: 'REJECTED',
      reason: 'malformed: piA is not on the curve',
    })
    expect((await resultFor(genuineElsewhere.envelope.eventId)).value).toMatchObject({
      status: 'VERIFIED',
      reason: null,
    })
    expect(resultsFor(retractedOnly.envelope.eventId)).toEqual([])

    // Verdicts, then roots, are recorded after the results are acknowledged: once the last
    // event's root is there, every earlier one of the partition has been handled.
    await eventually(
      async () =>
        (
          await testBus.pool.query('SELECT 1 FROM zk_known_roots WHERE event_id = $1', [
            genuineElsewhere.envelope.eventId,
          ])
        ).rowCount === 1
          ? true
          : undefined,
      30_000,
      'the root of the genuine use recorded',
    )
    const { rows } = await testBus.pool.query<{ event_id: string }>(
      'SELECT event_id FROM zk_known_roots WHERE event_id = ANY($1) ORDER BY event_id',
      [[otherUse, mismatched, offCurve, genuineElsewhere].map((value) => value.envelope.eventId)],
    )
    expect(rows.map((row) => row.event_id)).toEqual([genuineElsewhere.envelope.eventId])
    const { rows: verdicts } = await testBus.pool.query<{ status: string }>(
      'SELECT status FROM zk_chain_proof_verdicts WHERE event_id = ANY($1)',
      [[otherUse, mismatched, offCurve].map((value) => value.envelope.eventId)],
    )
    expect(verdicts.map((row) => row.status)).toEqual(['REJECTED', 'REJECTED', 'REJECTED'])
  })
})
