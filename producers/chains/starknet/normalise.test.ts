import { byteArray, CallData, cairo, hash } from 'starknet'
import { describe, expect, test } from 'vitest'
import { chainEventId } from '../common/event-id.ts'
import { normaliseStarknetEvent } from './normalise/events.ts'
import { type EmittedEvent, emittedEventSchema } from './rpc/schemas.ts'

/**
 * Raw StarkNet events (as starknet_getEvents returns them) → chain events: u256 halves joined,
 * ByteArrays decoded, addresses padded, the envelope named after block, tx and event index.
 * The felts are built with starknet.js's own Cairo serialisation, so the decoder is checked
 * against an independent encoder.
 */
const CHAIN = 'starknet:SN_TEST'
const NULLIFIERS = '0x5a1'
const ATTESTATIONS = '0x7e57'
const context = {
  chain: CHAIN,
  roles: new Map([
    [NULLIFIERS, 'nullifierRegistry' as const],
    [ATTESTATIONS, 'attestationRegistry' as const],
  ]),
  observedAt: 1_700_000_000_000,
}
// The BN254 scalar field's largest element: over 2^251, so no felt252 could hold it.
const BN254_MAX = 21888242871839275222246405745257275088548364400416903003010253917330944875002n
const felts = (values: unknown) =>
  (CallData.compile(values as never) as string[]).map((v) => `0x${BigInt(v).toString(16)}`)
const selector = (name: string) => `0x${BigInt(hash.getSelectorFromName(name)).toString(16)}`

function emitted(
  fields: Partial<EmittedEvent> & Pick<EmittedEvent, 'from_address' | 'keys' | 'data'>,
): EmittedEvent {
  return emittedEventSchema.parse({
    block_hash: '0x00abc',
    block_number: 7,
    transaction_hash: '0x0def',
    transaction_index: 2,
    event_index: 1,
    ...fields,
  })
}

describe('StarkNet event normalisation', () => {
  test('behavior: a relayed nullifier over 2^251 keeps every bit, origin chain decoded from a long ByteArray', () => {
    const origin = 'eip155:31337/a-chain-id-longer-than-one-31-byte-word'
    const event = emitted({
      from_address: NULLIFIERS,
      keys: [
        selector('NullifierRelayed'),
        ...felts([cairo.uint256(BN254_MAX), cairo.uint256(BN254_MAX - 1n)]),
        '0x8',
      ],
      data: felts([cairo.uint256(2n ** 200n + 5n), byteArray.byteArrayFromString(origin)]),
    })
    const normalised = normaliseStarknetEvent(context, event, 'PENDING')
    expect(normalised?.topic).toBe('nullifier')
    expect(normalised?.value).toEqual({
      envelope: {
        eventId: chainEventId({ chain: CHAIN, blockHash: '0xabc', txHash: '0xdef', logIndex: 1 }),
        chain: CHAIN,
        blockNumber: 7,
        blockHash: '0xabc',
        txHash: '0xdef',
        logIndex: 1,
        emitter: `0x${'5a1'.padStart(64, '0')}`,
        finality: 'PENDING',
        observedAt: context.observedAt,
      },
      registry: `0x${'5a1'.padStart(64, '0')}`,
      scope: BN254_MAX.toString(),
      nullifier: (BN254_MAX - 1n).toString(),
      merkleTreeRoot: (2n ** 200n + 5n).toString(),
      source: 'RELAYER',
      originChain: origin,
      proof: null,
      publicSignals: [],
      message: null,
    })
  })

  test('behavior: attestation issue, revocation and root update decode with their fields', () => {
    const issued = normaliseStarknetEvent(
      context,
      emitted({
        from_address: ATTESTATIONS,
        keys: [selector('AttestationIssued'), ...felts([cairo.uint256(11n)]), '0x1234'],
        data: felts([cairo.uint256(BN254_MAX), '0x6b79632d6261736963']),
      }),
      'FINALIZED',
    )
    expect(issued?.value).toMatchObject({
      change: {
        'io.veridis.chain.AttestationIssued': {
          attestationId: '11',
          issuer: `0x${'1234'.padStart(64, '0')}`,
          root: BN254_MAX.toString(),
          schemaId: `0x${'6b79632d6261736963'.padStart(64, '0')}`,
        },
      },
    })
    const revoked = normaliseStarknetEvent(
      context,
      emitted({
        from_address: ATTESTATIONS,
        keys: [selector('AttestationRevoked'), ...felts([cairo.uint256(11n)]), '0x1234'],
        data: felts([byteArray.byteArrayFromString('expired')]),
      }),
      'PENDING',
    )
    expect(revoked?.value).toMatchObject({
      change: { 'io.veridis.chain.AttestationRevoked': { attestationId: '11', reason: 'expired' } },
    })
    const rooted = normaliseStarknetEvent(
      context,
      emitted({
        from_address: ATTESTATIONS,
        keys: [selector('AttestationRootUpdated'), '0x1234'],
        data: felts([cairo.uint256(0n), cairo.uint256(33n)]),
      }),
      'PENDING',
    )
    expect(rooted?.value).toMatchObject({
      change: { 'io.veridis.chain.AttestationRootUpdated': { previousRoot: null, root: '33' } },
    })
  })

  test('behavior: events of other contracts or other selectors are not ours', () => {
    const foreign = emitted({ from_address: '0x999', keys: [selector('NullifierUsed')], data: [] })
    expect(normaliseStarknetEvent(context, foreign, 'PENDING')).toBeUndefined()
    const roleChanged = emitted({
      from_address: NULLIFIERS,
      keys: [selector('RoleGranted'), '0x1', '0x2', '0x3'],
      data: [],
    })
    expect(normaliseStarknetEvent(context, roleChanged, 'PENDING')).toBeUndefined()
  })

  test('error: a truncated payload or a u256 half over 128 bits is refused, not published', () => {
    const short = emitted({
      from_address: NULLIFIERS,
      keys: [selector('NullifierUsed'), '0x1', '0x0', '0x2'],
      data: ['0x3', '0x0'],
    })
    expect(() => normaliseStarknetEvent(context, short, 'PENDING')).toThrow(/fewer felts/)
    const wide = emitted({
      from_address: NULLIFIERS,
      keys: [selector('NullifierUsed'), `0x${(2n ** 128n).toString(16)}`, '0x0', '0x2', '0x0', '0x8'],
      data: ['0x3', '0x0'],
    })
    expect(() => normaliseStarknetEvent(context, wide, 'PENDING')).toThrow(/over 128 bits/)
  })
})
