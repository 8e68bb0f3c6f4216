import { backoffDelay, sleep } from '../../../core/bus/retry.ts'
import type { Common } from '../../../core/context.ts'
import { describeError, isTransient, NonRetryableError, RetryableError } from '../../../core/errors.ts'
import type { chainMetrics } from '../../../core/metrics/protocol.ts'
import type { ChainEvent } from '../common/publisher.ts'
import { type EvmChainConfig, FinalityRule } from './config.ts'
import type { ContractRole, VeridisAbi } from './normalise/abi.ts'
import { type Finality, normaliseLog, withFinality } from './normalise/events.ts'
import { createRpcClient, isRangeTooLarge, RpcRequestError } from './rpc/client.ts'
import { watchHeads } from './rpc/heads.ts'
import {
  type BlockHeader,
  blockNumberSchema,
  chainIdSchema,
  codeSchema,
  logsSchema,
  maybeBlockHeaderSchema,
  type RpcLog,
} from './rpc/schemas.ts'
import type { Cursor, CursorStore } from './store/cursor-store.ts'
import type { ListenerStateWriter } from './store/listener-state.ts'

/**
 * One chain's loop: rpc → validate/normalise → publish → cursor. Each step
 *   1. checks that the last published block is still canonical; if not, walks back to the
 *      fork point and publishes RETRACTED for every event published from the orphaned blocks;
 *   2. republishes FINALIZED the events of blocks the chain's rule has made final;
 *   3. publishes the next range: already-final blocks FINALIZED straight away (catch-up, in
 *      bounded eth_getLogs ranges), blocks near the head PENDING with their headers kept for
 *      reorg detection.
 * Kafka acknowledges before the cursor moves, so a crash repeats (same event ids) and never
 * skips. Failures stay inside this loop: other chains have their own.
 */
export class MisconfiguredChainError extends NonRetryableError {
  override name = 'MisconfiguredChainError'
}

export class DeepReorgError extends NonRetryableError {
  override name = 'DeepReorgError'
}

/**
 * The node answering lacks a block we have published (or its head is below our cursor): it
 * is behind its peers (a failover, a load balancer), which says nothing about a reorg. The
 * step is retried later; only a different hash at a height is a reorg.
 */
export class NodeBehindError extends RetryableError {
  override name = 'NodeBehindError'
}

export interface ChainListenerDeps {
  readonly common: Common
  readonly config: EvmChainConfig
  readonly abi: VeridisAbi
  readonly store: CursorStore
  readonly state: ListenerStateWriter
  readonly metrics: ReturnType<typeof chainMetrics>
  readonly publish: (events: readonly ChainEvent[]) => Promise<void>
  /** How long a misconfigured chain waits before checking its configuration again. */
  readonly misconfiguredRetryMs?: number
}

export type ChainPhase = 'starting' | 'following' | 'retrying' | 'misconfigured'

const hex = (value: number) => `0x${value.toString(16)}`
const HEADER_CONCURRENCY = 10

