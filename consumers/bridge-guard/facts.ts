import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { BridgeEvent, ChainEventEnvelope } from '../../core/bus/types.ts'
import { unionBranch } from '../../core/bus/union.ts'
import type { IoVeridisChain } from '../../schemas/generated/veridis.chain.bridge.v1.ts'

/**
 * A bridge event as the guard reasons about it: the union branch resolved once, amounts as
 * bigint. `configChange` covers everything that changes who can release value.
 */
export type Lock = IoVeridisChain.BridgeLocked
export type Release = IoVeridisChain.BridgeReleased

interface FactBase {
  readonly envelope: ChainEventEnvelope
  readonly gateway: string
  readonly message: ConsumedMessage<BridgeEvent>
}

export type BridgeFact =
  | (FactBase & {
      readonly type: 'lock'
      readonly messageId: string
      readonly lock: Lock
      readonly amount: bigint
    })
  | (FactBase & {
      readonly type: 'release'
      readonly messageId: string
      readonly release: Release
      readonly amount: bigint
    })
  | (FactBase & {
      readonly type: 'configChange'
      readonly change: 'guardians' | 'threshold' | 'admin' | 'pause'
      /** The quorum after the change, where the change sets one. */
      readonly threshold: number | undefined
      readonly guardians: readonly string[] | undefined
      readonly summary: string
    })
  | (FactBase & { readonly type: 'uninterpretable'; readonly reason: string })

export function factOf(message: ConsumedMessage<BridgeEvent>): BridgeFact {
  const { envelope, gateway, messageId } = message.value
  const base = { envelope, gateway, message }
  const branch = unionBranch(message.value.action)
  if (!branch) return { ...base, type: 'uninterpretable', reason: 'no action in the bridge event' }
  const action = branch.value
  switch (branch.type) {
    case 'BridgeLocked':
    case 'BridgeReleased': {
      if (!messageId)
        return { ...base, type: 'uninterpretable', reason: `${branch.type} without a message id` }
      const amount = /^[0-9]{1,78}$/.test((action as Lock).amount)
        ? BigInt((action as Lock).amount)
        : undefined
      if (amount === undefined) {
        return {
          ...base,
          type: 'uninterpretable',
          reason: `amount '${(action as Lock).amount}' is not an unsigned integer`,
        }
      }
      return branch.type === 'BridgeLocked'
        ? { ...base, type: 'lock', messageId: messageId.toLowerCase(), lock: action as Lock, amount }
        : { ...base, type: 'release', messageId: messageId.toLowerCase(), release: action as Release, amount }
    }
    case 'GuardianSetChanged': {
      const change = action as IoVeridisChain.GuardianSetChanged
      return {
        ...base,
        type: 'configChange',
        change: 'guardians',
        threshold: change.threshold,
        guardians: change.guardians,
        summary: `guardian set #${change.setIndex} of ${change.guardians.length}, threshold ${change.threshold}`,
      }
    }
    case 'ThresholdChanged': {
      const change = action as IoVeridisChain.ThresholdChanged
      return {
        ...base,
        type: 'configChange',
        change: 'threshold',
        threshold: change.threshold,
        guardians: undefined,
        summary: `threshold ${change.previousThreshold} → ${change.threshold}`,
      }
    }
    case 'AdminChanged': {
      const change = action as IoVeridisChain.AdminChanged
      return {
        ...base,
        type: 'configChange',
        change: 'admin',
        threshold: undefined,
        guardians: undefined,
        summary: `admin ${change.previousAdmin} → ${change.admin}`,
      }
    }
    case 'PauseChanged': {
      const change = action as IoVeridisChain.PauseChanged
      return {
        ...base,
        type: 'configChange',
        change: 'pause',
        threshold: undefined,
        guardians: undefined,
        summary: `${change.paused ? 'paused' : 'unpaused'} by ${change.by}`,
      }
    }
    default:
      return { ...base, type: 'uninterpretable', reason: `unknown bridge action ${branch.type}` }
  }
}
