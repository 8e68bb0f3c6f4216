import { AbiCoder, getAddress } from 'ethers'
import { describe, expect, test } from 'vitest'
import { chainEventId } from '../common/event-id.ts'
import { type ContractRole, loadVeridisAbi, WATCHED_EVENTS } from './normalise/abi.ts'
import { normaliseLog } from './normalise/events.ts'
import { logsSchema, type RpcLog } from './rpc/schemas.ts'

/**
 * Golden fixtures: raw eth_getLogs entries (as a node returns them) → the chain events the
 * listener publishes. And the word-by-word decoder agrees with ethers' own decoding for
 * every watched event.
 */
const abi = loadVeridisAbi()
const coder = AbiCoder.defaultAbiCoder()
const REGISTRY = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512'
const GATEWAY = '0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9'
const roles = new Map<string, ContractRole>([
  [REGISTRY, 'nullifierRegistry'],
  [GATEWAY, 'bridgeGateway'],
])
const word = (value: bigint | string) =>
  `0x${(typeof value === 'bigint' ? value.toString(16) : value.slice(2)).padStart(64, '0')}`
const BLOCK = `0x${'ab'.repeat(32)}`
const TX = `0x${'cd'.repeat(32)}`
const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'

function rawLog(address: string, topics: string[], data: string, logIndex = 3): RpcLog {
  return logsSchema.parse([
    {
      address,
      topics,
      data,
      blockNumber: '0x2a',
      blockHash: BLOCK,
      transactionHash: TX,
      logIndex: `0x${logIndex.toString(16)}`,
      removed: false,
    },
  ])[0]!
}

const context = { chain: 'eip155:31337', abi, roles, observedAt: 1_700_000_000_000 }

