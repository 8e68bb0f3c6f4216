import { getAddress, id } from 'ethers'
import type { IoVeridisChain } from '../../../../schemas/generated/veridis.chain.bridge.v1.ts'
import type { ChainEvent } from '../../common/publisher.ts'
import type { RpcLog } from '../rpc/schemas.ts'

/**
 * What the bridge guard needs beside a gateway's own events, taken from the same blocks:
 *
 * - the token Transfer logs in a lock's transaction that moved value into the gateway, so a
 *   lock with no value behind it (Qubit 2022: a deposit event with no token transfer) is
 *   visible on the topic (Wormhole's Transfer Verifier rule: a message must be matched by
 *   tokens entering the bridge in the same receipt);
 * - the root a root-proven (optimistic) gateway accepted a message under, which it announces
 *   in a MessageProcessed log right after the release (Nomad 2022: the zero root).
 */
export const TRANSFER_TOPIC = id('Transfer(address,address,uint256)').toLowerCase()
export const MESSAGE_PROCESSED_TOPIC = id('MessageProcessed(bytes32,bytes32)').toLowerCase()

type TokenTransfer = IoVeridisChain.TokenTransfer

/** 32-byte topic form of an address, as eth_getLogs matches indexed addresses. */
export const addressTopic = (address: string) => `0x${address.toLowerCase().slice(2).padStart(64, '0')}`

/** An ERC-20 Transfer (three topics, one data word); anything else with that topic0 (ERC-721) is not value. */
function transferOf(log: RpcLog): TokenTransfer | undefined {
  if (log.topics.length !== 3 || log.data.length !== 66) return undefined
  return {
    token: getAddress(log.address),
    from: getAddress(`0x${log.topics[1]!.slice(26)}`),
    to: getAddress(`0x${log.topics[2]!.slice(26)}`),
    amount: BigInt(log.data).toString(10),
    logIndex: log.logIndex,
  }
}

/** Blocks holding a lock, as the range to ask for their Transfer logs; undefined when none. */
export function lockBlockRange(events: readonly ChainEvent[]): { from: number; to: number } | undefined {
  let from = Number.POSITIVE_INFINITY
  let to = -1
  for (const event of events) {
    if (event.topic !== 'bridge' || !event.value.action['io.veridis.chain.BridgeLocked']) continue
    from = Math.min(from, event.value.envelope.blockNumber)
    to = Math.max(to, event.value.envelope.blockNumber)
  }
  return to < 0 ? undefined : { from, to }
}

/** Puts each Transfer log on the lock of the same transaction (and block, so a reorged copy never matches). */
export function attachLockTransfers(events: readonly ChainEvent[], transferLogs: readonly RpcLog[]): void {
  const byTx = new Map<string, TokenTransfer[]>()
  for (const log of transferLogs) {
    const transfer = transferOf(log)
    if (!transfer) continue
    const key = `${log.blockHash}:${log.transactionHash}`
    const list = byTx.get(key)
    if (list) list.push(transfer)
    else byTx.set(key, [transfer])
  }
  for (const event of events) {
    const lock = event.topic === 'bridge' ? event.value.action['io.veridis.chain.BridgeLocked'] : undefined
    if (!lock) continue
    const { blockHash, txHash } = event.value.envelope
    lock.transfers = byTx.get(`${blockHash}:${txHash}`) ?? []
  }
}

/** MessageProcessed logs by transaction and message id → the root, to fold into the release. */
export function proofRootsOf(logs: readonly RpcLog[]): Map<string, string> {
  const roots = new Map<string, string>()
  for (const log of logs) {
    if (log.topics[0] !== MESSAGE_PROCESSED_TOPIC || log.topics.length !== 2 || log.data.length !== 66)
      continue
    roots.set(`${log.blockHash}:${log.transactionHash}:${log.topics[1]}`, log.data.toLowerCase())
  }
  return roots
}

export function attachProofRoots(events: readonly ChainEvent[], roots: ReadonlyMap<string, string>): void {
  if (roots.size === 0) return
  for (const event of events) {
    if (event.topic !== 'bridge') continue
    const release = event.value.action['io.veridis.chain.BridgeReleased']
    if (!release) continue
    const { blockHash, txHash } = event.value.envelope
    const root = roots.get(`${blockHash}:${txHash}:${event.value.messageId?.toLowerCase()}`)
    if (root !== undefined) release.proofRoot = root
  }
}
