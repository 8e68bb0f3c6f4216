import { getBytes, id as keccakText, type TransactionReceipt } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { chainEventId } from '../../producers/chains/common/event-id.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  chainEntry,
  cleanListenerRows,
  collectChainEvents,
  DEV_ACCOUNT,
  devWallet,
  type SeenEvent,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from './support.ts'

/**
 * Contract events of two real anvil chains reach the right topics through a real
 * `veridis listen evm` process, Avro-decoded, with the envelope the chain says, keyed so that
 * related facts meet, PENDING first and FINALIZED after the chain's confirmations.
 */
let testBus: TestBus
let a: TestChain
let b: TestChain
let listener: ListenerProcess
let seen: Awaited<ReturnType<typeof collectChainEvents>>

beforeAll(async () => {
  testBus = await openTestBus()
  ;[a, b] = await Promise.all([startTestChain(), startTestChain()])
  const configFile = writeEvmConfig([chainEntry(a), chainEntry(b, { wsUrl: b.wsUrl })])
  listener = await startListener({ namespace: testBus.namespace, configFile, chains: [a.chain, b.chain] })
  seen = await collectChainEvents(testBus)
  // Caught up with both heads: what follows is published PENDING at the head.
  await untilReady(listener, 'listener')
})

afterAll(async () => {
  await listener?.kill()
  await seen?.stop()
  await Promise.all([a?.stop(), b?.stop()])
  if (testBus) {
    await cleanListenerRows(testBus, [a?.chain, b?.chain].filter(Boolean) as string[])
    await testBus.close()
  }
})

/** The envelope a log of this receipt must carry. */
function expectedEnvelope(chain: TestChain, receipt: TransactionReceipt, logPosition = 0) {
  const log = receipt.logs[logPosition]!
  return {
    eventId: chainEventId({
      chain: chain.chain,
      blockHash: receipt.blockHash,
      txHash: receipt.hash,
      logIndex: log.index,
    }),
    chain: chain.chain,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash.toLowerCase(),
    txHash: receipt.hash.toLowerCase(),
    logIndex: log.index,
    emitter: log.address,
  }
}

async function waitFor(eventId: string, finality: string): Promise<SeenEvent> {
  return eventually(
    async () =>
      seen.events.find(
        (event) => event.value.envelope.eventId === eventId && event.value.envelope.finality === finality,
      ),
    30_000,
    `${finality} event ${eventId}`,
  )
}

const send = async (promise: Promise<{ wait(): Promise<TransactionReceipt | null> }>) =>
  (await (await promise).wait())!

