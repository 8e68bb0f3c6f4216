import { getAddress, ZeroHash } from 'ethers'
import type {
  AttestationEvent,
  BridgeEvent,
  ChainEventEnvelope,
  NullifierEvent,
} from '../../../../core/bus/types.ts'
import { NonRetryableError } from '../../../../core/errors.ts'
import { chainEventId } from '../../common/event-id.ts'
import type { ChainEvent } from '../../common/publisher.ts'
import type { RpcLog } from '../rpc/schemas.ts'
import type { ContractRole, DecodedLog, VeridisAbi } from './abi.ts'

/**
 * Raw logs → the pipeline's chain events. Field elements (ids, roots, scopes, nullifiers)
 * and uint256 amounts become decimal strings; addresses are checksummed; chain ids become
 * CAIP-2. The envelope's eventId is chainEventId(chain, block hash, tx hash, log index), so
 * the same log always yields the same id, whoever publishes it and however often.
 */
export type Finality = ChainEventEnvelope['finality']

const decimal = (value: unknown) => (value as bigint).toString(10)
// Checksumming hashes the address; the same few addresses recur in every log.
const checksums = new Map<string, string>()
function checksum(value: unknown): string {
  const address = (value as string).toLowerCase()
  let known = checksums.get(address)
  if (known === undefined) {
    known = getAddress(address)
    if (checksums.size > 10_000) checksums.clear()
    checksums.set(address, known)
  }
  return known
}
const nonZeroDecimal = (value: unknown) => ((value as bigint) === 0n ? null : decimal(value))
const caip2 = (chainId: unknown) => `eip155:${decimal(chainId)}`
const LOCK_MODES = ['LOCK', 'BURN'] as const
const RELEASE_MODES = ['MINT', 'UNLOCK'] as const

function enumValue<T>(symbols: readonly T[], value: unknown, what: string): T {
  const symbol = symbols[Number(value)]
  if (symbol === undefined) throw new NonRetryableError(`unknown ${what} ${String(value)} in a log`)
  return symbol
}

export interface NormaliseContext {
  readonly chain: string
  readonly abi: VeridisAbi
  /** Lower-case contract address → its role. */
  readonly roles: ReadonlyMap<string, ContractRole>
  readonly observedAt: number
}

export function envelopeOf(
  chain: string,
  log: RpcLog,
  finality: Finality,
  observedAt: number,
): ChainEventEnvelope {
  return {
    eventId: chainEventId({
      chain,
      blockHash: log.blockHash,
      txHash: log.transactionHash,
      logIndex: log.logIndex,
    }),
    chain,
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    txHash: log.transactionHash,
    logIndex: log.logIndex,
    emitter: checksum(log.address),
    finality,
    observedAt,
  }
}

/** The chain event of one log, or undefined for a log that is not one of ours. */
export function normaliseLog(
  context: NormaliseContext,
  log: RpcLog,
  finality: Finality,
): ChainEvent | undefined {
  const role = context.roles.get(log.address)
  if (!role) return undefined
  const parsed = context.abi.parse(role, log)
  // A root-proven gateway's MessageProcessed is folded into its release, not an event of its own.
  if (!parsed || parsed.name === 'MessageProcessed') return undefined
  const envelope = envelopeOf(context.chain, log, finality, context.observedAt)
  const emitter = envelope.emitter
  switch (role) {
    case 'attestationRegistry':
      return { topic: 'attestation', value: attestationEvent(envelope, emitter, parsed) }
    case 'nullifierRegistry':
      return { topic: 'nullifier', value: nullifierEvent(envelope, emitter, parsed) }
    case 'bridgeGateway':
      return { topic: 'bridge', value: bridgeEvent(envelope, emitter, parsed) }
  }
}

function attestationEvent(envelope: ChainEventEnvelope, registry: string, log: DecodedLog): AttestationEvent {
  const a = log.args
  switch (log.name) {
    case 'AttestationIssued':
      return {
        envelope,
        registry,
        change: {
          'io.veridis.chain.AttestationIssued': {
            attestationId: decimal(a.attestationId),
            issuer: checksum(a.issuer),
            root: decimal(a.root),
            schemaId: a.schemaId === ZeroHash ? null : (a.schemaId as string),
          },
        },
      }
    case 'AttestationRevoked':
      return {
        envelope,
        registry,
        change: {
          'io.veridis.chain.AttestationRevoked': {
            attestationId: decimal(a.attestationId),
            issuer: checksum(a.issuer),
            reason: a.reason === '' ? null : (a.reason as string),
          },
        },
      }
    case 'AttestationRootUpdated':
      return {
        envelope,
        registry,
        change: {
          'io.veridis.chain.AttestationRootUpdated': {
            issuer: checksum(a.issuer),
            previousRoot: nonZeroDecimal(a.previousRoot),
            root: decimal(a.root),
          },
        },
      }
    default:
      throw new NonRetryableError(`unexpected attestation event ${log.name}`)
  }
}

