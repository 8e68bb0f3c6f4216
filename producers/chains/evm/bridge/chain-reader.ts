import { Interface, type InterfaceAbi, type Result } from 'ethers'
import { z } from 'zod'
import { loadArtifact } from '../../../../contracts/evm/build.ts'
import type { GuardConfig } from '../../../../core/bridge/config.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { remembered } from '../../../../core/remembered.ts'
import { redactUrl } from '../../common/redact.ts'
import { createRpcClient, describeRpcError } from '../rpc/client.ts'
import { readLockedLog } from './canonical-abi.ts'

/**
 * The bridge guard's own view of each chain (consumers/bridge-guard; the gateway's security
 * endpoints read quorums through it too), through every configured endpoint separately — never
 * through the listener's failover. Failing over is not confirmation: an attacker who can take
 * one endpoint down picks the one that answers (KelpDAO 2026). So a question that decides
 * whether value is backed is asked of each endpoint and the answers are compared.
 */
const hash32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/)
  .transform((value) => value.toLowerCase())
const hexData = z.string().regex(/^0x[0-9a-fA-F]*$/)
const quantity = z
  .string()
  .regex(/^0x[0-9a-fA-F]+$/)
  .transform((value) => Number(BigInt(value)))
const addressOrNull = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/)
  .transform((value) => value.toLowerCase())
  .nullable()
const logSchema = z.object({
  address: z.string().transform((value) => value.toLowerCase()),
  topics: z.array(hash32),
  data: hexData,
  blockNumber: quantity,
  blockHash: hash32,
  transactionHash: hash32,
  logIndex: quantity,
  removed: z.boolean().optional(),
})
const logsSchema = z.array(logSchema)
const transactionSchema = z
  .object({
    hash: hash32,
    from: addressOrNull,
    to: addressOrNull,
    input: hexData,
    blockNumber: quantity.nullable(),
  })
  .nullable()
const receiptSchema = z.object({ status: quantity.optional(), logs: z.array(logSchema) }).nullable()
const blockSchema = z.object({ number: quantity, timestamp: quantity }).nullable()

export const GATEWAY = new Interface(loadArtifact('BridgeGateway').abi as InterfaceAbi)

/**
 * A decoder for one of the gateway's events: its topic0, and the arguments of a log, as ethers'
 * `parseLog` answers them: undefined for a log of another event, a throw for data that does not
 * decode. `parseLog` finds the event by hashing the signature of every event of the ABI, for
 * every log; this looks the event up once.
 */
export function gatewayEvent(name: string) {
  const event = GATEWAY.getEvent(name)
  if (!event) throw new Error(`event ${name} missing from the BridgeGateway artifact`)
  const topic = event.topicHash.toLowerCase()
  return {
    topic,
    decode(log: { readonly topics: readonly string[]; readonly data: string }): Result | undefined {
      if (log.topics[0]?.toLowerCase() !== topic) return undefined
      return GATEWAY.decodeEventLog(event, log.data, log.topics)
    },
  }
}

const LOCKED = gatewayEvent('BridgeLocked')

/** A BridgeLocked log's arguments: word by word in canonical form (canonical-abi.ts), else ethers'. */
function lockedArguments(log: { readonly topics: readonly string[]; readonly data: string }) {
  if (log.topics[0]?.toLowerCase() !== LOCKED.topic) return undefined
  const canonical = readLockedLog(log)
  if (canonical) return canonical
  const args = LOCKED.decode(log)
  if (!args) return undefined
  return {
    token: args.token as string,
    amount: args.amount as bigint,
    recipient: args.recipient as string,
    destinationChainId: args.destinationChainId as bigint,
  }
}
const hex = (value: number) => `0x${value.toString(16)}`

// The quorum is read for every block holding a release, and is nearly always the same set:
// the calls are encoded once, and a set's decoding is remembered by its returned bytes.
const GUARDIANS_CALL = GATEWAY.encodeFunctionData('guardians')
const THRESHOLD_CALL = GATEWAY.encodeFunctionData('threshold')
const QUORUMS_KEPT = 64
const guardianSetOf = remembered(QUORUMS_KEPT, (returned: string): readonly string[] =>
  Object.freeze([...(GATEWAY.decodeFunctionResult('guardians', returned)[0] as string[])]),
)
const thresholdOf = remembered(QUORUMS_KEPT, (returned: string) =>
  Number(GATEWAY.decodeFunctionResult('threshold', returned)[0] as bigint),
)

/** A source lock as one endpoint reports it. */
export interface SourceLock {
  readonly messageId: string
  readonly token: string
  readonly amount: bigint
  readonly recipient: string
  readonly destinationChainId: bigint
  readonly txHash: string
  readonly blockNumber: number
  readonly blockHash: string
}

/** One endpoint's answer: the locks it has for the asked ids, or why it could not say. */
export type EndpointAnswer =
  | { readonly endpoint: string; readonly ok: true; readonly locks: ReadonlyMap<string, SourceLock> }
  | { readonly endpoint: string; readonly ok: false; readonly error: string }

export interface ChainReader {
  readonly chain: string
  readonly minConfirmations: number
  readonly endpointCount: number
  /** Every endpoint's answer: BridgeLocked logs of `gateway` with these message ids since `fromBlock`. */
  sourceLocks(gateway: string, fromBlock: number, messageIds: readonly string[]): Promise<EndpointAnswer[]>
  /** Guardians and threshold of a gateway as of a block (first endpoint that answers). */
  quorumAt(gateway: string, block: number | 'latest'): Promise<{ guardians: string[]; threshold: number }>
  transaction(hash: string): Promise<z.output<typeof transactionSchema>>
  receipt(hash: string): Promise<z.output<typeof receiptSchema>>
  blockTimestamp(blockNumber: number): Promise<number | undefined>
  /** eth_call on the first endpoint that answers, at a block number or tag. */
  call(to: string, data: string, block: number | 'latest'): Promise<string>
  blockNumber(): Promise<number>
}

