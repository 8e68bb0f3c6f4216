import { Keypair } from '@solana/web3.js'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { fundFromMint } from '../../infra/stack/solana-validator.ts'
import { chainEventId } from '../../producers/chains/common/event-id.ts'
import { cleanListenerRows, collectChainEvents, type SeenEvent } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  type Sent,
  startSolanaListener,
  startTestValidator,
  type TestValidator,
  validatorEntry,
  writeSolanaConfig,
} from './support.ts'

/**
 * Veridis facts on a real solana-test-validator reach Kafka through a real `veridis listen
 * solana` process: Avro-decoded, with the envelope the block gives (slot, blockhash, first
 * signature, position), PENDING once the block is confirmed and FINALIZED once its slot is.
 * The System program refuses a second use of a nullifier; memos nobody authorised are ignored.
 */
let testBus: TestBus
let validator: TestValidator
let listener: ListenerProcess
let seen: Awaited<ReturnType<typeof collectChainEvents>>

beforeAll(async () => {
  testBus = await openTestBus()
  validator = await startTestValidator()
  const configFile = writeSolanaConfig([validatorEntry(validator)])
  listener = await startSolanaListener({
    namespace: testBus.namespace,
    configFile,
    chains: [validator.chain],
  })
  seen = await collectChainEvents(testBus)
  await untilReady(listener, 'listener')
}, 240_000)

afterAll(async () => {
  await listener?.kill()
  await seen?.stop()
  await validator?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, validator ? [validator.chain] : [])
    await testBus.close()
  }
})

/** The envelope the listener must publish for the Veridis memo at `instruction` of this transaction. */
function expectedEnvelope(sent: Sent, instruction: number, emitter: string) {
  const logIndex = sent.index * 256 + instruction
  return {
    eventId: chainEventId({
      chain: validator.chain,
      blockHash: sent.blockhash,
      txHash: sent.signature,
      logIndex,
    }),
    chain: validator.chain,
    blockNumber: sent.slot,
    blockHash: sent.blockhash,
    txHash: sent.signature,
    logIndex,
    emitter,
  }
}

function waitFor(eventId: string, finality: string, timeoutMs = 30_000): Promise<SeenEvent> {
  return eventually(
    async () =>
      seen.events.find(
        (event) => event.value.envelope.eventId === eventId && event.value.envelope.finality === finality,
      ),
    timeoutMs,
    `${finality} event ${eventId}`,
  )
}

// A BN254 field element: decimal strings travel whole.
const BIG = 21888242871839275222246405745257275088548364400416903003010253917330944875000n

describe('Solana listener: Veridis memos through the common engine', () => {
  test('behavior: attestation and nullifier events arrive decoded with the block envelope, PENDING then FINALIZED', async () => {
    const attester = validator.attester.publicKey.toBase58()
    const authority = validator.authority.publicKey.toBase58()
    const issued = await validator.memo({
      k: 'AttestationIssued',
      id: '11',
      root: BIG.toString(),
      schema: null,
    })
    const revoked = await validator.memo({ k: 'AttestationRevoked', id: '11', reason: 'expired' })
    const used = await validator.use(5n, BIG - 1n, { root: 7n })
    const relayed = await validator.use(5n, BIG - 2n, { relayedFrom: 'eip155:31337', root: 0n })

    const cases = [
      { sent: issued, instruction: 0, emitter: attester, topic: 'attestation' },
      { sent: revoked, instruction: 0, emitter: attester, topic: 'attestation' },
      { sent: used, instruction: 1, emitter: authority, topic: 'nullifier' },
      { sent: relayed, instruction: 1, emitter: authority, topic: 'nullifier' },
    ]
    const pending: SeenEvent[] = []
    for (const item of cases) {
      const envelope = expectedEnvelope(item.sent, item.instruction, item.emitter)
      const event = await waitFor(envelope.eventId, 'PENDING')
      expect(event.topic).toBe(item.topic)
      expect(event.value.envelope).toMatchObject(envelope)
      expect(event.headerEventId).toBe(envelope.eventId)
      pending.push(event)
    }
    expect(pending[0]!.value).toMatchObject({
      registry: attester,
      change: {
        'io.veridis.chain.AttestationIssued': {
          attestationId: '11',
          issuer: attester,
          root: BIG.toString(),
          schemaId: null,
        },
      },
    })
    expect(pending[1]!.value).toMatchObject({
      change: { 'io.veridis.chain.AttestationRevoked': { attestationId: '11', reason: 'expired' } },
    })
    expect(pending[2]!.key).toBe(`5:${BIG - 1n}`)
    expect(pending[2]!.value).toMatchObject({
      registry: authority,
      scope: '5',
      nullifier: (BIG - 1n).toString(),
      merkleTreeRoot: '7',
      source: 'PROOF',
      originChain: null,
    })
    expect(pending[3]!.value).toMatchObject({
      source: 'RELAYER',
      originChain: 'eip155:31337',
      merkleTreeRoot: null,
    })

    // The finalized slot trails the confirmed one by ~32 slots (~13 s at 400 ms); a cap for a
    // loaded machine, where the validator (nice 10) stretches its slots: 60 s failed once.
    for (const event of pending) {
      const final = await waitFor(event.value.envelope.eventId, 'FINALIZED', 180_000)
      expect({ ...final.value, envelope: { ...final.value.envelope, observedAt: 0, finality: '' } }).toEqual({
        ...event.value,
        envelope: { ...event.value.envelope, observedAt: 0, finality: '' },
      })
    }
    const ours = seen.of(validator.chain)
    expect(ours.filter((event) => event.value.envelope.finality === 'PENDING')).toHaveLength(4)
    expect(ours.filter((event) => event.value.envelope.finality === 'FINALIZED')).toHaveLength(4)
  }, 300_000)

  test('behavior: a second use of a nullifier is refused on-chain; memos nobody authorised are ignored', async () => {
    await validator.use(6n, 600n)
    expect(await validator.isUsed(6n, 600n)).toBe(true)
    await expect(validator.use(6n, 600n)).rejects.toThrow(/already in use|custom program error: 0x0/i)

    // An attestation memo signed by someone else, a use memo without its marker account.
    const stranger = Keypair.generate()
    await fundFromMint(validator.url, validator.ledger, [stranger.publicKey], 1)
    const forgedAttestation = await validator.memo(
      { k: 'AttestationIssued', id: '12', root: '1', schema: null },
      stranger,
    )
    const unmarked = await validator.memo({ k: 'NullifierUsed', scope: '6', nullifier: '601', root: null })
    const marker = await validator.use(6n, 602n)
    await waitFor(expectedEnvelope(marker, 1, validator.authority.publicKey.toBase58()).eventId, 'PENDING')
    const txs = new Set(seen.of(validator.chain).map((event) => event.value.envelope.txHash))
    expect(txs.has(forgedAttestation.signature)).toBe(false)
    expect(txs.has(unmarked.signature)).toBe(false)
    const uses = seen
      .of(validator.chain)
      .filter((event) => event.topic === 'nullifier' && event.value.envelope.finality === 'PENDING')
      .filter((event) => event.value.scope === '6')
    expect(uses.map((event) => event.value.nullifier)).toEqual(['600', '602'])
  }, 120_000)
})