function nullifierEvent(envelope: ChainEventEnvelope, registry: string, log: DecodedLog): NullifierEvent {
  const a = log.args
  const relayed = log.name === 'NullifierRelayed'
  const withProof = log.name === 'NullifierUsedWithProof'
  return {
    envelope,
    registry,
    scope: decimal(a.scope),
    nullifier: decimal(a.nullifier),
    merkleTreeRoot: withProof ? decimal(a.merkleTreeRoot) : nonZeroDecimal(a.merkleTreeRoot),
    source: relayed ? 'RELAYER' : 'PROOF',
    originChain: relayed ? (a.originChain as string) : null,
    proof: withProof ? unpackSemaphorePoints(a.points as readonly bigint[]) : null,
    // As the chain verified them, not recomputed: the verifier checks they match the fields.
    publicSignals: withProof ? (a.publicSignals as readonly bigint[]).map(decimal) : [],
    message: withProof ? decimal(a.message) : null,
  }
}

/**
 * Semaphore's packed proof (pA, pB with each pair as imaginary, real — the EVM precompile's
 * order — then pC) back into snarkjs form, as the prover writes proofs.
 */
export function unpackSemaphorePoints(points: readonly bigint[]): NonNullable<NullifierEvent['proof']> {
  if (points.length !== 8) throw new NonRetryableError(`a packed proof has 8 points, got ${points.length}`)
  const [ax, ay, bx1, bx0, by1, by0, cx, cy] = points.map(decimal) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  return {
    piA: [ax, ay, '1'],
    piB: [
      [bx0, bx1],
      [by0, by1],
      ['1', '0'],
    ],
    piC: [cx, cy, '1'],
    protocol: 'groth16',
    curve: 'bn128',
  }
}

function bridgeEvent(envelope: ChainEventEnvelope, gateway: string, log: DecodedLog): BridgeEvent {
  const a = log.args
  switch (log.name) {
    case 'BridgeLocked':
      return {
        envelope,
        gateway,
        messageId: a.messageId as string,
        action: {
          'io.veridis.chain.BridgeLocked': {
            mode: enumValue(LOCK_MODES, a.mode, 'lock mode'),
            sender: checksum(a.sender),
            recipient: checksum(a.recipient),
            token: checksum(a.token),
            amount: decimal(a.amount),
            destinationChain: caip2(a.destinationChainId),
            nonce: decimal(a.nonce),
            // Filled by the source from the same transaction's Transfer logs (./bridge-extras.ts).
            transfers: [],
          },
        },
      }
    case 'BridgeReleased':
      return {
        envelope,
        gateway,
        messageId: a.messageId as string,
        action: {
          'io.veridis.chain.BridgeReleased': {
            mode: enumValue(RELEASE_MODES, a.mode, 'release mode'),
            recipient: checksum(a.recipient),
            token: checksum(a.token),
            amount: decimal(a.amount),
            sourceChain: caip2(a.sourceChainId),
            nonce: decimal(a.nonce),
            signers: (a.signers as string[]).map(checksum),
            threshold: Number(a.threshold),
            proofRoot: null,
          },
        },
      }
    case 'GuardianSetChanged':
      return {
        envelope,
        gateway,
        messageId: null,
        action: {
          'io.veridis.chain.GuardianSetChanged': {
            guardians: (a.guardians as string[]).map(checksum),
            threshold: Number(a.threshold),
            setIndex: Number(a.setIndex),
          },
        },
      }
    case 'ThresholdChanged':
      return {
        envelope,
        gateway,
        messageId: null,
        action: {
          'io.veridis.chain.ThresholdChanged': {
            previousThreshold: Number(a.previousThreshold),
            threshold: Number(a.threshold),
          },
        },
      }
    case 'PauseChanged':
      return {
        envelope,
        gateway,
        messageId: null,
        action: { 'io.veridis.chain.PauseChanged': { paused: a.paused as boolean, by: checksum(a.by) } },
      }
    case 'AdminChanged':
      return {
        envelope,
        gateway,
        messageId: null,
        action: {
          'io.veridis.chain.AdminChanged': {
            previousAdmin: checksum(a.previousAdmin),
            admin: checksum(a.admin),
          },
        },
      }
    default:
      throw new NonRetryableError(`unexpected bridge event ${log.name}`)
  }
}
