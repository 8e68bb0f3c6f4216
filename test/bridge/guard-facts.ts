import { Wallet } from 'ethers'
import { type BridgeFact, factOf } from '../../consumers/bridge-guard/facts.ts'
import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { BridgeEvent } from '../../core/bus/types.ts'
import { messageIdOf } from '../../producers/chains/evm/bridge/release-signatures.ts'

/**
 * Hand-built bridge events for the guard's unit tests (consumers/bridge-guard): two chains, a
 * gateway and a token on each, five guardian keys, and lock and release facts as factOf reads
 * them from the topic.
 */
export const A = 'eip155:31337'
export const B = 'eip155:31338'
export const GATEWAY_A = '0x00000000000000000000000000000000000000a1'
export const GATEWAY_B = '0x00000000000000000000000000000000000000b2'
export const TOKEN_A = '0x000000000000000000000000000000000000aaaa'
export const TOKEN_B = '0x000000000000000000000000000000000000bbbb'
export const RECIPIENT = '0x00000000000000000000000000000000000000ee'
export const guardians = [1, 2, 3, 4, 5].map((n) => new Wallet(`0x${n.toString(16).padStart(64, '0')}`))
export const sorted = [...guardians].sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))

type Envelope = BridgeEvent['envelope']

export const envelope = (chain: string, finality = 'PENDING', fields: Partial<Envelope> = {}): Envelope => ({
  eventId: `ev-${Math.random()}`,
  chain,
  blockNumber: 100,
  blockHash: `0x${'11'.repeat(32)}`,
  txHash: `0x${'22'.repeat(32)}`,
  logIndex: 0,
  emitter: chain === A ? GATEWAY_A : GATEWAY_B,
  finality: finality as 'PENDING',
  observedAt: 1_000,
  ...fields,
})

export const message = (value: BridgeEvent) => ({ value }) as unknown as ConsumedMessage<BridgeEvent>
export const MESSAGE_ID = messageIdOf(31337n, GATEWAY_A, 7n)

/** A release on B of a message from A; `envelopeFields` for its id, transaction or finality. */
export function releaseFact(
  overrides: Partial<Record<string, unknown>> = {},
  messageId = MESSAGE_ID,
  envelopeFields: Partial<Envelope> = {},
) {
  return factOf(
    message({
      envelope: envelope(B, envelopeFields.finality, envelopeFields),
      gateway: GATEWAY_B,
      messageId,
      action: {
        'io.veridis.chain.BridgeReleased': {
          mode: 'MINT',
          recipient: RECIPIENT,
          token: TOKEN_B,
          amount: '1000',
          sourceChain: A,
          nonce: '7',
          signers: [],
          threshold: 3,
          proofRoot: null,
          ...overrides,
        },
      },
    }),
  ) as Extract<BridgeFact, { type: 'release' }>
}

export function lockFact(transfers: { token: string; to: string; amount: string }[], token = TOKEN_A) {
  return factOf(
    message({
      envelope: envelope(A),
      gateway: GATEWAY_A,
      messageId: MESSAGE_ID,
      action: {
        'io.veridis.chain.BridgeLocked': {
          mode: 'LOCK',
          sender: RECIPIENT,
          recipient: RECIPIENT,
          token,
          amount: '1000',
          destinationChain: B,
          nonce: '7',
          transfers: transfers.map((transfer, logIndex) => ({ ...transfer, from: RECIPIENT, logIndex })),
        },
      },
    }),
  ) as Extract<BridgeFact, { type: 'lock' }>
}
