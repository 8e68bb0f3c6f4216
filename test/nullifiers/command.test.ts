import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { BusProducer } from '../../core/bus/producer.ts'
import { commandLife } from '../../producers/gateway/command-status.ts'
import type { Command } from '../../schemas/generated/veridis.command.v1.ts'
import { freePort, testProducer } from '../support/harness.ts'
import {
  type ConsumerProcess,
  eventually,
  type NullifierWorld,
  projection,
  relayedLogs,
  startNullifierWorld,
} from './support.ts'

/**
 * PropagateNullifierCommand on veridis.command.v1, handled by the nullifier consumer: every
 * requested target gets an outcome for the command's (scope, nullifier, sourceChain), so the
 * command's status (as the gateway derives it) ends done or failed instead of staying
 * accepted; a FAILED propagation is re-planned by a command and carried to PROPAGATED.
 */
let world: NullifierWorld
let consumer: ConsumerProcess
let producer: BusProducer

beforeAll(async () => {
  world = await startNullifierWorld()
  producer = await testProducer(world.testBus)
  consumer = await world.startConsumer()
}, 120_000)

afterAll(async () => {
  await producer?.disconnect()
  await world?.close()
})

function propagateCommand(nullifier: bigint, sourceChain: string, targetChains: string[] = []): Command {
  const id = randomUUID()
  return {
    commandId: id,
    idempotencyKey: `key-${id}`,
    issuedAt: Date.now(),
    actor: { kind: 'SERVICE', id: 'nullifier-command-test' },
    payload: {
      'io.veridis.command.PropagateNullifierCommand': {
        scope: world.scope.toString(),
        nullifier: nullifier.toString(),
        sourceChain,
        targetChains,
      },
    },
  }
}