describe('EVM listener: contract events on both chains', () => {
  test('behavior: attestation, nullifier and bridge events arrive decoded with the chain envelope', async () => {
    const attestations = a.contract('AttestationRegistry')
    const schemaId = keccakText('kyc-basic-v1')
    const issued = await send(attestations.getFunction('issue')(11n, 22n, schemaId))
    const revoked = await send(attestations.getFunction('revoke')(11n, 'expired'))
    const rooted = await send(attestations.getFunction('updateRoot')(33n))

    const used = await send(a.contract('NullifierRegistry').getFunction('recordUse')(5n, 6n, 7n))
    const relayed = await send(
      b.contract('NullifierRegistry', DEV_ACCOUNT.relayer).getFunction('recordRelayed')(5n, 6n, 7n, a.chain),
    )

    // A bridge transfer: lock on A, mint on B against 2 of 3 guardian signatures.
    const user = devWallet(DEV_ACCOUNT.user).address
    await send(
      a.contract('BridgeToken', DEV_ACCOUNT.user).getFunction('approve')(
        a.deployment.contracts.BridgeGateway,
        1000n,
      ),
    )
    const locked = await send(
      a.contract('BridgeGateway', DEV_ACCOUNT.user).getFunction('lock')(
        0,
        a.deployment.contracts.BridgeToken,
        1000n,
        b.chainId,
        user,
      ),
    )
    const gatewayB = b.contract('BridgeGateway', DEV_ACCOUNT.user)
    const messageId = (await a.contract('BridgeGateway').getFunction('messageIdOf')(
      a.chainId,
      a.deployment.contracts.BridgeGateway,
      0n,
    )) as string
    const digest = (await gatewayB.getFunction('releaseDigest')(
      0,
      b.deployment.contracts.BridgeToken,
      user,
      1000n,
      messageId,
    )) as string
    const guardians = DEV_ACCOUNT.guardians
      .map((index) => devWallet(index))
      .sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))
      .slice(0, 2)
    const signatures = await Promise.all(guardians.map((guardian) => guardian.signMessage(getBytes(digest))))
    const released = await send(
      gatewayB.getFunction('release')(
        0,
        b.deployment.contracts.BridgeToken,
        user,
        1000n,
        a.chainId,
        a.deployment.contracts.BridgeGateway,
        0n,
        signatures,
      ),
    )

    // Attestations.
    const issuedEvent = await waitFor(expectedEnvelope(a, issued).eventId, 'PENDING')
    expect(issuedEvent.topic).toBe('attestation')
    expect(issuedEvent.value.envelope).toMatchObject(expectedEnvelope(a, issued))
    expect(issuedEvent.headerEventId).toBe(issuedEvent.value.envelope.eventId)
    const registry = a.deployment.contracts.AttestationRegistry
    expect(issuedEvent.value).toMatchObject({
      registry,
      change: {
        'io.veridis.chain.AttestationIssued': {
          attestationId: '11',
          issuer: devWallet(DEV_ACCOUNT.protocol).address,
          root: '22',
          schemaId,
        },
      },
    })
    expect(issuedEvent.key).toBe(`${registry}:11`)
    const revokedEvent = await waitFor(expectedEnvelope(a, revoked).eventId, 'PENDING')
    expect(revokedEvent.value.change).toEqual({
      'io.veridis.chain.AttestationRevoked': {
        attestationId: '11',
        issuer: devWallet(DEV_ACCOUNT.protocol).address,
        reason: 'expired',
      },
    })
    const rootEvent = await waitFor(expectedEnvelope(a, rooted).eventId, 'PENDING')
    expect(rootEvent.value.change).toEqual({
      'io.veridis.chain.AttestationRootUpdated': {
        issuer: devWallet(DEV_ACCOUNT.protocol).address,
        previousRoot: '22',
        root: '33',
      },
    })
    expect(rootEvent.key).toBe(`${registry}:root`)

    // Nullifiers: a use on A and its relayed copy on B share the key, so one partition orders them.
    const usedEvent = await waitFor(expectedEnvelope(a, used).eventId, 'PENDING')
    expect(usedEvent.topic).toBe('nullifier')
    expect(usedEvent.value).toMatchObject({
      scope: '5',
      nullifier: '6',
      merkleTreeRoot: '7',
      source: 'PROOF',
      originChain: null,
    })
    const relayedEvent = await waitFor(expectedEnvelope(b, relayed).eventId, 'PENDING')
    expect(relayedEvent.value.envelope).toMatchObject(expectedEnvelope(b, relayed))
    expect(relayedEvent.value).toMatchObject({
      scope: '5',
      nullifier: '6',
      source: 'RELAYER',
      originChain: a.chain,
    })
    expect(usedEvent.key).toBe('5:6')
    expect(relayedEvent.key).toBe('5:6')

    // Bridge: the lock (last log of its tx, after the token transfer) and the release meet by message id.
    const lockLog = locked.logs.length - 1
    const lockEvent = await waitFor(expectedEnvelope(a, locked, lockLog).eventId, 'PENDING')
    expect(lockEvent.value.envelope).toMatchObject(expectedEnvelope(a, locked, lockLog))
    expect(lockEvent.value).toMatchObject({
      messageId,
      action: {
        'io.veridis.chain.BridgeLocked': {
          mode: 'LOCK',
          sender: user,
          recipient: user,
          token: a.deployment.contracts.BridgeToken,
          amount: '1000',
          destinationChain: b.chain,
          nonce: '0',
        },
      },
    })
    const releaseLog = released.logs.length - 1
    const releaseEvent = await waitFor(expectedEnvelope(b, released, releaseLog).eventId, 'PENDING')
    expect(releaseEvent.value).toMatchObject({
      messageId,
      action: {
        'io.veridis.chain.BridgeReleased': {
          mode: 'MINT',
          recipient: user,
          amount: '1000',
          sourceChain: a.chain,
          nonce: '0',
          signers: guardians.map((guardian) => guardian.address),
          threshold: 2,
        },
      },
    })
    expect(lockEvent.key).toBe(messageId)
    expect(releaseEvent.key).toBe(messageId)

    // The deployment's guardian set, on both chains, keyed by gateway.
    for (const chain of [a, b]) {
      const guardianSet = await eventually(
        async () =>
          chain === a
            ? seen
                .of(a.chain)
                .find(
                  (event) =>
                    event.value.action &&
                    'io.veridis.chain.GuardianSetChanged' in (event.value.action as object),
                )
            : seen
                .of(b.chain)
                .find(
                  (event) =>
                    event.value.action &&
                    'io.veridis.chain.GuardianSetChanged' in (event.value.action as object),
                ),
        30_000,
        'GuardianSetChanged',
      )
      expect(guardianSet.key).toBe(`gateway:${chain.deployment.contracts.BridgeGateway}`)
      expect(guardianSet.value.envelope.finality).toBe('FINALIZED')
    }
  })

  test('behavior: events become FINALIZED after the confirmations, under the same event id', async () => {
    const pending = seen.events.filter((event) => event.value.envelope.finality === 'PENDING')
    expect(pending.length).toBeGreaterThanOrEqual(7)
    await Promise.all([a.mine(4), b.mine(4)])
    for (const event of pending) {
      const finalized = await waitFor(event.value.envelope.eventId, 'FINALIZED')
      expect({ ...finalized.value.envelope, finality: 'PENDING', observedAt: 0 }).toEqual({
        ...event.value.envelope,
        observedAt: 0,
      })
      expect(finalized.key).toBe(event.key)
    }
    expect(seen.events.some((event) => event.value.envelope.finality === 'RETRACTED')).toBe(false)
  })

  test('behavior: chain_listener_state and metrics say where each chain stands', async () => {
    for (const chain of [a, b]) {
      const head = await chain.blockNumber()
      const row = await eventually(async () => {
        const { rows } = await testBus.pool.query(
          'SELECT family, head_block, cursor_block, cursor_hash, finalized_block, active_rpc, last_error FROM chain_listener_state WHERE chain = $1',
          [chain.chain],
        )
        return rows[0] && Number(rows[0].cursor_block) >= head ? rows[0] : undefined
      })
      const block = await chain.provider.send('eth_getBlockByNumber', [
        `0x${Number(row.cursor_block).toString(16)}`,
        false,
      ])
      expect(row).toMatchObject({
        family: 'evm',
        cursor_hash: block.hash,
        active_rpc: chain.url,
        last_error: null,
      })
      expect(Number(row.finalized_block)).toBe(Number(row.cursor_block) - 3)
    }
    const metrics = await listener.metrics()
    expect(metrics).toMatch(
      new RegExp(
        `veridis_chain_events_published_total\\{[^}]*chain="${a.chain}"[^}]*type="NullifierUsed"[^}]*\\} 1`,
      ),
    )
    expect(metrics).toMatch(
      new RegExp(
        `veridis_chain_events_published_total\\{[^}]*chain="${b.chain}"[^}]*type="NullifierRelayed"[^}]*\\} 1`,
      ),
    )
    expect(metrics).toMatch(
      new RegExp(`veridis_chain_blocks_behind_head\\{[^}]*chain="${a.chain}"[^}]*\\} 0`),
    )
    expect(await listener.ready()).toBe(true)
  })
})
