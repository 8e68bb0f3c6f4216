import { backoffDelay, sleep } from '../../../core/bus/retry.ts'
import type { Common } from '../../../core/context.ts'
import { describeError, isTransient, NonRetryableError } from '../../../core/errors.ts'
import type { chainMetrics } from '../../../core/metrics/protocol.ts'
import { chainEventType, withFinality } from './chain-event.ts'
import { DeepReorgError, NodeBehindError } from './errors.ts'
import type { ChainEvent } from './publisher.ts'
import type { BlockRef, ChainSource, FollowSettings } from './source.ts'
import type { Cursor, CursorStore } from './store/cursor-store.ts'
import type { ListenerStateWriter } from './store/listener-state.ts'

/**
 * The listener engine: one chain's loop, the same for every family. Each step
 *   1. checks that the last published block is still canonical; if not, walks back to the
 *      fork point and publishes RETRACTED for every event published from the orphaned blocks;
 *   2. republishes FINALIZED the events of blocks the chain's rule has made final;
 *   3. publishes the next range: already-final blocks FINALIZED straight away (catch-up, in
 *      bounded ranges), blocks near the head PENDING with their headers kept for reorg
 *      detection.
 * Kafka acknowledges before the cursor moves, so a crash repeats (same event ids) and never
 * skips. Failures stay inside this loop: other chains have their own.
 */
export interface ChainFollowerDeps {
  readonly common: Common
  readonly source: ChainSource
  readonly settings: FollowSettings
  readonly store: CursorStore
  readonly state: ListenerStateWriter
  readonly metrics: ReturnType<typeof chainMetrics>
  readonly publish: (events: readonly ChainEvent[]) => Promise<void>
  /** How long a misconfigured chain waits before checking its configuration again. */
  readonly misconfiguredRetryMs?: number
}

export type ChainPhase = 'starting' | 'following' | 'retrying' | 'misconfigured'

const HEADER_CONCURRENCY = 10

