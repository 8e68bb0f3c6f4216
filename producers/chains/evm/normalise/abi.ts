import { type EventFragment, Interface, type InterfaceAbi, type ParamType } from 'ethers'
import { loadArtifact } from '../../../../contracts/evm/build.ts'

/**
 * The events the listener reads, from the compiled artifacts (so the ABI can never drift
 * from the contracts), per contract role. Only these topic0s are requested from the node.
 */
export const WATCHED_EVENTS = {
  attestationRegistry: ['AttestationIssued', 'AttestationRevoked', 'AttestationRootUpdated'],
  nullifierRegistry: ['NullifierUsed', 'NullifierRelayed', 'NullifierUsedWithProof'],
  bridgeGateway: [
    'BridgeLocked',
    'BridgeReleased',
    'GuardianSetChanged',
    'ThresholdChanged',
    'PauseChanged',
    'AdminChanged',
    'MessageProcessed',
  ],
} as const
export type ContractRole = keyof typeof WATCHED_EVENTS

const ARTIFACT_OF: Record<ContractRole, string> = {
  attestationRegistry: 'AttestationRegistry',
  nullifierRegistry: 'NullifierRegistry',
  bridgeGateway: 'BridgeGateway',
}

/**
 * Events a bridge gateway may emit beyond the production BridgeGateway's own: a root-proven
 * (optimistic) gateway names the root each processed message was proven against, right after
 * its BridgeReleased; the listener folds it into that release (./bridge-extras.ts).
 */
const GATEWAY_EXTENSIONS = ['event MessageProcessed(bytes32 indexed messageId, bytes32 root)']

/** A decoded log: the event's name and its arguments by parameter name. */
export interface DecodedLog {
  readonly name: string
  readonly args: Readonly<Record<string, unknown>>
}

export interface VeridisAbi {
  readonly interfaces: Record<ContractRole, Interface>
  /** topic0 → the roles whose contracts emit it (AdminChanged has one signature in several). */
  readonly topics: readonly string[]
  parse(role: ContractRole, log: { topics: readonly string[]; data: string }): DecodedLog | undefined
}

export function loadVeridisAbi(): VeridisAbi {
  const interfaces = Object.fromEntries(
    (Object.keys(ARTIFACT_OF) as ContractRole[]).map((role) => [
      role,
      new Interface([
        ...(loadArtifact(ARTIFACT_OF[role]).abi as readonly unknown[]),
        ...(role === 'bridgeGateway' ? GATEWAY_EXTENSIONS : []),
      ] as InterfaceAbi),
    ]),
  ) as Record<ContractRole, Interface>
  // topic0 → decoder per role, resolved once. ethers' parseLog searches (and hashes) every
  // fragment for each log and builds Proxy-backed results: ~100 µs a log, which dominated
  // the listener's cost. Events whose parameters are all static are read word by word.
  const fragments = new Map<string, (log: { topics: readonly string[]; data: string }) => DecodedLog>()
  for (const role of Object.keys(WATCHED_EVENTS) as ContractRole[]) {
    for (const name of WATCHED_EVENTS[role]) {
      const event = interfaces[role].getEvent(name)
      if (!event) throw new Error(`event ${name} missing from the ${ARTIFACT_OF[role]} artifact`)
      fragments.set(`${role}:${event.topicHash.toLowerCase()}`, decoderOf(interfaces[role], event))
    }
  }
  return {
    interfaces,
    topics: [...new Set([...fragments.keys()].map((key) => key.slice(key.indexOf(':') + 1)))],
    parse(role, log) {
      const topic0 = log.topics[0]
      const decode = topic0 === undefined ? undefined : fragments.get(`${role}:${topic0}`)
      return decode?.(log)
    },
  }
}

/** One 32-byte word as the value of a static ABI type, the way ethers would decode it. */
function staticWord(type: ParamType, word: string): unknown {
  switch (type.baseType) {
    case 'uint256':
    case 'uint8':
      return BigInt(`0x${word}`)
    case 'address':
      return `0x${word.slice(24)}`
    case 'bytes32':
      return `0x${word}`
    case 'bool':
      return BigInt(`0x${word}`) !== 0n
    default:
      return undefined
  }
}

const STATIC = new Set(['uint256', 'uint8', 'address', 'bytes32', 'bool'])

/**
 * How many 32-byte words a parameter takes when it can be read word by word: a static
 * scalar (1), or a non-indexed fixed-size array of static scalars (its length, encoded
 * in place, e.g. a proof's uint256[8]); undefined otherwise.
 */
function staticWords(input: ParamType): number | undefined {
  if (STATIC.has(input.baseType) && input.type === input.baseType) return 1
  const child = input.arrayChildren
  const length = input.arrayLength ?? -1
  if (input.baseType === 'array' && !input.indexed && length > 0 && child) {
    return STATIC.has(child.baseType) && child.type === child.baseType ? length : undefined
  }
  return undefined
}

function decoderOf(
  iface: Interface,
  event: EventFragment,
): (log: { topics: readonly string[]; data: string }) => DecodedLog {
  const fast = event.inputs.every((input) => staticWords(input) !== undefined)
  if (!fast) {
    return (log) => {
      const result = iface.decodeEventLog(event, log.data, [...log.topics])
      return {
        name: event.name,
        args: Object.fromEntries(event.inputs.map((input, i) => [input.name, result[i]])),
      }
    }
  }
  const indexedCount = event.inputs.filter((input) => input.indexed).length
  const dataWords = event.inputs.reduce((sum, input) => sum + (input.indexed ? 0 : staticWords(input)!), 0)
  return (log) => {
    if (log.topics.length !== indexedCount + 1 || log.data.length !== 2 + dataWords * 64) {
      throw new Error(
        `malformed ${event.name} log: ${log.topics.length} topics, ${(log.data.length - 2) / 2} data bytes`,
      )
    }
    const args: Record<string, unknown> = {}
    let topic = 1
    let word = 0
    for (const input of event.inputs) {
      if (input.baseType === 'array') {
        const child = input.arrayChildren!
        args[input.name] = Array.from({ length: input.arrayLength ?? 0 }, () =>
          staticWord(child, log.data.slice(2 + 64 * word, 2 + 64 * ++word)),
        )
        continue
      }
      const raw = input.indexed
        ? log.topics[topic++]!.slice(2)
        : log.data.slice(2 + 64 * word, 2 + 64 * ++word)
      args[input.name] = staticWord(input, raw)
    }
    return { name: event.name, args }
  }
}
