import { ApiPromise, WsProvider } from '@polkadot/api'
import type { z } from 'zod'
import type { Logger } from '../../../../core/logging/logger.ts'
import { createFailover } from '../../common/failover.ts'
import { redactUrl, redactUrls } from '../../common/redact.ts'
import {
  blockNumber,
  type EventRecord,
  eventRecordSchema,
  extrinsicSchema,
  hash32,
  headerSchema,
  type PolkadotExtrinsic,
  type PolkadotHeader,
} from './schemas.ts'

/**
 * A Polkadot-family chain over several websocket endpoints with the common failover rule
 * (common/failover.ts): one @polkadot/api ApiPromise per endpoint, connected on first use
 * and again after it failed. Every call has a deadline (a disconnected ApiPromise waits for
 * its reconnect forever), and every answer goes through a zod schema (rpc/schemas.ts) as
 * plain JSON before the listener sees it.
 */
export interface PolkadotRpcOptions {
  readonly chain: string
  readonly urls: readonly string[]
  readonly timeoutMs: number
  readonly logger: Logger
  readonly onError: (redactedUrl: string) => void
}

class Connection {
  #api: Promise<ApiPromise> | undefined
  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  api(): Promise<ApiPromise> {
    if (!this.#api) {
      const provider = new WsProvider(this.url, 2_500, {}, this.timeoutMs)
      const created = ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true })
      this.#api = created
      created.catch(() => {
        provider.disconnect().catch(() => {})
        if (this.#api === created) this.#api = undefined
      })
    }
    return this.#api
  }

  /** Drops the connection so the next call connects afresh. */
  reset() {
    const current = this.#api
    this.#api = undefined
    current?.then((api) => api.disconnect()).catch(() => {})
  }

  close() {
    this.reset()
  }
}

export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`${what}: no answer in ${ms} ms`), { name: 'TimeoutError' })),
        ms,
      )
    }),
  ]).finally(() => clearTimeout(timer))
}

function validate<S extends z.ZodType>(what: string, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  throw new Error(`malformed ${what} answer: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`)
}

const BATCHES = new Set(['batch', 'batchAll', 'forceBatch'])

interface CallLike {
  readonly section: string
  readonly method: string
  readonly args: readonly { toJSON(): unknown }[]
  readonly argsDef?: unknown
  toJSON(): unknown
}

/** Leaf calls of an extrinsic's call, batches flattened, in order. */
function leafCalls(call: CallLike, out: { section: string; method: string; args: unknown }[]) {
  if (call.section === 'utility' && BATCHES.has(call.method)) {
    for (const inner of call.args[0] as unknown as Iterable<CallLike>) leafCalls(inner, out)
    return
  }
  out.push({
    section: call.section,
    method: call.method,
    args: (call.toJSON() as { args?: unknown }).args ?? {},
  })
}

