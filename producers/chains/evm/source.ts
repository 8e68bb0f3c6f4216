import { NonRetryableError } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logging/logger.ts'
import { MisconfiguredChainError } from '../common/errors.ts'
import type { ChainEvent } from '../common/publisher.ts'
import type { ChainSource } from '../common/source.ts'
import { type EvmChainConfig, FinalityRule } from './config.ts'
import type { ContractRole, VeridisAbi } from './normalise/abi.ts'
import {
  addressTopic,
  attachLockTransfers,
  attachProofRoots,
  lockBlockRange,
  proofRootsOf,
  TRANSFER_TOPIC,
} from './normalise/bridge-extras.ts'
import { type Finality, normaliseLog } from './normalise/events.ts'
import { createRpcClient, isRangeTooLarge, RpcRequestError } from './rpc/client.ts'
import { watchHeads } from './rpc/heads.ts'
import {
  blockNumberSchema,
  chainIdSchema,
  codeSchema,
  logsSchema,
  maybeBlockHeaderSchema,
  type RpcLog,
} from './rpc/schemas.ts'

/**
 * An EVM chain as the listener engine sees it: heads and headers by eth_getBlockByNumber,
 * finality by confirmations or the `finalized` tag, the Veridis contracts' logs by
 * eth_getLogs in bounded ranges (halved on "range too large"), new heads by websocket.
 */
const hex = (value: number) => `0x${value.toString(16)}`

export function createEvmSource(options: {
  readonly config: EvmChainConfig
  readonly abi: VeridisAbi
  readonly logger: Logger
  readonly onRpcError: (redactedUrl: string) => void
}): ChainSource {
  const { config, abi, logger } = options
  const chain = config.chain
  const rpc = createRpcClient({
    chain,
    urls: config.rpcUrls,
    timeoutMs: config.requestTimeoutMs,
    logger,
    onError: options.onRpcError,
  })
  const roles = new Map<string, ContractRole>()
  for (const [role, address] of Object.entries(config.contracts) as [ContractRole, unknown][]) {
    if (typeof address === 'string') roles.set(address.toLowerCase(), role)
  }
  for (const address of config.contracts.bridgeGateways ?? [])
    roles.set(address.toLowerCase(), 'bridgeGateway')
  const gatewayTopics = [...roles]
    .filter(([, role]) => role === 'bridgeGateway')
    .map(([a]) => addressTopic(a))
  const addresses = [...roles.keys()]
  let blockRange = config.maxBlockRange

  const header = (number: number | 'finalized') =>
    rpc.call(
      'eth_getBlockByNumber',
      [typeof number === 'number' ? hex(number) : number, false],
      maybeBlockHeaderSchema,
    )

  /** Logs matching `filter` in from–to, in bounded ranges, in chain order. */
  async function getLogs(from: number, to: number, filter: object): Promise<RpcLog[]> {
    const logs: RpcLog[] = []
    for (let start = from; start <= to; ) {
      const end = Math.min(to, start + blockRange - 1)
      try {
        const page = await rpc.call(
          'eth_getLogs',
          [{ fromBlock: hex(start), toBlock: hex(end), ...filter }],
          logsSchema,
        )
        for (const log of page) logs.push(log)
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

  return {
    chain,
    family: 'evm',
    activeEndpoint: rpc.activeUrl,

    /** The chain must be the one configured, and every configured contract must have code there. */
    async preflight() {
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
      return {
        rpc: rpc.endpoints.map((endpoint) => endpoint.redacted),
        contracts: Object.fromEntries(roles),
      }
    },

    head: () => rpc.call('eth_blockNumber', [], blockNumberSchema),

    async finalizedTarget(head) {
      if (config.finality.rule === FinalityRule.confirmations) return head - config.finality.confirmations
      const finalized = await header('finalized')
      return finalized ? Math.min(finalized.number, head) : -1
    },

    header: (number) => header(number),

    async events(from, to, finality: Finality): Promise<ChainEvent[]> {
      const logs = await getLogs(from, to, { address: addresses, topics: [abi.topics] })
      const context = { chain, abi, roles, observedAt: Date.now() }
      const events: ChainEvent[] = []
      for (const log of logs) {
        const event = normaliseLog(context, log, finality)
        if (event) events.push(event)
      }
      attachProofRoots(events, proofRootsOf(logs))
      // Value entering a gateway, asked for only over blocks that hold a lock.
      const locks = lockBlockRange(events)
      if (locks) {
        const transfers = await getLogs(locks.from, locks.to, {
          topics: [TRANSFER_TOPIC, null, gatewayTopics],
        })
        attachLockTransfers(events, transfers)
      }
      return events
    },

    ...(config.wsUrl === undefined
      ? {}
      : {
          watchHeads: (onHead: () => void, signal: AbortSignal) =>
            watchHeads({ url: config.wsUrl!, chainId: config.chainId, logger, signal, onHead }),
        }),

    destroy: () => rpc.destroy(),
  }
}
