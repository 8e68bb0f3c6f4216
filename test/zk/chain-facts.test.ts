import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  canonicalElement,
  knownRoots,
  recordChainFacts,
  usedNullifiers,
} from '../../consumers/verifier/facts.ts'
import { loadConfig } from '../../core/config/env.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'
import { createLogger } from '../../core/logging/logger.ts'
import type { AttestationEvent } from '../../schemas/generated/veridis.chain.attestation.v1.ts'
import type { NullifierEvent } from '../../schemas/generated/veridis.chain.nullifier.v1.ts'
import { randomNamespace } from '../support/harness.ts'
import { sampleEnvelope } from '../support/records.ts'

/** The roots and nullifiers the verifier keeps from chain events, through reorgs. */
const config = loadConfig({ ...process.env, VERIDIS_LOG_LEVEL: 'warn' })
const logger = createLogger({ service: 'test', level: 'warn' })
let pool: Pool
const run = randomNamespace('zkfacts')
const eventIds: string[] = []

beforeAll(() => {
  pool = createPool(config.database, logger, 'veridis-test')
})
afterAll(async () => {
  await pool.query('DELETE FROM zk_known_roots WHERE event_id = ANY($1)', [eventIds])
  await pool.query('DELETE FROM zk_used_nullifiers WHERE event_id = ANY($1)', [eventIds])
  await pool.end()
})

const CHAIN = 'eip155:31337'
type Finality = AttestationEvent['envelope']['finality']

function rootEvent(n: number, root: string, finality: Finality): AttestationEvent {
  const envelope = { ...sampleEnvelope(n, { chain: CHAIN, run }), finality }
  eventIds.push(envelope.eventId)
  return {
    envelope,
    registry: '0x00000000000000000000000000000000000000aa',
    change: { 'io.veridis.chain.AttestationRootUpdated': { issuer: '0xbb', previousRoot: null, root } },
  }
}

function nullifierEvent(n: number, nullifier: string, finality: Finality): NullifierEvent {
  const envelope = { ...sampleEnvelope(n, { chain: CHAIN, run }), finality }
  eventIds.push(envelope.eventId)
  return {
    envelope,
    registry: '0x00000000000000000000000000000000000000cc',
    scope: '7',
    nullifier,
    merkleTreeRoot: '0x2a',
    source: 'PROOF',
    originChain: null,
    proof: null,
    publicSignals: [],
    message: null,
  }
}

const record = (values: (AttestationEvent | NullifierEvent)[]) =>
  recordChainFacts(
    pool,
    logger,
    values.map((value) => ({ value }) as never),
  )

describe('chain facts for proof checks', () => {
  test('roots come and go with their events: a reorg retracts, a finalized re-inclusion stays', async () => {
    const root = (n: number) => `${BigInt(`0x${Buffer.from(`${run}${n}`).toString('hex').slice(0, 60)}`)}`
    await record([
      rootEvent(0, root(0), 'PENDING'),
      rootEvent(1, root(1), 'PENDING'),
      rootEvent(2, root(2), 'PENDING'),
    ])
    await record([rootEvent(1, root(1), 'RETRACTED'), rootEvent(2, root(2), 'FINALIZED')])
    // Late RETRACTED after FINALIZED does not undo it; the first root stays PENDING and counts.
    await record([rootEvent(2, root(2), 'RETRACTED')])
    const pairs = [0, 1, 2].map((n) => ({ chain: CHAIN, root: root(n) }))
    expect(await knownRoots(pool, pairs)).toEqual(new Set([`${CHAIN}|${root(0)}`, `${CHAIN}|${root(2)}`]))
    expect(await knownRoots(pool, [{ chain: 'eip155:31338', root: root(0) }])).toEqual(new Set())
  })

  test('nullifiers are recorded in canonical form, with the group root of their event', async () => {
    await record([nullifierEvent(10, '0x0000ff', 'PENDING'), nullifierEvent(11, '77', 'PENDING')])
    await record([nullifierEvent(11, '77', 'RETRACTED')])
    const used = await usedNullifiers(pool, [
      { chain: CHAIN, nullifier: '255' },
      { chain: CHAIN, nullifier: '77' },
    ])
    expect(used).toEqual(new Set([`${CHAIN}|255`]))
    expect(await knownRoots(pool, [{ chain: CHAIN, root: '42' }])).toEqual(new Set([`${CHAIN}|42`]))
  })

  test('field elements are canonicalised; anything else is not one', () => {
    expect(canonicalElement('0x00ff')).toBe('255')
    expect(canonicalElement('000123')).toBe('123')
    expect(canonicalElement('12abc')).toBeUndefined()
    expect(canonicalElement('-1')).toBeUndefined()
    expect(canonicalElement(`0x${'f'.repeat(65)}`)).toBeUndefined()
  })
})