export function createChainFollower(deps: ChainFollowerDeps) {
  const { source, settings, common, metrics } = deps
  const { chain, family } = source
  const logger = common.logger.child({ chain })
  const status = {
    phase: 'starting' as ChainPhase,
    caughtUp: false,
    head: undefined as number | undefined,
    cursor: undefined as number | undefined,
    lastError: undefined as string | undefined,
  }
  let wake: (() => void) | undefined

  function countNew(events: readonly ChainEvent[]) {
    // One counter update per type, not per event: a catch-up step can publish thousands.
    const counts = new Map<string, number>()
    for (const event of events) {
      const type = chainEventType(event)
      counts.set(type, (counts.get(type) ?? 0) + 1)
    }
    for (const [type, count] of counts) metrics.eventsPublished.inc({ chain, type }, count)
  }

  /** The header of a height we published; null from the node means it is behind, not a reorg. */
  async function publishedHeader(number: number): Promise<BlockRef> {
    const found = await source.header(number)
    if (found) return found
    throw new NodeBehindError(
      `${chain}: RPC ${source.activeEndpoint()} does not serve block ${number}, which was published; the node is behind, retrying later`,
      { details: { chain, block: number } },
    )
  }

  /** Step 1: is the last published block still canonical? If not, retract back to the fork. */
  async function reconcile(cursor: Cursor, head: number): Promise<Cursor> {
    if (cursor.cursorHash === null) return cursor
    if (head < cursor.cursorBlock) {
      throw new NodeBehindError(
        `${chain}: RPC ${source.activeEndpoint()} reports head ${head}, below published block ${cursor.cursorBlock}; the node is behind, retrying later (if the chain was reset instead, clear this chain's cursor: docs/chains.md)`,
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

  async function headers(from: number, to: number): Promise<(BlockRef | null)[]> {
    const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i)
    const result: (BlockRef | null)[] = []
    for (let i = 0; i < numbers.length; i += HEADER_CONCURRENCY) {
      result.push(
        ...(await Promise.all(numbers.slice(i, i + HEADER_CONCURRENCY).map((n) => source.header(n)))),
      )
    }
    return result
  }

  /** Catch-up: blocks already final are published FINALIZED once, with no headers to keep. */
  async function catchUp(from: number, to: number): Promise<Cursor | undefined> {
    const [events, last] = await Promise.all([source.events(from, to, 'FINALIZED'), source.header(to)])
    if (!last) return undefined
    await deps.publish(events)
    await deps.store.advance(chain, family, {
      cursor: { block: to, hash: last.hash },
      finalized: { block: to, hash: last.hash },
      pendingBlocks: [],
      pendingEvents: [],
    })
    countNew(events)
    return { cursorBlock: to, cursorHash: last.hash, finalizedBlock: to, finalizedHash: last.hash }
  }

  /** Near the head: PENDING, with the headers kept so a later reorg can be recognised. */
  async function followHead(cursor: Cursor, from: number, to: number): Promise<Cursor | undefined> {
    const fetched = await headers(from, to)
    const blocks = fetched.filter((block): block is BlockRef => block !== null)
    // A shorter chain, or one whose blocks do not link up with ours, is a reorg in progress
    // (or a node behind its peers): wait a poll interval, and the next step's reconcile
    // sorts it out. Returning "more" here would spin against the node.
    if (blocks.length !== fetched.length) return undefined
    const linked = blocks.every((block, i) =>
      i === 0
        ? cursor.cursorHash === null || block.parentHash === cursor.cursorHash
        : block.parentHash === blocks[i - 1]!.hash,
    )
    if (!linked) return undefined
    const events = await source.events(from, to, 'PENDING')
    // Events read from another block than the headers (the chain moved in between): retry.
    const fromOtherBlock = (event: ChainEvent) =>
      blocks[event.value.envelope.blockNumber - from]?.hash !== event.value.envelope.blockHash
    if (events.some(fromOtherBlock)) return undefined
    await deps.publish(events)
    await deps.store.advance(chain, family, {
      cursor: { block: to, hash: blocks.at(-1)!.hash },
      finalized: { block: cursor.finalizedBlock, hash: cursor.finalizedHash },
      pendingBlocks: blocks,
      pendingEvents: events,
    })
    countNew(events)
    return { ...cursor, cursorBlock: to, cursorHash: blocks.at(-1)!.hash }
  }

  /** One pass; true when there is more to do right away. */
  async function step(): Promise<boolean> {
    const head = await source.head()
    const target = await source.finalizedTarget(head)
    const initial = settings.startBlock - 1
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
      const next =
        from <= target
          ? await catchUp(from, Math.min(target, from + settings.maxBlockRange - 1))
          : await followHead(cursor, from, Math.min(head, from + settings.maxHeadBatch - 1))
      if (!next) return false
      cursor = next
      more = cursor.cursorBlock < head
    }
    status.head = head
    status.cursor = cursor.cursorBlock
    if (!more) status.caughtUp = true
    metrics.blocksBehind.set({ chain }, Math.max(0, head - cursor.cursorBlock))
    await deps.state.progress(chain, family, {
      head,
      cursorBlock: cursor.cursorBlock,
      cursorHash: cursor.cursorHash,
      finalizedBlock: cursor.finalizedBlock,
      activeRpc: source.activeEndpoint(),
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
    await deps.state.error(chain, family, message, source.activeEndpoint()).catch(() => undefined)
    return message
  }

  return {
    chain,
    status: status as Readonly<typeof status>,
    /** Ready once it has reached the head, or has said clearly why it cannot. */
    ready: () => status.caughtUp || status.phase === 'misconfigured',

    async run(signal: AbortSignal) {
      const heads = source.watchHeads?.(() => wake?.(), signal)
      let preflighted = false
      let failures = 0
      try {
        while (!signal.aborted) {
          try {
            if (!preflighted) {
              const described = await source.preflight()
              preflighted = true
              status.phase = 'following'
              logger.info(described, 'following chain')
            }
            const more = await step()
            failures = 0
            status.phase = 'following'
            status.lastError = undefined
            if (!more) await waitForHead(settings.pollIntervalMs, signal)
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
        source.destroy()
      }
    },
  }
}

export type ChainFollower = ReturnType<typeof createChainFollower>