export function createPolkadotRpc(options: PolkadotRpcOptions) {
  const connections = options.urls.map((url) => new Connection(url, options.timeoutMs))
  const failover = createFailover({
    chain: options.chain,
    endpoints: connections.map((connection) => ({ redacted: redactUrl(connection.url), client: connection })),
    logger: options.logger,
    describe: describePolkadotError,
    onError: options.onError,
  })

  /** One question to the active endpoint, with a deadline; a failure drops that connection. */
  const ask = <T>(what: string, question: (api: ApiPromise) => Promise<T>): Promise<T> =>
    failover.run(what, async (connection) => {
      try {
        const api = await withDeadline(connection.api(), options.timeoutMs, `${what} (connect)`)
        return await withDeadline(question(api), options.timeoutMs, what)
      } catch (error) {
        connection.reset()
        throw error
      }
    })

  return {
    endpoints: failover.endpoints,
    activeUrl: failover.activeEndpoint,
    ask,

    genesisHash: () =>
      ask('genesisHash', async (api) => validate('genesis hash', hash32, api.genesisHash.toHex())),

    runtime: () =>
      ask('runtime', async (api) => ({
        specName: api.runtimeVersion.specName.toString(),
        specVersion: api.runtimeVersion.specVersion.toNumber(),
        ss58Format: api.registry.chainSS58 ?? 42,
        pallets: {
          remarkWithEvent: api.tx.system?.remarkWithEvent !== undefined,
          multisig: api.tx.multisig?.approveAsMulti !== undefined,
          batchAll: api.tx.utility?.batchAll !== undefined,
        },
      })),

    head: () =>
      ask('chain_getHeader', async (api) =>
        validate('chain_getHeader', blockNumber, (await api.rpc.chain.getHeader()).number.toNumber()),
      ),

    finalizedHead: () =>
      ask('chain_getFinalizedHead', async (api) => {
        const hash = await api.rpc.chain.getFinalizedHead()
        return validate(
          'chain_getFinalizedHead',
          blockNumber,
          (await api.rpc.chain.getHeader(hash)).number.toNumber(),
        )
      }),

    /** The canonical block at a height, or null when the node has none there. */
    header: (number: number): Promise<PolkadotHeader | null> =>
      ask('chain_getBlockHash', async (api) => {
        const hash = (await api.rpc.chain.getBlockHash(number)).toHex()
        if (/^0x0+$/.test(hash)) return null
        const header = await api.rpc.chain.getHeader(hash)
        return validate('chain_getHeader', headerSchema, {
          number: header.number.toNumber(),
          hash,
          parentHash: header.parentHash.toHex(),
        })
      }),

    /** `system.events` at a block, as plain JSON records. */
    events: (hash: string): Promise<EventRecord[]> =>
      ask('system.events', async (api) => {
        const records = (await (
          await api.at(hash)
        ).query.system!.events!()) as unknown as Iterable<{
          phase: { isApplyExtrinsic: boolean; asApplyExtrinsic: { toNumber(): number } }
          event: { section: string; method: string; data: { toJSON(): unknown } }
        }>
        const plain = [...records].map((record, index) => ({
          index,
          extrinsic: record.phase.isApplyExtrinsic ? record.phase.asApplyExtrinsic.toNumber() : null,
          section: record.event.section,
          method: record.event.method,
          data: record.event.data.toJSON(),
        }))
        return plain.map((record) => validate('system.events', eventRecordSchema, record))
      }),

    /** A block's extrinsics: hash, signer, leaf calls with their arguments as JSON. */
    extrinsics: (hash: string): Promise<PolkadotExtrinsic[]> =>
      ask('chain_getBlock', async (api) => {
        const block = await api.rpc.chain.getBlock(hash)
        return block.block.extrinsics.map((extrinsic, index) => {
          const calls: { section: string; method: string; args: unknown }[] = []
          leafCalls(extrinsic.method as unknown as CallLike, calls)
          return validate('chain_getBlock', extrinsicSchema, {
            index,
            hash: extrinsic.hash.toHex(),
            signer: extrinsic.isSigned ? extrinsic.signer.toString() : null,
            calls,
          })
        })
      }),

    /** New best heads from the active endpoint; wakes the engine early. */
    async subscribeHeads(onHead: () => void): Promise<() => void> {
      return ask('chain_subscribeNewHeads', (api) => api.rpc.chain.subscribeNewHeads(() => onHead()))
    },

    close() {
      for (const connection of connections) connection.close()
    },
  }
}

export type PolkadotRpc = ReturnType<typeof createPolkadotRpc>

/** One line about an RPC failure, every URL in it redacted. */
export function describePolkadotError(error: unknown): string {
  if (!(error instanceof Error)) {
    // A failed websocket connect rejects with the socket's error event, not an Error.
    const message = (error as { message?: unknown } | null)?.message
    return typeof message === 'string' && message !== '' ? redactUrls(message) : 'connection failed'
  }
  if (error.name === 'TimeoutError') return redactUrls(error.message)
  return redactUrls(error.message.split('\n')[0]!)
}