describe('normalise', () => {
  test('behavior: a NullifierUsed log becomes a PROOF nullifier event with the envelope', () => {
    const topic0 = abi.interfaces.nullifierRegistry.getEvent('NullifierUsed')!.topicHash
    const log = rawLog(
      REGISTRY,
      [topic0, word(77n), word(2n ** 253n + 5n), word(SENDER)],
      coder.encode(['uint256'], [9n]),
    )
    expect(normaliseLog(context, log, 'PENDING')).toEqual({
      topic: 'nullifier',
      value: {
        envelope: {
          eventId: chainEventId({ chain: 'eip155:31337', blockHash: BLOCK, txHash: TX, logIndex: 3 }),
          chain: 'eip155:31337',
          blockNumber: 42,
          blockHash: BLOCK,
          txHash: TX,
          logIndex: 3,
          emitter: getAddress(REGISTRY),
          finality: 'PENDING',
          observedAt: 1_700_000_000_000,
        },
        registry: getAddress(REGISTRY),
        scope: '77',
        nullifier: (2n ** 253n + 5n).toString(),
        merkleTreeRoot: '9',
        source: 'PROOF',
        originChain: null,
        proof: null,
        publicSignals: [],
        message: null,
      },
    })
  })

  test('behavior: a NullifierUsedWithProof log carries the proof in snarkjs form, its message and signals', () => {
    const topic0 = abi.interfaces.nullifierRegistry.getEvent('NullifierUsedWithProof')!.topicHash
    // Packed the Semaphore way: pA, pB pairs as (imaginary, real), pC.
    const points = [11n, 12n, 22n, 21n, 24n, 23n, 31n, 32n]
    const signals = [9n, 2n ** 253n + 5n, 1234n, 5678n]
    const log = rawLog(
      REGISTRY,
      [topic0, word(77n), word(2n ** 253n + 5n), word(SENDER)],
      coder.encode(
        ['uint256', 'uint256', 'uint256[8]', 'uint256[4]'],
        [9n, 2n ** 255n + 1n, points, signals],
      ),
    )
    const event = normaliseLog(context, log, 'FINALIZED')
    expect(event?.topic).toBe('nullifier')
    expect(event?.value).toEqual({
      envelope: expect.objectContaining({ finality: 'FINALIZED', logIndex: 3 }),
      registry: getAddress(REGISTRY),
      scope: '77',
      nullifier: (2n ** 253n + 5n).toString(),
      merkleTreeRoot: '9',
      source: 'PROOF',
      originChain: null,
      proof: {
        piA: ['11', '12', '1'],
        piB: [
          ['21', '22'],
          ['23', '24'],
          ['1', '0'],
        ],
        piC: ['31', '32', '1'],
        protocol: 'groth16',
        curve: 'bn128',
      },
      publicSignals: signals.map(String),
      message: (2n ** 255n + 1n).toString(),
    })
  })

  test('error: a NullifierUsedWithProof log cut short is refused', () => {
    const topic0 = abi.interfaces.nullifierRegistry.getEvent('NullifierUsedWithProof')!.topicHash
    const data = coder.encode(
      ['uint256', 'uint256', 'uint256[8]', 'uint256[4]'],
      [1n, 2n, Array(8).fill(3n), Array(4).fill(4n)],
    )
    expect(() =>
      normaliseLog(
        context,
        rawLog(REGISTRY, [topic0, word(1n), word(2n), word(SENDER)], data.slice(0, -64)),
        'PENDING',
      ),
    ).toThrow(/malformed NullifierUsedWithProof log: 4 topics, 416 data bytes/)
  })

  test('behavior: a NullifierRelayed log (dynamic string) keeps its origin chain', () => {
    const topic0 = abi.interfaces.nullifierRegistry.getEvent('NullifierRelayed')!.topicHash
    const log = rawLog(
      REGISTRY,
      [topic0, word(1n), word(2n), word(SENDER)],
      coder.encode(['uint256', 'string'], [0n, 'eip155:31338']),
    )
    expect(normaliseLog(context, log, 'FINALIZED')?.value).toMatchObject({
      source: 'RELAYER',
      originChain: 'eip155:31338',
      merkleTreeRoot: null,
    })
  })

  test('behavior: logs of other contracts or other events are not ours', () => {
    const topic0 = abi.interfaces.nullifierRegistry.getEvent('NullifierUsed')!.topicHash
    const data = coder.encode(['uint256'], [9n])
    expect(
      normaliseLog(
        context,
        rawLog(`0x${'11'.repeat(20)}`, [topic0, word(1n), word(2n), word(SENDER)], data),
        'PENDING',
      ),
    ).toBeUndefined()
    const roleGranted = abi.interfaces.nullifierRegistry.getEvent('RoleGranted')!.topicHash
    expect(
      normaliseLog(
        context,
        rawLog(REGISTRY, [roleGranted, word(1n), word(SENDER), word(SENDER)], '0x'),
        'PENDING',
      ),
    ).toBeUndefined()
  })

  test('error: a log whose shape does not fit its event is refused', () => {
    const topic0 = abi.interfaces.nullifierRegistry.getEvent('NullifierUsed')!.topicHash
    expect(() =>
      normaliseLog(context, rawLog(REGISTRY, [topic0, word(1n), word(2n)], '0x'), 'PENDING'),
    ).toThrow(/malformed NullifierUsed log/)
  })

  test('behavior: the fast decoder agrees with ethers for every watched event', () => {
    for (const role of Object.keys(WATCHED_EVENTS) as ContractRole[]) {
      const iface = abi.interfaces[role]
      for (const name of WATCHED_EVENTS[role]) {
        const fragment = iface.getEvent(name)!
        const sample = (type: string, i: number): unknown =>
          /^uint256\[\d+\]$/.test(type)
            ? Array.from({ length: Number(type.slice(8, -1)) }, (_, j) => BigInt(i + j) * 10n ** 70n + 1n)
            : type === 'address'
              ? getAddress(`0x${(i + 1).toString(16).padStart(40, 'a')}`)
              : type === 'bool'
                ? true
                : type === 'string'
                  ? `text-${i}`
                  : type === 'bytes32'
                    ? word(BigInt(i + 7))
                    : type === 'address[]'
                      ? [SENDER, getAddress(`0x${'bb'.repeat(20)}`)]
                      : type === 'uint8'
                        ? 1n
                        : BigInt(i) * 10n ** 70n + 3n
        const values = fragment.inputs.map((input, i) => sample(input.type, i))
        const encoded = iface.encodeEventLog(fragment, values)
        const decoded = abi.parse(role, {
          topics: encoded.topics.map((t) => t.toLowerCase()),
          data: encoded.data,
        })
        expect(decoded?.name).toBe(name)
        const ethers = iface.decodeEventLog(fragment, encoded.data, encoded.topics)
        fragment.inputs.forEach((input, i) => {
          const mine = decoded!.args[input.name]
          const theirs = ethers[i]
          const normal = (value: unknown): unknown =>
            typeof value === 'string'
              ? value.toLowerCase()
              : Array.isArray(value)
                ? [...value].map(normal)
                : value
          expect(normal(mine), `${name}.${input.name}`).toEqual(normal(theirs))
        })
      }
    }
  })
})