/** Counts requests and failed ones per chain and endpoint (the guard's evidence RPC metrics). */
export interface ReaderObserver {
  request(chain: string, endpoint: string): void
  error(chain: string, endpoint: string): void
}

type RpcClient = ReturnType<typeof createRpcClient>

/** Every call counted, and every call that fails (error, timeout, malformed, cooling down) counted again. */
function observed(client: RpcClient, chain: string, endpoint: string, observer: ReaderObserver): RpcClient {
  return {
    ...client,
    call: async (method, params, schema) => {
      observer.request(chain, endpoint)
      try {
        return await client.call(method, params, schema)
      } catch (error) {
        observer.error(chain, endpoint)
        throw error
      }
    },
  }
}

/**
 * Calls to one endpoint go as JSON-RPC batches of up to BATCH (one HTTP request for a hundred
 * transactions or quorums instead of one each), and at most IN_FLIGHT_PER_ENDPOINT calls are in
 * flight — two full batches; the rest wait their turn (outside the request timeout). A chunk
 * asks for hundreds of transactions and quorums at once: sent all together they time out on a
 * busy node, the endpoint cools down, and a source it did not answer for reads as unconfirmed —
 * a finding the guard caused itself.
 */
const BATCH = 100
const IN_FLIGHT_PER_ENDPOINT = 2 * BATCH

function limited(client: RpcClient, limit: number): RpcClient {
  let active = 0
  const waiting: (() => void)[] = []
  return {
    ...client,
    call: async (method, params, schema) => {
      // A finishing call hands its slot straight to the next waiting one.
      if (active < limit) active++
      else await new Promise<void>((resolve) => waiting.push(resolve))
      try {
        return await client.call(method, params, schema)
      } finally {
        const next = waiting.shift()
        if (next) next()
        else active--
      }
    },
  }
}

export function createChainReaders(
  config: GuardConfig,
  logger: Logger,
  observer?: ReaderObserver,
): Map<string, ChainReader> {
  const readers = new Map<string, ChainReader>()
  for (const [chain, settings] of Object.entries(config.chains)) {
    const clients = settings.rpcUrls.map((url) => {
      const redacted = redactUrl(url)
      const client = createRpcClient({
        chain,
        urls: [url],
        timeoutMs: settings.requestTimeoutMs,
        logger,
        onError: () => {},
        batchMaxCount: BATCH,
      })
      const bounded = limited(client, IN_FLIGHT_PER_ENDPOINT)
      return { redacted, client: observer ? observed(bounded, chain, redacted, observer) : bounded }
    })
    // State reads go to whichever endpoint answers; they decide nothing about backing.
    const first = async <T>(ask: (client: (typeof clients)[number]['client']) => Promise<T>): Promise<T> => {
      let lastError: unknown
      for (const { client } of clients) {
        try {
          return await ask(client)
        } catch (error) {
          lastError = error
        }
      }
      throw lastError
    }
    const call = (to: string, data: string, block: number | 'latest') =>
      first((client) =>
        client.call('eth_call', [{ to, data }, typeof block === 'number' ? hex(block) : block], hexData),
      )
    readers.set(chain, {
      chain,
      minConfirmations: settings.minConfirmations,
      endpointCount: clients.length,
      sourceLocks: (gateway, fromBlock, messageIds) =>
        Promise.all(
          clients.map(async ({ redacted, client }): Promise<EndpointAnswer> => {
            try {
              const logs = await client.call(
                'eth_getLogs',
                [
                  {
                    address: gateway,
                    fromBlock: hex(fromBlock),
                    toBlock: 'latest',
                    topics: [LOCKED.topic, messageIds],
                  },
                ],
                logsSchema,
              )
              const locks = new Map<string, SourceLock>()
              for (const log of logs) {
                if (log.removed) continue
                const args = lockedArguments(log)
                if (!args) continue
                locks.set(log.topics[1]!, {
                  messageId: log.topics[1]!,
                  ...args,
                  txHash: log.transactionHash,
                  blockNumber: log.blockNumber,
                  blockHash: log.blockHash,
                })
              }
              return { endpoint: redacted, ok: true, locks }
            } catch (error) {
              return { endpoint: redacted, ok: false, error: describeRpcError(error) }
            }
          }),
        ),
      async quorumAt(gateway, block) {
        const [guardians, threshold] = await Promise.all([
          call(gateway, GUARDIANS_CALL, block),
          call(gateway, THRESHOLD_CALL, block),
        ])
        return {
          guardians: [...guardianSetOf(guardians)],
          threshold: thresholdOf(threshold),
        }
      },
      transaction: (hash) =>
        first((client) => client.call('eth_getTransactionByHash', [hash], transactionSchema)),
      receipt: (hash) => first((client) => client.call('eth_getTransactionReceipt', [hash], receiptSchema)),
      async blockTimestamp(blockNumber) {
        const block = await first((client) =>
          client.call('eth_getBlockByNumber', [hex(blockNumber), false], blockSchema),
        )
        return block?.timestamp
      },
      call,
      blockNumber: () => first((client) => client.call('eth_blockNumber', [], quantity)),
    })
  }
  return readers
}
