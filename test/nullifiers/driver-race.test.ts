import { randomInt } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createPropagationDriver, type PropagationRow } from '../../consumers/nullifiers/propagate.ts'
import { createSenderLock } from '../../consumers/nullifiers/sender-lock.ts'
import { createEvmWriter } from '../../consumers/nullifiers/writers/evm.ts'
import { DEV_ACCOUNT, devWallet } from '../../contracts/evm/accounts.ts'
import { startTestChain, type TestChain } from '../evm/support.ts'
import { openTestBus, type TestBus } from '../support/harness.ts'

/**
 * A driver holding a PLANNED row that another driver (another member after a rebalance, the
 * command handler, the follower) has already finished: its guarded update matches nothing,
 * and it must stop there — not go round again, and not publish a second outcome. Real
 * Postgres tables, a real target chain.
 */
let testBus: TestBus
let chain: TestChain
const scope = String(randomInt(1, 2 ** 47))

beforeAll(async () => {
  testBus = await openTestBus()
  chain = await startTestChain()
}, 60_000)

afterAll(async () => {
  if (testBus) await testBus.pool.query('DELETE FROM nullifier_propagations WHERE scope = $1', [scope])
  await chain?.stop()
  await testBus?.close()
})

/** The row as the other driver left it (DONE), and as this driver still holds it (PLANNED). */
async function finishedElsewhere(nullifier: string, sourceRetracted: boolean): Promise<PropagationRow> {
  const sourceEventId = `driver-race-${scope}-${nullifier}`
  await testBus.pool.query(
    `INSERT INTO nullifier_propagations (source_event_id, target_chain, scope, nullifier, source_chain,
       source_observed_at, state, outcome, tx_hash, source_retracted)
     VALUES ($1, $2, $3, $4, 'eip155:1', now(), 'DONE', 'PROPAGATED', '0xfeed', $5)`,
    [sourceEventId, chain.chain, scope, nullifier, sourceRetracted],
  )
  return {
    source_event_id: sourceEventId,
    target_chain: chain.chain,
    scope,
    nullifier,
    source_chain: 'eip155:1',
    merkle_tree_root: '3',
    source_observed_ms: Date.now(),
    state: 'PLANNED',
    outcome: null,
    nonce: null,
    tx_hash: null,
    signed_tx: null,
    attempts: 0,
    reason: null,
    latency_ms: null,
    source_retracted: sourceRetracted,
    completed_ms: null,
    sent_ms: null,
  }
}

function driver() {
  const writer = createEvmWriter({
    chain: chain.chain,
    chainId: BigInt(chain.chainId),
    rpcUrls: [chain.url],
    registry: chain.deployment.contracts.NullifierRegistry,
    privateKey: devWallet(DEV_ACCOUNT.relayer).privateKey,
    requestTimeoutMs: 2_000,
  })
  const published: PropagationRow[] = []
  const outcomes: string[] = []
  const propagation = createPropagationDriver({
    pool: testBus.pool,
    writers: new Map([[chain.chain, writer]]),
    withSenderLock: createSenderLock(testBus.pool),
    logger: pino({ level: 'silent' }),
    maxAttempts: 3,
    backoffMs: 1,
    backoffMaxMs: 1,
    fault: undefined,
    publish: async (row) => {
      published.push(row)
    },
    onOutcome: (_row, outcome) => outcomes.push(outcome.outcome),
  })
  return { propagation, writer, published, outcomes }
}

const context = { signal: new AbortController().signal, heartbeat: async () => undefined }

async function stored(row: PropagationRow) {
  const { rows } = await testBus.pool.query(
    'SELECT state, outcome, tx_hash FROM nullifier_propagations WHERE source_event_id = $1',
    [row.source_event_id],
  )
  return rows
}

/** The driver returns (a spinning one times the test out) having changed and published nothing. */
async function advanceAndExpectNothing(subject: ReturnType<typeof driver>, row: PropagationRow) {
  await subject.propagation.advance(row, context)
  subject.writer.close()
  expect(subject.published).toEqual([])
  expect(subject.outcomes).toEqual([])
  expect(await stored(row)).toEqual([{ state: 'DONE', outcome: 'PROPAGATED', tx_hash: '0xfeed' }])
}

describe('propagation driver: a row another driver already finished', () => {
  test('behavior: the source use was retracted meanwhile → the driver stops, nothing published, the row untouched', async () => {
    const subject = driver()
    const row = await finishedElsewhere('101', true)
    await advanceAndExpectNothing(subject, row)
  }, 15_000)

  test('behavior: the target already holds the nullifier → the driver stops, nothing published, the row untouched', async () => {
    const subject = driver()
    const row = await finishedElsewhere('102', false)
    // The other driver's transaction landed: the registry holds the nullifier.
    await (await chain.contract('NullifierRegistry').getFunction('recordUse')(BigInt(scope), 102n, 3n)).wait()
    expect(await subject.writer.isUsed(scope, '102')).toBe(true)
    await advanceAndExpectNothing(subject, row)
  }, 15_000)
})