/** A wait that, when it times out, says what the consumer logged (the last lines). */
async function watching<T>(process: ConsumerProcess, waiting: Promise<T>): Promise<T> {
  try {
    return await waiting
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- consumer output ---\n${process.output().slice(-6000)}`)
  }
}

async function send(command: Command) {
  await producer.publish(world.testBus.bus.topics.command.name, [
    { key: command.idempotencyKey, value: command, eventId: command.commandId },
  ])
}

const payloadOf = (command: Command) => command.payload['io.veridis.command.PropagateNullifierCommand']!

/** Outcome records for the command's (scope, nullifier, sourceChain), as the gateway selects them. */
const outcomesFor = (command: Command) => {
  const { nullifier, sourceChain } = payloadOf(command)
  return world.outcomes.records.filter(
    (record) =>
      record.value.scope === world.scope.toString() &&
      record.value.nullifier === nullifier &&
      record.value.sourceChain === sourceChain,
  )
}

/** The command's status as producers/gateway/command-status.ts derives it from the outcomes. */
function statusOf(command: Command) {
  const latest = new Map<string, ReturnType<typeof outcomesFor>[number]['value']>()
  for (const { value } of outcomesFor(command)) {
    const seen = latest.get(value.targetChain)
    if (!seen || value.at >= seen.at) latest.set(value.targetChain, value)
  }
  return commandLife(
    {
      command: {
        command_id: command.commandId,
        command_type: 'PropagateNullifierCommand',
        actor_kind: command.actor.kind,
        actor_id: command.actor.id,
        summary: { ...payloadOf(command) },
        issued_at: new Date(command.issuedAt),
        projected_at: new Date(),
      },
      proofs: [],
      propagations: [...latest.values()].map((value) => ({
        target_chain: value.targetChain,
        outcome: value.outcome,
        tx_hash: value.txHash,
        reason: value.reason,
        at: new Date(value.at),
      })),
      alerts: [],
      audit: [],
    },
    [world.a.chain, world.b.chain],
  )
}

describe('PropagateNullifierCommand', () => {
  test('behavior: a command for a nullifier never used ends failed: one FAILED outcome per target, with the reason', async () => {
    const { a, b } = world
    const nullifier = 3_000_001n
    const command = propagateCommand(nullifier, a.chain)
    await send(command)

    const [outcome] = await eventually(
      async () => {
        const found = outcomesFor(command)
        return found.length > 0 ? found : undefined
      },
      60_000,
      'a FAILED outcome for the command',
    )
    expect(outcome!.key).toBe(`${world.scope}:${nullifier}`)
    expect(outcome!.value).toMatchObject({
      sourceChain: a.chain,
      targetChain: b.chain,
      outcome: 'FAILED',
      txHash: null,
      reason: `no recorded use of this nullifier on ${a.chain}`,
    })
    expect(statusOf(command).status).toBe('failed')
    // Nothing was planned or sent.
    expect((await projection(world, nullifier)).propagations).toEqual([])
    expect(await world.protocolRegistry(b).getFunction('isUsed')(world.scope, nullifier)).toBe(false)
  }, 120_000)

  test('behavior: for a used, propagated nullifier the outcome is published again; unknown targets and the source fail with a reason', async () => {
    const { a, b, scope } = world
    const nullifier = 3_000_002n
    await (await world.protocolRegistry(a).getFunction('recordUse')(scope, nullifier, 9n)).wait()
    const automatic = await eventually(
      async () =>
        world.outcomes.records.find(
          (record) =>
            record.value.nullifier === nullifier.toString() && record.value.outcome === 'PROPAGATED',
        ),
      60_000,
      'automatic propagation',
    )

    const command = propagateCommand(nullifier, a.chain, [b.chain, 'eip155:424242', a.chain])
    await send(command)
    await eventually(
      async () => {
        const found = outcomesFor(command)
        const again = found.filter((record) => record.eventId === automatic.eventId)
        return again.length >= 2 && found.length >= 4 ? true : undefined
      },
      60_000,
      'the outcome again and the refusals',
    )
    const refusals = outcomesFor(command).filter((record) => record.value.outcome === 'FAILED')
    expect(refusals.map((record) => [record.value.targetChain, record.value.reason]).sort()).toEqual(
      [
        ['eip155:424242', 'eip155:424242 is not a connected chain (VERIDIS_RELAYER_CHAINS)'],
        [a.chain, `${a.chain} is the source chain`],
      ].sort(),
    )
    // Failed because two of its targets cannot be propagated to; B is done.
    const life = statusOf(command)
    expect(life.status).toBe('failed')
    expect(life.result).toMatchObject({
      targets: expect.arrayContaining([expect.objectContaining({ chain: b.chain, outcome: 'PROPAGATED' })]),
    })
    // Still exactly one relayed transaction on B.
    expect(await relayedLogs(b, scope, nullifier)).toHaveLength(1)
  }, 120_000)

  test('behavior: a FAILED propagation is re-planned by a command: registered on B, PROPAGATED, the command done', async () => {
    const { a, b, scope } = world
    const nullifier = 3_000_003n
    // A consumer whose RPC for B is dead, giving up after one attempt: the propagation FAILS.
    await consumer.kill()
    const broken = await world.startConsumer({
      [`VERIDIS_EVM_RPC_URLS_${b.chainId}`]: `http://127.0.0.1:${await freePort()}`,
      VERIDIS_RELAYER_MAX_ATTEMPTS: '1',
    })
    await (await world.protocolRegistry(a).getFunction('recordUse')(scope, nullifier, 11n)).wait()
    const failed = await watching(
      broken,
      eventually(
        async () =>
          world.outcomes.records.find(
            (record) =>
              record.value.nullifier === nullifier.toString() && record.value.targetChain === b.chain,
          ),
        60_000,
        'a FAILED automatic propagation',
      ),
    )
    expect(failed.value.outcome).toBe('FAILED')
    expect(failed.value.reason).toMatch(/gave up after 1 attempts/)
    await broken.kill()
    const registryB = world.protocolRegistry(b)
    expect(await registryB.getFunction('isUsed')(scope, nullifier)).toBe(false)

    consumer = await world.startConsumer()
    const command = propagateCommand(nullifier, a.chain)
    await send(command)
    const propagated = await watching(
      consumer,
      eventually(
        async () =>
          outcomesFor(command).find(
            (record) => record.value.targetChain === b.chain && record.value.outcome === 'PROPAGATED',
          ),
        60_000,
        'PROPAGATED after the command',
      ),
    )
    expect(propagated.eventId).not.toBe(failed.eventId)
    expect(propagated.value.sourceEventId).toBe(failed.value.sourceEventId)
    expect(await registryB.getFunction('isUsed')(scope, nullifier)).toBe(true)
    const relayed = await relayedLogs(b, scope, nullifier)
    expect(relayed).toHaveLength(1)
    expect(relayed[0]!.transactionHash).toBe(propagated.value.txHash)
    expect(statusOf(command).status).toBe('done')

    // The same row, carried through PLANNED → SENT → DONE again.
    const view = await projection(world, nullifier)
    expect(view.propagations).toHaveLength(1)
    expect(view.propagations[0]).toMatchObject({
      target_chain: b.chain,
      state: 'DONE',
      outcome: 'PROPAGATED',
      tx_hash: propagated.value.txHash,
      reason: null,
      published: true,
    })

    // Sent again (a retry of the same request): acted on once, no second transaction.
    await send({ ...command, commandId: randomUUID() })
    await eventually(
      async () =>
        outcomesFor(command).filter((record) => record.eventId === propagated.eventId).length >= 2
          ? true
          : undefined,
      60_000,
      'the outcome published again',
    )
    expect(await relayedLogs(b, scope, nullifier)).toHaveLength(1)
  }, 180_000)
})
