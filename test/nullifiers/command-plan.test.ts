import { randomInt, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { answerCommand, type PropagateRequest, planCommands } from '../../consumers/nullifiers/command.ts'
import { inTransaction } from '../../core/db/pool.ts'
import { openTestBus, type TestBus } from '../support/harness.ts'

/**
 * The rules of a PropagateNullifierCommand against the consumer's real Postgres tables, with
 * states that are hard to reach through the chains: a target whose nullifier is already being
 * propagated there from another use of it. The command must still get an outcome for that
 * target — otherwise its status would wait forever.
 */
const A = 'eip155:31337'
const B = 'eip155:31338'
const CONNECTED = [A, B]

let testBus: TestBus
const scope = String(randomInt(1, 2 ** 47))

beforeAll(async () => {
  testBus = await openTestBus()
})

afterAll(async () => {
  if (testBus) {
    await testBus.pool.query('DELETE FROM nullifier_propagations WHERE scope = $1', [scope])
    await testBus.pool.query('DELETE FROM nullifier_uses WHERE scope = $1', [scope])
  }
  await testBus?.close()
})

let arrival = 0
async function use(eventId: string, nullifier: string, chain: string, finality = 'FINALIZED') {
  await testBus.pool.query(
    `INSERT INTO nullifier_uses (event_id, scope, nullifier, chain, source, block_number, tx_hash, finality,
       observed_at, arrival)
     VALUES ($1, $2, $3, $4, 'PROOF', 1, '0x01', $5, now(), $6)`,
    [eventId, scope, nullifier, chain, finality, ++arrival],
  )
}

async function propagation(
  sourceEventId: string,
  nullifier: string,
  sourceChain: string,
  target: string,
  state: string,
) {
  await testBus.pool.query(
    `INSERT INTO nullifier_propagations (source_event_id, target_chain, scope, nullifier, source_chain,
       source_observed_at, state, outcome)
     VALUES ($1, $2, $3, $4, $5, now(), $6, $7)`,
    [sourceEventId, target, scope, nullifier, sourceChain, state, state === 'DONE' ? 'PROPAGATED' : null],
  )
}

function request(nullifier: string, sourceChain: string, targetChains: string[] = []): PropagateRequest {
  const commandId = randomUUID()
  return {
    command: {
      commandId,
      idempotencyKey: `key-${commandId}`,
      issuedAt: Date.now(),
      actor: { kind: 'SERVICE', id: 'command-plan-test' },
      payload: {
        'io.veridis.command.PropagateNullifierCommand': { scope, nullifier, sourceChain, targetChains },
      },
    },
    scope,
    nullifier,
    sourceChain,
    targetChains,
  }
}

async function plannedRows(nullifier: string) {
  const { rows } = await testBus.pool.query<{ source_event_id: string; target_chain: string; state: string }>(
    'SELECT source_event_id, target_chain, state FROM nullifier_propagations WHERE scope = $1 AND nullifier = $2 ORDER BY source_event_id',
    [scope, nullifier],
  )
  return rows
}

describe('PropagateNullifierCommand rules', () => {
  test('behavior: a target already being reached from another use is refused with the reason, nothing planned twice', async () => {
    // The first use on A was retracted after its propagation to B was sent; a new use on A followed.
    await use('retracted-use', '71', A, 'RETRACTED')
    await propagation('retracted-use', '71', A, B, 'SENT')
    await use('new-use', '71', A)

    const command = request('71', A)
    await inTransaction(testBus.pool, (client) => planCommands(client, [command], CONNECTED))
    expect(await plannedRows('71')).toEqual([
      { source_event_id: 'retracted-use', target_chain: B, state: 'SENT' },
    ])

    const answer = await answerCommand(testBus.pool, command, CONNECTED)
    expect(answer.planned).toEqual([])
    expect(answer.done).toEqual([])
    expect(answer.refusals).toHaveLength(1)
    expect(answer.refusals[0]).toMatchObject({
      eventId: `command:${command.command.idempotencyKey}:${B}`,
      value: {
        scope,
        nullifier: '71',
        sourceChain: A,
        sourceEventId: 'new-use',
        targetChain: B,
        outcome: 'FAILED',
        reason: `another use of this nullifier (on ${A}) is being propagated to ${B}; send the command again once that has finished`,
      },
    })
  })

  test('behavior: once the other propagation has finished, the same command plans its own', async () => {
    await testBus.pool.query(
      `UPDATE nullifier_propagations SET state = 'DONE', outcome = 'PROPAGATED' WHERE scope = $1 AND nullifier = '71'`,
      [scope],
    )
    const again = request('71', A)
    await inTransaction(testBus.pool, (client) => planCommands(client, [again], CONNECTED))
    const answer = await answerCommand(testBus.pool, again, CONNECTED)
    expect(answer.refusals).toEqual([])
    expect(answer.planned.map((row) => [row.source_event_id, row.target_chain])).toEqual([['new-use', B]])
  })

  test('behavior: a use never recorded on the source chain fails every requested target; a FAILED propagation is re-planned', async () => {
    const unknown = await answerCommand(testBus.pool, request('72', B, [A]), CONNECTED)
    expect(unknown.refusals.map(({ value }) => [value.targetChain, value.reason])).toEqual([
      [A, `no recorded use of this nullifier on ${B}`],
    ])

    await use('failed-use', '73', A)
    await propagation('failed-use', '73', A, B, 'DONE')
    await testBus.pool.query(
      `UPDATE nullifier_propagations SET outcome = 'FAILED', reason = 'gave up', tx_hash = '0xdead', attempts = 5
       WHERE source_event_id = 'failed-use'`,
    )
    const retry = request('73', A, [B])
    await inTransaction(testBus.pool, (client) => planCommands(client, [retry], CONNECTED))
    const { rows } = await testBus.pool.query(
      `SELECT state, outcome, reason, tx_hash, attempts, dropped_tx_hashes FROM nullifier_propagations
       WHERE source_event_id = 'failed-use'`,
    )
    expect(rows).toEqual([
      {
        state: 'PLANNED',
        outcome: null,
        reason: null,
        tx_hash: null,
        attempts: 0,
        dropped_tx_hashes: ['0xdead'],
      },
    ])
    const answer = await answerCommand(testBus.pool, retry, CONNECTED)
    expect(answer.planned.map((row) => row.target_chain)).toEqual([B])
  })
})
