import type { TransactionReceipt, TransactionResponse } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startAnvil } from '../../infra/stack/anvil.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, freePort, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import { startTcpProxy } from '../support/tcp-proxy.ts'
import {
  chainEntry,
  cleanListenerRows,
  collectChainEvents,
  DEV_ACCOUNT,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from './support.ts'

/**
 * The listener's guarantees on real anvil chains and a real Kafka: a SIGKILL mid-burst loses
 * nothing and repeats only under the same ids; a reorg retracts exactly what left the chain;
 * a dead RPC URL is failed over; a misconfigured chain is reported and isolated.
 */
let testBus: TestBus
const chains: TestChain[] = []
const listeners: ListenerProcess[] = []
let seen: Awaited<ReturnType<typeof collectChainEvents>>

beforeAll(async () => {
  testBus = await openTestBus()
  seen = await collectChainEvents(testBus)
})

afterAll(async () => {
  for (const listener of listeners) await listener.kill('SIGKILL')
  await seen?.stop()
  await Promise.all(chains.map((chain) => chain.stop()))
  if (testBus) {
    await cleanListenerRows(testBus, [
      ...chains.map((chain) => chain.chain),
      'eip155:777777',
      'eip155:777778',
    ])
    await testBus.close()
  }
})

async function chain() {
  const started = await startTestChain()
  chains.push(started)
  return started
}

async function listen(configEntries: Parameters<typeof writeEvmConfig>[0], chainIds: readonly string[]) {
  const listener = await startListener({
    namespace: testBus.namespace,
    configFile: writeEvmConfig(configEntries),
    chains: chainIds,
  })
  listeners.push(listener)
  return listener
}

/** (tx hash, log index) of every NullifierUsed log of these receipts. */
function factsOf(receipts: readonly TransactionReceipt[]) {
  return receipts.flatMap((receipt) =>
    receipt.logs.map((log) => `${receipt.hash.toLowerCase()}:${log.index}`),
  )
}

describe('EVM listener: crash during a burst', () => {
  test('behavior: SIGKILL mid-burst and restart: no event missing, duplicates share their eventId', async () => {
    const c = await chain()
    const entries = [chainEntry(c)]
    let listener = await listen(entries, [c.chain])
    await untilReady(listener, 'listener')

    const registry = c.contract('NullifierRegistry')
    const recordUses = registry.getFunction('recordUses')
    const sent: TransactionResponse[] = []
    const BATCHES = 40
    const PER_BATCH = 10
    let killedAt = -1
    for (let batch = 0; batch < BATCHES; batch++) {
      const nullifiers = Array.from({ length: PER_BATCH }, (_, i) => BigInt(batch * PER_BATCH + i + 1))
      sent.push(await recordUses(42n, nullifiers, 9n))
      if (killedAt < 0 && seen.of(c.chain).some((event) => event.topic === 'nullifier')) {
        // Events are flowing and more are coming: kill without warning.
        await listener.kill('SIGKILL')
        killedAt = seen.of(c.chain).length
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const receipts = (await Promise.all(sent.map((tx) => tx.wait()))) as TransactionReceipt[]
    expect(killedAt).toBeGreaterThan(0)
    expect(killedAt).toBeLessThan(BATCHES * PER_BATCH)

    listener = await listen(entries, [c.chain])
    const expected = new Set(factsOf(receipts))
    expect(expected.size).toBe(BATCHES * PER_BATCH)
    const factOf = (event: (typeof seen.events)[number]) =>
      `${event.value.envelope.txHash}:${event.value.envelope.logIndex}`
    await eventually(
      async () => {
        const got = new Set(
          seen
            .of(c.chain)
            .filter((event) => event.topic === 'nullifier')
            .map(factOf),
        )
        return [...expected].every((fact) => got.has(fact)) ? true : undefined
      },
      60_000,
      'every event of the burst',
    )
    // Confirmations pass: every fact ends FINALIZED, still under its one id.
    await c.mine(4)
    await eventually(
      async () => {
        const finalized = new Set(
          seen
            .of(c.chain)
            .filter((event) => event.topic === 'nullifier' && event.value.envelope.finality === 'FINALIZED')
            .map(factOf),
        )
        return [...expected].every((fact) => finalized.has(fact)) ? true : undefined
      },
      60_000,
      'every event FINALIZED',
    )
    const idsByFact = new Map<string, Set<string>>()
    for (const event of seen.of(c.chain).filter((e) => e.topic === 'nullifier')) {
      const ids = idsByFact.get(factOf(event)) ?? new Set()
      ids.add(event.value.envelope.eventId)
      expect(event.headerEventId).toBe(event.value.envelope.eventId)
      idsByFact.set(factOf(event), ids)
    }
    expect([...idsByFact.keys()].sort()).toEqual([...expected].sort())
    for (const ids of idsByFact.values()) expect(ids.size).toBe(1)
    await listener.kill()
  })
})

describe('EVM listener: chain node restart', () => {
  test('behavior: an anvil restarted from its state file continues the chain the cursor points into', async () => {
    const c = await startTestChain({ persistState: true })
    chains.push(c)
    const listener = await listen([chainEntry(c)], [c.chain])
    await untilReady(listener, 'listener')
    const recordUse = () => c.contract('NullifierRegistry').getFunction('recordUse')
    const before = (await (await recordUse()(11n, 1n, 1n)).wait())!
    await eventually(
      async () => seen.of(c.chain).find((e) => e.value.envelope.txHash === before.hash.toLowerCase()),
      30_000,
      'event before the restart',
    )
    const headBefore = await c.blockNumber()
    const hashAt = async (block: number) =>
      ((await c.rpc('eth_getBlockByNumber', [`0x${block.toString(16)}`, false])) as { hash: string }).hash
    const hashBefore = await hashAt(headBefore)
    await c.restart()
    // The chain goes on from where it was: the blocks the cursor knows keep their hashes.
    expect(await c.blockNumber()).toBeGreaterThanOrEqual(headBefore)
    expect(await hashAt(headBefore)).toBe(hashBefore)
    const after = (await (await recordUse()(11n, 2n, 1n)).wait())!
    expect(after.blockNumber).toBeGreaterThan(headBefore)
    await eventually(
      async () => seen.of(c.chain).find((e) => e.value.envelope.txHash === after.hash.toLowerCase()),
      30_000,
      'event after the restart',
    )
    await c.mine(4)
    for (const receipt of [before, after]) {
      await eventually(
        async () =>
          seen
            .of(c.chain)
            .find(
              (e) =>
                e.value.envelope.txHash === receipt.hash.toLowerCase() &&
                e.value.envelope.finality === 'FINALIZED',
            ),
        30_000,
        `FINALIZED ${receipt.hash}`,
      )
    }
    // Same blocks, same hashes: nothing looked like a reorg.
    expect(seen.of(c.chain).some((e) => e.value.envelope.finality === 'RETRACTED')).toBe(false)
    expect(await listener.metrics()).not.toMatch(
      new RegExp(`veridis_chain_reorgs_total\\{[^}]*chain="${c.chain}"`),
    )
    await listener.kill()
  })
})

describe('EVM listener: reorgs', () => {
  test('behavior: reorgs of depth 1, 2 and 3 retract exactly the events of the orphaned blocks', async () => {
    const c = await chain()
    const listener = await listen(
      [chainEntry(c, { finality: { rule: 'confirmations', confirmations: 5 } })],
      [c.chain],
    )
    await untilReady(listener, 'listener')
    const recordUse = c.contract('NullifierRegistry').getFunction('recordUse')
    let nullifier = 1_000n

    for (const depth of [1, 2, 3]) {
      // depth + 2 blocks with one event each; the last `depth` of them will be orphaned.
      const receipts: TransactionReceipt[] = []
      for (let i = 0; i < depth + 2; i++)
        receipts.push((await (await recordUse(7n, nullifier++, 1n)).wait())!)
      const ids = receipts.map((receipt) => {
        const event = () =>
          seen
            .of(c.chain)
            .find(
              (e) =>
                e.value.envelope.txHash === receipt.hash.toLowerCase() &&
                e.value.envelope.finality === 'PENDING',
            )
        return eventually(async () => event()?.value.envelope.eventId, 30_000, `PENDING of ${receipt.hash}`)
      })
      const eventIds = await Promise.all(ids)
      const orphaned = new Set(eventIds.slice(-depth))
      const kept = eventIds.slice(0, -depth)

      await c.rpc('anvil_reorg', [depth, []])
      // The orphaned transactions are gone, and so are their nonces.
      c.signer(DEV_ACCOUNT.protocol).reset()
      const retracted = await eventually(
        async () => {
          const found = seen
            .of(c.chain)
            .filter(
              (e) => e.value.envelope.finality === 'RETRACTED' && eventIds.includes(e.value.envelope.eventId),
            )
          return found.length >= depth ? found : undefined
        },
        30_000,
        `RETRACTED events after a reorg of depth ${depth}`,
      )
      // Mine past the confirmations: the survivors are finalized, and nothing else was retracted meanwhile.
      await c.mine(6)
      for (const id of kept) {
        await eventually(
          async () =>
            seen
              .of(c.chain)
              .find((e) => e.value.envelope.eventId === id && e.value.envelope.finality === 'FINALIZED'),
          30_000,
          `FINALIZED ${id}`,
        )
      }
      const allRetracted = seen
        .of(c.chain)
        .filter(
          (e) => e.value.envelope.finality === 'RETRACTED' && eventIds.includes(e.value.envelope.eventId),
        )
      expect(new Set(allRetracted.map((e) => e.value.envelope.eventId))).toEqual(orphaned)
      expect(new Set(retracted.map((e) => e.value.envelope.eventId))).toEqual(orphaned)
      for (const id of orphaned) {
        expect(
          seen
            .of(c.chain)
            .some((e) => e.value.envelope.eventId === id && e.value.envelope.finality === 'FINALIZED'),
        ).toBe(false)
      }
    }
    expect(await listener.metrics()).toMatch(
      new RegExp(`veridis_chain_reorgs_total\\{[^}]*chain="${c.chain}"[^}]*\\} 3`),
    )
    expect(listener.output()).toMatch(/"depth":3,.*reorg: published blocks left the canonical chain/)
    await listener.kill()
  }, 120_000)
})

describe('EVM listener: failing RPCs and bad configuration', () => {
  test('behavior: one dead RPC URL (and a dead websocket) and one alive: keeps publishing and says so in logs and metrics', async () => {
    const c = await chain()
    const deadPort = await freePort()
    const dead = `http://127.0.0.1:${deadPort}`
    const listener = await listen(
      [chainEntry(c, { rpcUrls: [dead, c.url], wsUrl: `ws://127.0.0.1:${deadPort}` })],
      [c.chain],
    )
    await untilReady(listener, 'listener')
    const receipt = (await (
      await c.contract('NullifierRegistry').getFunction('recordUse')(3n, 4n, 5n)
    ).wait())!
    await eventually(
      async () => seen.of(c.chain).find((e) => e.value.envelope.txHash === receipt.hash.toLowerCase()),
      30_000,
      'event through the live endpoint',
    )
    expect(listener.output()).toContain('RPC endpoint failed; failing over')
    expect(listener.output()).toContain(`"rpc":"${dead}"`)
    // The websocket is only a wake-up call: without it the loop polls.
    expect(listener.output()).toContain('new-head websocket closed; polling meanwhile')
    expect(await listener.metrics()).toMatch(
      new RegExp(`veridis_chain_rpc_errors_total\\{[^}]*chain="${c.chain}",url="${dead}"[^}]*\\} [1-9]`),
    )
    const { rows } = await testBus.pool.query(
      'SELECT active_rpc FROM chain_listener_state WHERE chain = $1',
      [c.chain],
    )
    expect(rows[0]?.active_rpc).toBe(c.url)
    await listener.kill()
  })

  test('behavior: a node that lags behind (no block at the cursor, its head below it) is waited for, not taken for a reorg', async () => {
    const c = await chain()
    const port = Number(new URL(c.url).port)
    // The listener's only RPC URL is a proxy: first to the chain, then to a node that lags.
    const proxy = await startTcpProxy({ host: '127.0.0.1', port })
    const listener = await listen([chainEntry(c, { rpcUrls: [`http://127.0.0.1:${proxy.port}`] })], [c.chain])
    const lagging = await startAnvil({
      chainId: c.chainId,
      port: await freePort(),
      forkOf: { url: c.url, blockNumber: await c.blockNumber() },
    })
    try {
      await untilReady(listener, 'listener')
      const receipt = (await (
        await c.contract('NullifierRegistry').getFunction('recordUse')(7n, 8n, 9n)
      ).wait())!
      await c.mine(1)
      const ours = () =>
        seen.of(c.chain).filter((e) => e.value.envelope.txHash === receipt.hash.toLowerCase())
      await eventually(
        async () => (ours().length > 0 ? true : undefined),
        30_000,
        'the use published PENDING',
      )
      expect(ours().map((e) => e.value.envelope.finality)).toEqual(['PENDING'])

      // The lagging node is a copy of the chain from before the use: same hashes, no newer block.
      proxy.retarget({ host: '127.0.0.1', port: Number(new URL(lagging.url).port) })
      const retracted = () => seen.of(c.chain).filter((e) => e.value.envelope.finality === 'RETRACTED')
      const behind = () => listener.output().match(/the node is behind/g)?.length ?? 0
      await eventually(
        async () => (behind() >= 2 || retracted().length > 0 ? true : undefined),
        30_000,
        'the listener saying the node is behind',
      )
      expect(retracted()).toEqual([])
      expect(behind()).toBeGreaterThanOrEqual(2)
      expect(await listener.metrics()).not.toMatch(
        new RegExp(`veridis_chain_reorgs_total\\{[^}]*chain="${c.chain}"[^}]*\\} [1-9]`),
      )

      // Back on an up-to-date node, the confirmations pass: FINALIZED, never RETRACTED.
      proxy.retarget({ host: '127.0.0.1', port })
      await c.mine(3)
      await eventually(
        async () => (ours().some((e) => e.value.envelope.finality === 'FINALIZED') ? true : undefined),
        30_000,
        'the use FINALIZED',
      )
      expect(new Set(ours().map((e) => e.value.envelope.finality))).toEqual(new Set(['PENDING', 'FINALIZED']))
      expect(retracted()).toEqual([])
    } finally {
      await lagging.stop()
      await proxy.close()
      await listener.kill()
    }
  })

  test('error: a misconfigured chain gets a clear error of its own while the others go on', async () => {
    const good = await chain()
    const other = await chain()
    const entries = [
      chainEntry(good),
      // The contract address holds no code there (an externally owned account).
      chainEntry(other, { contracts: { nullifierRegistry: '0x000000000000000000000000000000000000dEaD' } }),
      // The URL answers, but for another chain.
      { ...chainEntry(good), chain: 'eip155:777777' },
      // No RPC URL at all.
      {
        chain: 'eip155:777778',
        contracts: { nullifierRegistry: good.deployment.contracts.NullifierRegistry },
      },
    ]
    const listener = await listen(entries, [good.chain, other.chain, 'eip155:777777', 'eip155:777778'])
    await untilReady(listener, 'listener')
    const receipt = (await (
      await good.contract('NullifierRegistry').getFunction('recordUse')(8n, 9n, 1n)
    ).wait())!
    await eventually(
      async () => seen.of(good.chain).find((e) => e.value.envelope.txHash === receipt.hash.toLowerCase()),
      30_000,
      'event of the healthy chain',
    )
    const errors = async () => {
      const { rows } = await testBus.pool.query<{ chain: string; last_error: string | null }>(
        'SELECT chain, last_error FROM chain_listener_state WHERE chain = ANY($1)',
        [[good.chain, other.chain, 'eip155:777777', 'eip155:777778']],
      )
      return new Map(rows.map((row) => [row.chain, row.last_error]))
    }
    const state = await eventually(async () => {
      const found = await errors()
      return found.size === 4 ? found : undefined
    })
    expect(state.get(good.chain)).toBeNull()
    expect(state.get(other.chain)).toMatch(
      /no contract code at 0x000000000000000000000000000000000000dead \(configured as nullifierRegistry\)/,
    )
    expect(state.get('eip155:777777')).toMatch(new RegExp(`serves chain id ${good.chainId}, not 777777`))
    expect(state.get('eip155:777778')).toMatch(
      /no RPC URLs for eip155:777778; set VERIDIS_EVM_RPC_URLS_777778/,
    )
    const output = listener.output()
    expect(output).toMatch(/"chain":"eip155:777778".*chain not started: misconfigured/)
    expect(output).toMatch(new RegExp(`"chain":"${other.chain}".*chain stopped: this chain needs attention`))
    expect(await listener.ready()).toBe(true)
    await listener.kill()
  })
})