export function createChainListener(deps: ChainListenerDeps) {
  const { config, common, metrics, abi } = deps
  const chain = config.chain
  const logger = common.logger.child({ chain })
  const rpc = createRpcClient({
    chain,
    chainId: config.chainId,
    urls: config.rpcUrls,
    timeoutMs: config.requestTimeoutMs,
    logger,
    onError: (url) => metrics.rpcErrors.inc({ chain, url }),
  })
  const roles = new Map<string, ContractRole>()
  for (const [role, address] of Object.entries(config.contracts) as [ContractRole, string | undefined][]) {
    if (address) roles.set(address.toLowerCase(), role)
  }
  const addresses = [...roles.keys()]
  let blockRange = config.maxBlockRange
  const status = {
    phase: 'starting' as ChainPhase,
    caughtUp: false,
    head: undefined as number | undefined,
    cursor: undefined as number | undefined,
    lastError: undefined as string | undefined,
  }
  let wake: (() => void) | undefined

  const header = (number: number | 'finalized') =>
    rpc.call(
      'eth_getBlockByNumber',
      [typeof number === 'number' ? hex(number) : number, false],
      maybeBlockHeaderSchema,
    )

  /** The chain must be the one configured, and every configured contract must have code there. */
  async function preflight() {
    const served = await rpc.call('eth_chainId', [], chainIdSchema)
    if (served !== config.chainId) {
      throw new MisconfiguredChainError(
        `${chain}: RPC ${rpc.activeUrl()} serves chain id ${served}, not ${config.chainId}; fix its RPC URLs`,
      )
    }
    for (const [address, role] of roles) {
      const code = await rpc.call('eth_getCode', [address, 'latest'], codeSchema)
      if (code === '0x') {
        throw new MisconfiguredChainError(
          `${chain}: no contract code at ${address} (configured as ${role}); wrong address, or not deployed on this chain`,
        )
      }
    }
  }

  async function finalizedTarget(head: number): Promise<number> {
    if (config.finality.rule === FinalityRule.confirmations) return head - config.finality.confirmations
    const finalized = await header('finalized')
    return finalized ? Math.min(finalized.number, head) : -1
  }

  async function getLogs(from: number, to: number): Promise<RpcLog[]> {
    const logs: RpcLog[] = []
    for (let start = from; start <= to; ) {
      const end = Math.min(to, start + blockRange - 1)
      try {
        const page = await rpc.call(
          'eth_getLogs',
          [{ fromBlock: hex(start), toBlock: hex(end), address: addresses, topics: [abi.topics] }],
          logsSchema,
        )
        logs.push(...page)
        start = end + 1
      } catch (error) {
        // Providers cap ranges or result counts: halve and go on, remembering the smaller range.
        if (error instanceof RpcRequestError && isRangeTooLarge(error) && end > start) {
          blockRange = Math.max(1, Math.floor((end - start + 1) / 2))
          logger.info({ blockRange }, 'eth_getLogs range too large; halved')
          continue
        }
        throw error
      }
    }
    for (const log of logs) {
      if (log.blockNumber < from || log.blockNumber > to || log.removed === true) {
        throw new NonRetryableError(`${chain}: eth_getLogs returned a log outside ${from}–${to} or removed`, {
          details: { blockNumber: log.blockNumber, tx: log.transactionHash },
        })
      }
    }
    return logs.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex)
  }

  function normalise(logs: readonly RpcLog[], finality: Finality): ChainEvent[] {
    const context = { chain, abi, roles, observedAt: Date.now() }
    return logs.flatMap((log) => normaliseLog(context, log, finality) ?? [])
  }

  function countNew(events: readonly ChainEvent[]) {
    for (const event of events) {
      const branch =
        'change' in event.value
          ? event.value.change
          : 'action' in event.value
            ? event.value.action
            : undefined
      const name = branch ? Object.keys(branch)[0] : undefined
      const type = name
        ? name.slice(name.lastIndexOf('.') + 1)
        : (event.value as { source?: string }).source === 'RELAYER'
          ? 'NullifierRelayed'
          : (event.value as { proof?: unknown }).proof
            ? 'NullifierUsedWithProof'
            : 'NullifierUsed'
      metrics.eventsPublished.inc({ chain, type })
    }
  }

  /** The header of a height we published; null from the node means it is behind, not a reorg. */
  async function publishedHeader(number: number): Promise<BlockHeader> {
    const found = await header(number)
    if (found) return found
    throw new NodeBehindError(
      `${chain}: RPC ${rpc.activeUrl()} does not serve block ${number}, which was published; the node is behind, retrying later`,
      { details: { chain, block: number } },
    )
  }

  /** Step 1: is the last published block still canonical? If not, retract back to the fork. */
  async function reconcile(cursor: Cursor, head: number): Promise<Cursor> {
    if (cursor.cursorHash === null) return cursor
    if (head < cursor.cursorBlock) {
      throw new NodeBehindError(
        `${chain}: RPC ${rpc.activeUrl()} reports head ${head}, below published block ${cursor.cursorBlock}; the node is behind, retrying later (if the chain was reset instead, clear this chain's cursor: docs/evm.md)`,
        { details: { chain, head, cursorBlock: cursor.cursorBlock } },
      )
    }
    const canonical = await publishedHeader(cursor.cursorBlock)
    if (canonical.hash === cursor.cursorHash) return cursor
    let fork: { block: number; hash: string | null } | undefined
    for (const block of await deps.store.unfinalizedBlocks(chain)) {
      if (block.number >= cursor.cursorBlock) continue
      if ((await publishedHeader(block.number)).hash === block.hash) {
        fork = { block: block.number, hash: block.hash }
        break
      }
    }
    if (!fork) {
      if (
        cursor.finalizedHash !== null &&
        (await publishedHeader(cursor.finalizedBlock)).hash !== cursor.finalizedHash
      ) {
        throw new DeepReorgError(
          `${chain}: block ${cursor.finalizedBlock}, published FINALIZED, is no longer canonical (the chain was reset or its finality rule is too weak); refusing to guess — clear this chain's cursor to start over`,
        )
      }
      fork = { block: cursor.finalizedBlock, hash: cursor.finalizedHash }
    }
    const orphaned = await deps.store.eventsBetween(chain, fork.block, cursor.cursorBlock)
    const now = Date.now()
    await deps.publish(orphaned.map((event) => withFinality(event, 'RETRACTED', now)))
    await deps.store.rewind(chain, fork.block, fork.hash)
    metrics.reorgs.inc({ chain })
    logger.warn(
      { depth: cursor.cursorBlock - fork.block, forkBlock: fork.block, retracted: orphaned.length },
      'reorg: published blocks left the canonical chain; their events are RETRACTED',
    )
    return { ...cursor, cursorBlock: fork.block, cursorHash: fork.hash }
  }

  /** Step 2: events of published blocks that became final go out again as FINALIZED. */
  async function finalize(cursor: Cursor, target: number): Promise<Cursor> {
    const upTo = Math.min(target, cursor.cursorBlock)
    if (upTo <= cursor.finalizedBlock) return cursor
    const block = (await deps.store.unfinalizedBlocks(chain)).find((stored) => stored.number === upTo)
    if (!block) throw new NonRetryableError(`${chain}: published block ${upTo} has no stored header`)
    const events = await deps.store.eventsBetween(chain, cursor.finalizedBlock, upTo)
    const now = Date.now()
    await deps.publish(events.map((event) => withFinality(event, 'FINALIZED', now)))
    await deps.store.finalize(chain, upTo, block.hash)
    return { ...cursor, finalizedBlock: upTo, finalizedHash: block.hash }
  }

  async function headers(from: number, to: number): Promise<(BlockHeader | null)[]> {
    const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i)
    const result: (BlockHeader | null)[] = []
    for (let i = 0; i < numbers.length; i += HEADER_CONCURRENCY) {
      result.push(...(await Promise.all(numbers.slice(i, i + HEADER_CONCURRENCY).map((n) => header(n)))))
    }
    return result
  }

  /** One pass; true when there is more to do right away. */
  async function step(): Promise<boolean> {
    const head = await rpc.call('eth_blockNumber', [], blockNumberSchema)
    const target = await finalizedTarget(head)
    const initial = config.startBlock - 1
    let cursor = (await deps.store.cursor(chain)) ?? {
      cursorBlock: initial,
      cursorHash: null,
      finalizedBlock: initial,
      finalizedHash: null,
    }
    cursor = await reconcile(cursor, head)
    cursor = await finalize(cursor, target)

    const from = cursor.cursorBlock + 1
    let more = false
    if (from <= head) {
      if (from <= target) {
        // Catch-up: already final, so published FINALIZED once, with no headers to keep.
        const to = Math.min(target, from + blockRange - 1)
        const logs = await getLogs(from, to)
        const last = await header(to)
        if (!last) return false
        const events = normalise(logs, 'FINALIZED')
        await deps.publish(events)
        await deps.store.advance(chain, {
          cursor: { block: to, hash: last.hash },
          finalized: { block: to, hash: last.hash },
          pendingBlocks: [],
          pendingEvents: [],
        })
        countNew(events)
        cursor = { cursorBlock: to, cursorHash: last.hash, finalizedBlock: to, finalizedHash: last.hash }
        more = to < head
      } else {
        const to = Math.min(head, from + config.maxHeadBatch - 1)
        const fetched = await headers(from, to)
        const blocks = fetched.filter((block): block is BlockHeader => block !== null)
        // A shorter chain, or one whose blocks do not link up with ours, is a reorg in
        // progress (or a node behind its peers): wait a poll interval, and the next step's
        // reconcile sorts it out. Returning "more" here would spin against the node.
        if (blocks.length !== fetched.length) return false
        const linked = blocks.every((block, i) =>
          i === 0
            ? cursor.cursorHash === null || block.parentHash === cursor.cursorHash
            : block.parentHash === blocks[i - 1]!.hash,
        )
        if (!linked) return false
        const logs = await getLogs(from, to)
        if (logs.some((log) => blocks[log.blockNumber - from]!.hash !== log.blockHash)) return false
        const events = normalise(logs, 'PENDING')
        await deps.publish(events)
        await deps.store.advance(chain, {
          cursor: { block: to, hash: blocks.at(-1)!.hash },
          finalized: { block: cursor.finalizedBlock, hash: cursor.finalizedHash },
          pendingBlocks: blocks,
          pendingEvents: events.map((event) => ({ blockNumber: event.value.envelope.blockNumber, event })),
        })
        countNew(events)
        cursor = { ...cursor, cursorBlock: to, cursorHash: blocks.at(-1)!.hash }
        more = to < head
      }
    }
    status.head = head
    status.cursor = cursor.cursorBlock
    if (!more) status.caughtUp = true
    metrics.blocksBehind.set({ chain }, Math.max(0, head - cursor.cursorBlock))
    await deps.state.progress(chain, {
      head,
      cursorBlock: cursor.cursorBlock,
      cursorHash: cursor.cursorHash,
      finalizedBlock: cursor.finalizedBlock,
      activeRpc: rpc.activeUrl(),
    })
    return more
  }

  function waitForHead(ms: number, signal: AbortSignal) {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      wake = done
    })
  }

  async function recordError(error: unknown) {
    const message = describeError(error).message
    status.lastError = message
    await deps.state.error(chain, message, rpc.activeUrl()).catch(() => undefined)
    return message
  }

  return {
    chain,
    status: status as Readonly<typeof status>,
    /** Ready once it has reached the head, or has said clearly why it cannot. */
    ready: () => status.caughtUp || status.phase === 'misconfigured',
    endpoints: rpc.endpoints,

    async run(signal: AbortSignal) {
      const heads = config.wsUrl
        ? watchHeads({ url: config.wsUrl, chainId: config.chainId, logger, signal, onHead: () => wake?.() })
        : undefined
      let preflighted = false
      let failures = 0
      try {
        while (!signal.aborted) {
          try {
            if (!preflighted) {
              await preflight()
              preflighted = true
              status.phase = 'following'
              logger.info(
                {
                  rpc: rpc.endpoints.map((endpoint) => endpoint.redacted),
                  contracts: Object.fromEntries(roles),
                },
                'following chain',
              )
            }
            const more = await step()
            failures = 0
            status.phase = 'following'
            status.lastError = undefined
            if (!more) await waitForHead(config.pollIntervalMs, signal)
          } catch (error) {
            if (signal.aborted) break
            failures++
            const message = await recordError(error)
            if (!isTransient(error)) {
              status.phase = 'misconfigured'
              preflighted = false
              logger.error(
                { error: message },
                'chain stopped: this chain needs attention; other chains continue',
              )
              await sleep(deps.misconfiguredRetryMs ?? 30_000, signal)
            } else {
              status.phase = 'retrying'
              const delay = backoffDelay(failures, 250, 30_000)
              logger.warn({ error: message, failures, retryInMs: delay }, 'chain step failed; retrying')
              await sleep(delay, signal)
            }
          }
        }
      } finally {
        await heads?.stop()
        rpc.destroy()
      }
    },
  }
}

export type ChainListener = ReturnType<typeof createChainListener>
