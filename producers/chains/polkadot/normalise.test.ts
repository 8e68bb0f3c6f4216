import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { beforeAll, describe, expect, test } from 'vitest'
import { normalisePolkadotBlock } from './normalise/records.ts'
import {
  accountHex,
  decodeRemark,
  encodeRemark,
  registryAccount,
  remarkHash,
  useKey,
  type VeridisRecord,
} from './normalise/remark.ts'
import type { EventRecord, PolkadotExtrinsic } from './rpc/schemas.ts'

let relayer: string
let attester: string
let stranger: string
let registry: string
const chain = 'polkadot:45454545454545454545454545454545'
const block = { number: 7, hash: `0x${'ab'.repeat(32)}` }

beforeAll(async () => {
  await cryptoWaitReady()
  const keyring = new Keyring({ type: 'sr25519' })
  relayer = keyring.addFromUri('//VeridisRelayer').address
  attester = keyring.addFromUri('//VeridisAttester').address
  stranger = keyring.addFromUri('//Stranger').address
  registry = registryAccount([relayer, attester])
})

/** One extrinsic with the record's remark (and its use key when `withKey`), as the chain would emit it. */
function fixture(record: VeridisRecord, options: { sender?: string; withKey?: boolean; hash?: string } = {}) {
  const sender = options.sender ?? attester
  const remark = encodeRemark(record)
  const key = 'scope' in record ? useKey(record.scope, record.nullifier) : undefined
  const events: EventRecord[] = [
    { index: 0, extrinsic: 0, section: 'system', method: 'ExtrinsicSuccess', data: [{}] },
  ]
  if (key && options.withKey !== false) {
    events.push({
      index: 1,
      extrinsic: 1,
      section: 'multisig',
      method: 'NewMultisig',
      data: [sender, registry, key],
    })
  }
  events.push({
    index: events.length,
    extrinsic: 1,
    section: 'system',
    method: 'Remarked',
    data: [sender, options.hash ?? remarkHash(remark)],
  })
  const extrinsics: PolkadotExtrinsic[] = [
    {
      index: 0,
      hash: `0x${'00'.repeat(32)}`,
      signer: null,
      calls: [{ section: 'timestamp', method: 'set', args: {} }],
    },
    {
      index: 1,
      hash: `0x${'11'.repeat(32)}`,
      signer: sender,
      calls: [
        ...(key ? [{ section: 'multisig', method: 'approveAsMulti', args: {} }] : []),
        { section: 'system', method: 'remarkWithEvent', args: { remark } },
      ],
    },
  ]
  const skipped: string[] = []
  const context = {
    chain,
    writers: new Set([relayer, attester].map(accountHex)),
    registry,
    observedAt: 1,
    onSkipped: (reason: string) => skipped.push(reason),
  }
  return { events: normalisePolkadotBlock(context, block, events, extrinsics, 'PENDING'), skipped }
}

describe('Polkadot records', () => {
  test('behavior: a record round-trips through remark bytes; foreign or malformed remarks are not records', () => {
    const record: VeridisRecord = {
      t: 'NullifierRelayed',
      scope: '1',
      nullifier: '2',
      root: null,
      origin: 'eip155:1',
    }
    expect(decodeRemark(encodeRemark(record))).toEqual(record)
    expect(decodeRemark(`0x${Buffer.from('hello').toString('hex')}`)).toBeUndefined()
    expect(
      decodeRemark(`0x${Buffer.from('veridis:1:{"t":"NullifierUsed","scope":"x"}').toString('hex')}`),
    ).toBeUndefined()
    expect(() => encodeRemark({ t: 'NullifierUsed', scope: '01', nullifier: '2', root: null })).toThrow()
  })

  test('behavior: the use key is a 256-bit hash of scope and nullifier, distinct for neighbours', () => {
    const max = (2n ** 256n - 1n).toString()
    expect(useKey('1', '2')).toMatch(/^0x[0-9a-f]{64}$/)
    expect(useKey('1', '2')).toBe(useKey('1', '2'))
    expect(new Set([useKey('1', '2'), useKey('2', '1'), useKey('1', '3'), useKey(max, max)]).size).toBe(4)
  })

  test('behavior: a use with its key becomes a nullifier event with the envelope of its Remarked event', () => {
    const { events, skipped } = fixture({ t: 'NullifierUsed', scope: '5', nullifier: '6', root: '7' })
    expect(skipped).toEqual([])
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      topic: 'nullifier',
      value: {
        envelope: {
          chain,
          blockNumber: 7,
          blockHash: block.hash,
          txHash: `0x${'11'.repeat(32)}`,
          logIndex: 2,
          emitter: registry,
        },
        registry,
        scope: '5',
        nullifier: '6',
        merkleTreeRoot: '7',
        source: 'PROOF',
        originChain: null,
      },
    })
  })

  test('behavior: an attestation names its signer as issuer', () => {
    const { events } = fixture({ t: 'AttestationIssued', id: '9', root: '10', schemaId: null })
    expect(events[0]).toMatchObject({
      topic: 'attestation',
      value: {
        change: {
          'io.veridis.chain.AttestationIssued': { attestationId: '9', issuer: accountHex(attester) },
        },
      },
    })
  })

  test('error: a use without its on-chain key, a stranger’s remark and a hash mismatch publish nothing', () => {
    const withoutKey = fixture(
      { t: 'NullifierUsed', scope: '5', nullifier: '6', root: null },
      { withKey: false },
    )
    expect(withoutKey.events).toEqual([])
    expect(withoutKey.skipped).toHaveLength(1)
    expect(
      fixture({ t: 'NullifierUsed', scope: '5', nullifier: '6', root: null }, { sender: stranger }).events,
    ).toEqual([])
    expect(
      fixture(
        { t: 'AttestationRootUpdated', previousRoot: null, root: '1' },
        { hash: `0x${'22'.repeat(32)}` },
      ).events,
    ).toEqual([])
  })
})
