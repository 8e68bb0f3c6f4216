import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, test } from 'vitest'
import type { Common } from '../../../core/context.ts'
import { createLogger } from '../../../core/logging/logger.ts'
import { chainMetrics } from '../../../core/metrics/protocol.ts'
import type { ChainEvent } from '../common/publisher.ts'
import { createChainListener } from './chain-listener.ts'
import { type EvmChainConfig, FinalityRule } from './config.ts'
import { loadVeridisAbi } from './normalise/abi.ts'
import { watchHeads } from './rpc/heads.ts'
import type { Cursor, CursorStore, StoredBlock, StoredEvent } from './store/cursor-store.ts'
import type { ListenerStateWriter } from './store/listener-state.ts'

/**
 * One chain's loop against a scripted JSON-RPC node and an in-memory store: a node that is
 * behind (no header for a published block, a head below the cursor) is waited for, never
 * taken for a reorg; a different hash at a published height still is one.
 */
const CHAIN = 'eip155:4242'
const quantity = (value: number) => `0x${value.toString(16)}`
const hashOf = (number: number, branch: string) => `0x${branch}${number.toString(16).padStart(62, '0')}`

/** A node whose head, missing blocks and branch per height the test changes as it goes. */
async function scriptedNode() {
  const node = {
    head: 12,
    missing: new Set<number>(),
    branch: (_number: number) => 'aa',
  }
  const header = (number: number) =>
    number > node.head || node.missing.has(number)
      ? null
      : {
          number: quantity(number),
          hash: hashOf(number, node.branch(number)),
          parentHash: number === 0 ? hashOf(0, 'ff') : hashOf(number - 1, node.branch(number - 1)),
          timestamp: quantity(1_700_000_000 + number),
        }
  const answer = (method: string, params: unknown[]): unknown => {
    switch (method) {
      case 'eth_chainId':
        return quantity(4242)
      case 'eth_getCode':
        return '0x6080'
      case 'eth_blockNumber':
        return quantity(node.head)
      case 'eth_getBlockByNumber': {
        return header(Number(BigInt(params[0] as string)))
      }
      case 'eth_getLogs':
        return []
      default:
        throw new Error(`unexpected ${method}`)
    }
  }
  const server = http.createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    request.on('end', () => {
      const one = (call: { id: number; method: string; params: unknown[] }) => ({
        jsonrpc: '2.0',
        id: call.id,
        result: answer(call.method, call.params),
      })
      const parsed = JSON.parse(body)
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(one) : one(parsed)))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { node, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

/** The store's contract in memory: cursor, unfinalized headers and their events. */
function memoryStore(initial: { cursor: Cursor; blocks: StoredBlock[]; events: StoredEvent[] }) {
  let cursor: Cursor | undefined = initial.cursor
  let blocks = [...initial.blocks]
  let events = [...initial.events]
  const rewinds: { block: number; hash: string | null }[] = []
  const store = {
    listener: 'unit',
    cursor: async () => cursor,
    unfinalizedBlocks: async () => [...blocks].sort((a, b) => b.number - a.number),
    eventsBetween: async (_chain: string, after: number, upTo: number) =>
      events.filter((e) => e.blockNumber > after && e.blockNumber <= upTo).map((e) => e.event),
    advance: async (_chain: string, update: Parameters<CursorStore['advance']>[1]): Promise<void> => {
      cursor = {
        cursorBlock: update.cursor.block,
        cursorHash: update.cursor.hash,
        finalizedBlock: update.finalized.block,
        finalizedHash: update.finalized.hash,
      }
      const numbers = new Set(update.pendingBlocks.map((block) => block.number))
      blocks = [...blocks.filter((block) => !numbers.has(block.number)), ...update.pendingBlocks]
      events.push(...update.pendingEvents)
    },
    finalize: async (_chain: string, block: number, hash: string) => {
      blocks = blocks.filter((stored) => stored.number > block)
      events = events.filter((stored) => stored.blockNumber > block)
      cursor = { ...cursor!, finalizedBlock: block, finalizedHash: hash }
    },
    rewind: async (_chain: string, block: number, hash: string | null) => {
      rewinds.push({ block, hash })
      blocks = blocks.filter((stored) => stored.number <= block)
      events = events.filter((stored) => stored.blockNumber <= block)
      cursor = { ...cursor!, cursorBlock: block, cursorHash: hash }
    },
    clear: async () => undefined,
  }
  return { store: store as unknown as CursorStore, rewinds, current: () => cursor }
}

const fakeEvent = (blockNumber: number): StoredEvent => ({
  blockNumber,
  event: {
    topic: 'nullifier',
    value: { envelope: { eventId: `event-${blockNumber}`, blockNumber, finality: 'PENDING' } },
  } as unknown as ChainEvent,
})

async function until(check: () => boolean, what: string, ms = 20_000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A listener on the scripted node, published up to block 10 (final up to 7), events at 9 and 10. */
async function setup() {
  const { node, url, close } = await scriptedNode()
  const memory = memoryStore({
    cursor: {
      cursorBlock: 10,
      cursorHash: hashOf(10, 'aa'),
      finalizedBlock: 7,
      finalizedHash: hashOf(7, 'aa'),
    },
    blocks: [8, 9, 10].map((number) => ({
      number,
      hash: hashOf(number, 'aa'),
      parentHash: hashOf(number - 1, 'aa'),
    })),
    events: [fakeEvent(9), fakeEvent(10)],
  })
  const published: ChainEvent[] = []
  const progress: number[] = []
  const errors: string[] = []
  const registry = new Registry()
  const config: EvmChainConfig = {
    chain: CHAIN,
    chainId: 4242n,
    name: 'scripted',
    rpcUrls: [url],
    wsUrl: undefined,
    finality: { rule: FinalityRule.confirmations, confirmations: 3 },
    contracts: { nullifierRegistry: '0x000000000000000000000000000000000000dEaD' },
    startBlock: 0,
    maxBlockRange: 1_000,
    maxHeadBatch: 50,
    pollIntervalMs: 50,
    requestTimeoutMs: 2_000,
  }
  const listener = createChainListener({
    common: { logger: createLogger({ service: 'test', level: 'silent' }) } as unknown as Common,
    config,
    abi: loadVeridisAbi(),
    store: memory.store,
    state: {
      progress: async (_chain: string, state: { cursorBlock: number }) => {
        progress.push(state.cursorBlock)
      },
      error: async (_chain: string, message: string) => {
        errors.push(message)
      },
    } as unknown as ListenerStateWriter,
    metrics: chainMetrics(registry),
    publish: async (events) => {
      published.push(...events)
    },
  })
  const controller = new AbortController()
  const running = listener.run(controller.signal)
  cleanups.push(async () => {
    controller.abort()
    await running
    await close()
  })
  const reorgs = async () => (await registry.getSingleMetric('veridis_chain_reorgs_total')!.get()).values
  const retracted = () => published.filter((event) => event.value.envelope.finality === 'RETRACTED')
  return { node, memory, published, progress, errors, listener, reorgs, retracted }
}

describe('EVM chain listener: a node behind is not a reorg', () => {
  test('behavior: no header for a published block, or a head below the cursor, is retried without retracting', async () => {
    const { node, memory, progress, errors, listener, reorgs, retracted } = await setup()

    // 1. A node whose head is below the published block 10.
    node.head = 8
    await until(
      () => errors.filter((e) => /head 8, below published block 10/.test(e)).length >= 2,
      'head below',
    )
    expect(listener.status.phase).toBe('retrying')

    // 2. A head ahead, but no header for block 10 (load-balanced onto a lagging node).
    node.head = 12
    node.missing = new Set([10])
    await until(
      () => errors.some((e) => /does not serve block 10, which was published/.test(e)),
      'null header at the cursor',
    )

    // 3. A different block 10, but no header for 9: the walk to the fork stops and retries.
    node.missing = new Set([9])
    node.branch = (number) => (number >= 10 ? 'bb' : 'aa')
    await until(
      () => errors.some((e) => /does not serve block 9, which was published/.test(e)),
      'null header during the walk back',
    )

    expect(retracted()).toEqual([])
    expect(memory.rewinds).toEqual([])
    expect(await reorgs()).toEqual([])

    // The node catches up with the same chain: the listener goes on from block 10.
    node.missing = new Set()
    node.branch = () => 'aa'
    await until(() => progress.includes(12), 'cursor at 12')
    expect(memory.current()).toMatchObject({ cursorBlock: 12, cursorHash: hashOf(12, 'aa') })
    expect(retracted()).toEqual([])
    expect(memory.rewinds).toEqual([])
    expect(await reorgs()).toEqual([])
  })

  test('behavior: a different hash at a published height is still a reorg', async () => {
    const { node, memory, progress, published, reorgs, retracted } = await setup()
    node.branch = (number) => (number >= 10 ? 'bb' : 'aa')
    await until(() => progress.includes(12), 'cursor at 12 on the new branch')
    expect(retracted().map((event) => event.value.envelope.eventId)).toEqual(['event-10'])
    expect(memory.rewinds).toEqual([{ block: 9, hash: hashOf(9, 'aa') }])
    expect(await reorgs()).toEqual([expect.objectContaining({ labels: { chain: CHAIN }, value: 1 })])
    expect(memory.current()).toMatchObject({ cursorBlock: 12, cursorHash: hashOf(12, 'bb') })
    // The event of block 9, still canonical, became FINALIZED, not RETRACTED.
    expect(
      published
        .filter((event) => event.value.envelope.eventId === 'event-9')
        .map((event) => event.value.envelope.finality),
    ).toEqual(['FINALIZED'])
  })
})

describe('new-head websocket', () => {
  test('error: a ws URL the websocket library refuses is logged redacted, and nothing is left unhandled', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) })
    const controller = new AbortController()
    const heads = watchHeads({
      url: 'ws://127.0.0.1:9/v2/SECRET-KEY#fragment',
      chainId: 1n,
      logger,
      signal: controller.signal,
      onHead: () => undefined,
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    await heads.stop()
    controller.abort()
    const output = lines.join('')
    expect(output).toContain('new-head websocket URL refused; following this chain by HTTP polling only')
    expect(output).toContain('ws://127.0.0.1:9/***')
    expect(output).not.toContain('SECRET-KEY')
    expect(output).not.toContain('#fragment')
  })
})
