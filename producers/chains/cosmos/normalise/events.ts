import type {
  AttestationEvent,
  ChainEventEnvelope,
  Finality,
  NullifierEvent,
} from '../../../../core/bus/types.ts'
import { NonRetryableError } from '../../../../core/errors.ts'
import { chainEventId } from '../../common/event-id.ts'
import type { ChainEvent } from '../../common/publisher.ts'
import type { AbciEvent, TxResult } from '../rpc/schemas.ts'

/**
 * Events of the Veridis CosmWasm registry (contracts/cosmos/src/lib.rs) → the pipeline's chain
 * events. wasmd turns a contract's `Event::new("veridis_…")` into an ABCI event of type
 * `wasm-veridis_…` whose first attribute is `_contract_address`, followed by the contract's
 * attributes as strings; field elements are already decimal (Uint256). The envelope's logIndex
 * is the event's position in its transaction's ABCI events: with the transaction hash inside
 * chainEventId it names the event uniquely. Failed transactions (code ≠ 0) emit nothing of the
 * contract's (wasmd discards a failed message's events) and are skipped.
 */
export const COSMOS_WATCHED_EVENTS = {
  'wasm-veridis_attestation_issued': 'AttestationIssued',
  'wasm-veridis_attestation_revoked': 'AttestationRevoked',
  'wasm-veridis_attestation_root_updated': 'AttestationRootUpdated',
  'wasm-veridis_nullifier_used': 'NullifierUsed',
  'wasm-veridis_nullifier_relayed': 'NullifierRelayed',
} as const

class MalformedEventError extends NonRetryableError {
  override name = 'MalformedEventError'
}

const DECIMAL = /^(0|[1-9]\d{0,77})$/
const MAX_U256 = 2n ** 256n - 1n
const BECH32 = /^[a-z][a-z0-9]{0,20}1[02-9ac-hj-np-z]{38,90}$/

function attributes(event: AbciEvent, what: string) {
  const values = new Map<string, string>()
  for (const attribute of event.attributes) {
    if (values.has(attribute.key)) throw new MalformedEventError(`${what}: attribute ${attribute.key} twice`)
    values.set(attribute.key, attribute.value)
  }
  const text = (key: string): string => {
    const value = values.get(key)
    if (value === undefined) throw new MalformedEventError(`${what}: no ${key} attribute`)
    return value
  }
  return {
    has: (key: string) => values.has(key),
    text,
    decimal(key: string): string {
      const value = text(key)
      if (!DECIMAL.test(value) || BigInt(value) > MAX_U256)
        throw new MalformedEventError(`${what}: ${key} is not a decimal 256-bit number`)
      return value
    },
    address(key: string): string {
      const value = text(key)
      if (!BECH32.test(value)) throw new MalformedEventError(`${what}: ${key} is not a bech32 address`)
      return value
    },
  }
}

export interface CosmosNormaliseContext {
  readonly chain: string
  /** The Veridis registry contract (bech32); events of any other contract are ignored. */
  readonly registry: string
  readonly observedAt: number
}

export function cosmosEnvelope(
  context: CosmosNormaliseContext,
  tx: Pick<TxResult, 'hash' | 'height'>,
  blockHash: string,
  index: number,
  finality: Finality,
): ChainEventEnvelope {
  return {
    eventId: chainEventId({ chain: context.chain, blockHash, txHash: tx.hash, logIndex: index }),
    chain: context.chain,
    blockNumber: tx.height,
    blockHash,
    txHash: tx.hash,
    logIndex: index,
    emitter: context.registry,
    finality,
    observedAt: context.observedAt,
  }
}

const nonZero = (value: string) => (value === '0' ? null : value)

/** The chain events of one transaction, in the order the chain emitted them. */
export function normaliseCosmosTx(
  context: CosmosNormaliseContext,
  tx: TxResult,
  blockHash: string,
  finality: Finality,
): ChainEvent[] {
  if (tx.tx_result.code !== 0) return []
  const events: ChainEvent[] = []
  tx.tx_result.events.forEach((event, index) => {
    const name = COSMOS_WATCHED_EVENTS[event.type as keyof typeof COSMOS_WATCHED_EVENTS]
    if (!name) return
    const what = `${name} in tx ${tx.hash}`
    const read = attributes(event, what)
    if (read.text('_contract_address') !== context.registry) return
    const envelope = cosmosEnvelope(context, tx, blockHash, index, finality)
    const registry = context.registry
    switch (name) {
      case 'AttestationIssued': {
        const schemaId = read.has('schema_id') ? read.text('schema_id') : null
        if (schemaId !== null && !/^0x[0-9a-f]{64}$/.test(schemaId))
          throw new MalformedEventError(`${what}: schema_id is not 0x + 64 hex digits`)
        events.push({
          topic: 'attestation',
          value: {
            envelope,
            registry,
            change: {
              'io.veridis.chain.AttestationIssued': {
                attestationId: read.decimal('attestation_id'),
                issuer: read.address('issuer'),
                root: read.decimal('root'),
                schemaId,
              },
            },
          } satisfies AttestationEvent,
        })
        return
      }
      case 'AttestationRevoked': {
        const reason = read.text('reason')
        events.push({
          topic: 'attestation',
          value: {
            envelope,
            registry,
            change: {
              'io.veridis.chain.AttestationRevoked': {
                attestationId: read.decimal('attestation_id'),
                issuer: read.address('issuer'),
                reason: reason === '' ? null : reason,
              },
            },
          } satisfies AttestationEvent,
        })
        return
      }
      case 'AttestationRootUpdated': {
        events.push({
          topic: 'attestation',
          value: {
            envelope,
            registry,
            change: {
              'io.veridis.chain.AttestationRootUpdated': {
                issuer: read.address('issuer'),
                previousRoot: nonZero(read.decimal('previous_root')),
                root: read.decimal('root'),
              },
            },
          } satisfies AttestationEvent,
        })
        return
      }
      case 'NullifierUsed':
      case 'NullifierRelayed': {
        const relayed = name === 'NullifierRelayed'
        read.address('by')
        events.push({
          topic: 'nullifier',
          value: {
            envelope,
            registry,
            scope: read.decimal('scope'),
            nullifier: read.decimal('nullifier'),
            merkleTreeRoot: nonZero(read.decimal('merkle_tree_root')),
            source: relayed ? 'RELAYER' : 'PROOF',
            originChain: relayed ? read.text('origin_chain') : null,
            proof: null,
            publicSignals: [],
            message: null,
          } satisfies NullifierEvent,
        })
        return
      }
    }
  })
  return events
}
