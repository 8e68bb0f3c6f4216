import { hash } from 'starknet'
import type {
  AttestationEvent,
  ChainEventEnvelope,
  Finality,
  NullifierEvent,
} from '../../../../core/bus/types.ts'
import { NonRetryableError } from '../../../../core/errors.ts'
import { chainEventId } from '../../common/event-id.ts'
import type { ChainEvent } from '../../common/publisher.ts'
import type { EmittedEvent } from '../rpc/schemas.ts'

/**
 * StarkNet events of the Veridis Cairo contracts (contracts/starknet/src) → the pipeline's
 * chain events. keys[0] is the event's selector (sn_keccak of its name); the `#[key]` fields
 * follow in keys, the rest in data, each in Cairo's serialisation: a u256 is two felts (low,
 * high), a ByteArray is [word count, 31-byte words..., pending word, pending length].
 * Field elements become decimal strings, addresses 0x + 64 hex digits. The envelope's
 * logIndex is the event's position in its transaction (event_index): together with the
 * transaction hash inside chainEventId it names the event uniquely, and it is the index of
 * the event in the transaction's receipt.
 */
export const STARKNET_WATCHED_EVENTS = {
  attestationRegistry: ['AttestationIssued', 'AttestationRevoked', 'AttestationRootUpdated'],
  nullifierRegistry: ['NullifierUsed', 'NullifierRelayed'],
} as const
export type StarknetContractRole = keyof typeof STARKNET_WATCHED_EVENTS

/** Selector (felt, lower-case hex without padding) → event name. */
const selectorOf = (name: string) => `0x${BigInt(hash.getSelectorFromName(name)).toString(16)}`
export const EVENT_SELECTORS: Readonly<Record<StarknetContractRole, ReadonlyMap<string, string>>> = {
  attestationRegistry: new Map(STARKNET_WATCHED_EVENTS.attestationRegistry.map((n) => [selectorOf(n), n])),
  nullifierRegistry: new Map(STARKNET_WATCHED_EVENTS.nullifierRegistry.map((n) => [selectorOf(n), n])),
}

/** An address as the envelope and the records carry it: 0x + 64 lower-case hex digits. */
export const paddedAddress = (value: string) => `0x${BigInt(value).toString(16).padStart(64, '0')}`

class MalformedEventError extends NonRetryableError {
  override name = 'MalformedEventError'
}

/** Reads Cairo-serialised values off a felt array, failing loudly on a short or odd payload. */
function reader(felts: readonly string[], what: string) {
  let position = 0
  const next = (): bigint => {
    const value = felts[position++]
    if (value === undefined) throw new MalformedEventError(`${what}: fewer felts than its type needs`)
    return BigInt(value)
  }
  return {
    felt: next,
    u256(): bigint {
      const low = next()
      const high = next()
      if (low >= 2n ** 128n || high >= 2n ** 128n)
        throw new MalformedEventError(`${what}: a u256 half over 128 bits`)
      return low + (high << 128n)
    },
    byteArray(): string {
      const words = Number(next())
      if (!Number.isSafeInteger(words) || words < 0 || words > 10_000)
        throw new MalformedEventError(`${what}: implausible ByteArray length`)
      const chunks: Buffer[] = []
      for (let i = 0; i < words; i++) chunks.push(Buffer.from(next().toString(16).padStart(62, '0'), 'hex'))
      const pending = next()
      const pendingLength = Number(next())
      if (pendingLength < 0 || pendingLength > 30)
        throw new MalformedEventError(`${what}: ByteArray pending length ${pendingLength}`)
      if (pendingLength > 0)
        chunks.push(Buffer.from(pending.toString(16).padStart(pendingLength * 2, '0'), 'hex'))
      return Buffer.concat(chunks).toString('utf8')
    },
    done() {
      if (position !== felts.length)
        throw new MalformedEventError(`${what}: ${felts.length - position} felts left over`)
    },
  }
}

