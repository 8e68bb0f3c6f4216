import { zeroPadValue } from 'ethers'
import { z } from 'zod'
import type { GuardConfig } from '../../core/bridge/config.ts'
import type { Logger } from '../../core/logging/logger.ts'
import { GATEWAY, gatewayEvent } from '../../producers/chains/evm/bridge/chain-reader.ts'
import { createRpcClient } from '../../producers/chains/evm/rpc/client.ts'
import { ERC20 } from './detections/flow-limits.ts'

/**
 * What the guard's periodic checks read from each chain at a height of their choosing: the
 * finalized height, token balances and supplies, whether a gateway has released a message,
 * and a gateway's releases in a block range. State reads, through the chain's endpoints with
 * failover (they decide no backing; source confirmation compares endpoints, see the chain reader).
 */
const quantity = z
  .string()
  .regex(/^0x[0-9a-fA-F]+$/)
  .transform((value) => Number(BigInt(value)))
const hexData = z.string().regex(/^0x[0-9a-fA-F]*$/)
const blockSchema = z.object({ number: quantity })
const logsSchema = z.array(
  z.object({
    topics: z.array(z.string()),
    data: hexData,
    blockNumber: quantity,
    transactionHash: z.string(),
    removed: z.boolean().optional(),
  }),
)

const RELEASED = gatewayEvent('BridgeReleased')
const hex = (value: number) => `0x${value.toString(16)}`

/** A release as its gateway logged it. */
export interface GatewayRelease {
  readonly messageId: string
  readonly mode: 'MINT' | 'UNLOCK'
  readonly token: string
  readonly amount: bigint
  readonly sourceChain: string
  readonly blockNumber: number
  readonly txHash: string
}

export interface ChainState {
  readonly chain: string
  finalizedBlock(): Promise<number>
  balanceOf(token: string, owner: string, block: number): Promise<bigint>
  totalSupply(token: string, block: number): Promise<bigint>
  released(gateway: string, messageId: string, block: number | 'latest'): Promise<boolean>
  /** The gateway's BridgeReleased logs for one token in [fromBlock, toBlock]. */
  releases(gateway: string, token: string, fromBlock: number, toBlock: number): Promise<GatewayRelease[]>
}

export function createChainStates(config: GuardConfig, logger: Logger): Map<string, ChainState> {
  const states = new Map<string, ChainState>()
  for (const [chain, settings] of Object.entries(config.chains)) {
    const client = createRpcClient({
      chain,
      urls: settings.rpcUrls,
      timeoutMs: settings.requestTimeoutMs,
      logger,
      onError: () => {},
    })
    const call = (to: string, data: string, block: number | 'latest') =>
      client.call('eth_call', [{ to, data }, typeof block === 'number' ? hex(block) : block], hexData)
    states.set(chain, {
      chain,
      async finalizedBlock() {
        if (settings.finalizedTag) {
          const block = await client.call('eth_getBlockByNumber', ['finalized', false], blockSchema)
          return block.number
        }
        const latest = await client.call('eth_blockNumber', [], quantity)
        return Math.max(latest - settings.finalityConfirmations, 0)
      },
      async balanceOf(token, owner, block) {
        const data = await call(token, ERC20.encodeFunctionData('balanceOf', [owner]), block)
        return ERC20.decodeFunctionResult('balanceOf', data)[0] as bigint
      },
      async totalSupply(token, block) {
        const data = await call(token, ERC20.encodeFunctionData('totalSupply'), block)
        return ERC20.decodeFunctionResult('totalSupply', data)[0] as bigint
      },
      async released(gateway, messageId, block) {
        const data = await call(gateway, GATEWAY.encodeFunctionData('released', [messageId]), block)
        return GATEWAY.decodeFunctionResult('released', data)[0] as boolean
      },
      async releases(gateway, token, fromBlock, toBlock) {
        if (toBlock < fromBlock) return []
        const logs = await client.call(
          'eth_getLogs',
          [
            {
              address: gateway,
              fromBlock: hex(fromBlock),
              toBlock: hex(toBlock),
              topics: [RELEASED.topic, null, null, zeroPadValue(token, 32).toLowerCase()],
            },
          ],
          logsSchema,
        )
        return logs.flatMap((log) => {
          if (log.removed) return []
          const args = RELEASED.decode(log)
          if (!args) return []
          return [
            {
              messageId: log.topics[1]!.toLowerCase(),
              mode: Number(args.mode) === 0 ? ('MINT' as const) : ('UNLOCK' as const),
              token: args.token as string,
              amount: args.amount as bigint,
              sourceChain: `eip155:${args.sourceChainId as bigint}`,
              blockNumber: log.blockNumber,
              txHash: log.transactionHash.toLowerCase(),
            },
          ]
        })
      },
    })
  }
  return states
}