export function starknetEnvelope(
  chain: string,
  event: EmittedEvent,
  finality: Finality,
  observedAt: number,
): ChainEventEnvelope {
  return {
    eventId: chainEventId({
      chain,
      blockHash: event.block_hash,
      txHash: event.transaction_hash,
      logIndex: event.event_index,
    }),
    chain,
    blockNumber: event.block_number,
    blockHash: event.block_hash,
    txHash: event.transaction_hash,
    logIndex: event.event_index,
    emitter: paddedAddress(event.from_address),
    finality,
    observedAt,
  }
}

export interface StarknetNormaliseContext {
  readonly chain: string
  /** Address (lower-case hex without padding, as the schemas normalise felts) → role. */
  readonly roles: ReadonlyMap<string, StarknetContractRole>
  readonly observedAt: number
}

const decimal = (value: bigint) => value.toString(10)
const nonZeroDecimal = (value: bigint) => (value === 0n ? null : decimal(value))

/** The chain event of one emitted event, or undefined for one that is not ours. */
export function normaliseStarknetEvent(
  context: StarknetNormaliseContext,
  event: EmittedEvent,
  finality: Finality,
): ChainEvent | undefined {
  const role = context.roles.get(event.from_address)
  const selector = event.keys[0]
  if (!role || selector === undefined) return undefined
  const name = EVENT_SELECTORS[role].get(selector)
  if (!name) return undefined
  const what = `${name} in tx ${event.transaction_hash}`
  const keys = reader(event.keys.slice(1), `${what} keys`)
  const data = reader(event.data, `${what} data`)
  const envelope = starknetEnvelope(context.chain, event, finality, context.observedAt)
  const registry = envelope.emitter
  let result: ChainEvent
  switch (name) {
    case 'AttestationIssued': {
      const attestationId = keys.u256()
      const issuer = paddedAddress(`0x${keys.felt().toString(16)}`)
      const root = data.u256()
      const schemaId = data.felt()
      result = {
        topic: 'attestation',
        value: {
          envelope,
          registry,
          change: {
            'io.veridis.chain.AttestationIssued': {
              attestationId: decimal(attestationId),
              issuer,
              root: decimal(root),
              schemaId: schemaId === 0n ? null : `0x${schemaId.toString(16).padStart(64, '0')}`,
            },
          },
        } satisfies AttestationEvent,
      }
      break
    }
    case 'AttestationRevoked': {
      const attestationId = keys.u256()
      const issuer = paddedAddress(`0x${keys.felt().toString(16)}`)
      const reason = data.byteArray()
      result = {
        topic: 'attestation',
        value: {
          envelope,
          registry,
          change: {
            'io.veridis.chain.AttestationRevoked': {
              attestationId: decimal(attestationId),
              issuer,
              reason: reason === '' ? null : reason,
            },
          },
        } satisfies AttestationEvent,
      }
      break
    }
    case 'AttestationRootUpdated': {
      const issuer = paddedAddress(`0x${keys.felt().toString(16)}`)
      const previousRoot = data.u256()
      const root = data.u256()
      result = {
        topic: 'attestation',
        value: {
          envelope,
          registry,
          change: {
            'io.veridis.chain.AttestationRootUpdated': {
              issuer,
              previousRoot: nonZeroDecimal(previousRoot),
              root: decimal(root),
            },
          },
        } satisfies AttestationEvent,
      }
      break
    }
    case 'NullifierUsed':
    case 'NullifierRelayed': {
      const scope = keys.u256()
      const nullifier = keys.u256()
      keys.felt() // `by`: the writer, not part of the record (the envelope names the tx)
      const root = data.u256()
      const relayed = name === 'NullifierRelayed'
      const originChain = relayed ? data.byteArray() : null
      result = {
        topic: 'nullifier',
        value: {
          envelope,
          registry,
          scope: decimal(scope),
          nullifier: decimal(nullifier),
          merkleTreeRoot: nonZeroDecimal(root),
          source: relayed ? 'RELAYER' : 'PROOF',
          originChain,
          proof: null,
          publicSignals: [],
          message: null,
        } satisfies NullifierEvent,
      }
      break
    }
    default:
      return undefined
  }
  keys.done()
  data.done()
  return result
}
