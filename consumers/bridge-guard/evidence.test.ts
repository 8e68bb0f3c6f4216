import { describe, expect, test } from 'vitest'
import { indexGateways, parseGuardConfig } from '../../core/bridge/config.ts'
import { type ChainReader, GATEWAY } from '../../producers/chains/evm/bridge/chain-reader.ts'
import { messageIdOf } from '../../producers/chains/evm/bridge/release-signatures.ts'
import {
  A,
  B,
  GATEWAY_A,
  GATEWAY_B,
  guardians,
  RECIPIENT,
  releaseFact,
  TOKEN_A,
  TOKEN_B,
} from '../../test/bridge/guard-facts.ts'
import { signedDigestOf } from './detections/signatures.ts'
import { gatherEvidence } from './evidence.ts'

/**
 * What the evidence stage asks the chains for a chunk, and what it hands the judgement: once
 * per event, however many copies of it the chunk holds. The reader below answers from memory
 * and counts the questions; the real nodes answer the same questions in test/bridge (guard,
 * benign replay and re-enactments).
 */
const config = parseGuardConfig(
  {
    chains: {
      [A]: { rpcUrls: ['http://a1', 'http://a2'] },
      [B]: { rpcUrls: ['http://b1', 'http://b2'] },
    },
    bridges: [
      {
        id: 'evidence-test',
        gateways: { [A]: GATEWAY_A, [B]: GATEWAY_B },
        minThreshold: 2,
        tokens: [{ symbol: 'T', addresses: { [A]: TOKEN_A, [B]: TOKEN_B } }],
      },
    ],
  },
  'evidence test',
)

type ReleaseFact = ReturnType<typeof releaseFact>

const release = (nonce: bigint, finality: 'PENDING' | 'FINALIZED') =>
  releaseFact({ nonce: nonce.toString() }, messageIdOf(31337n, GATEWAY_A, nonce), {
    eventId: `release-${nonce}`,
    txHash: `0x${nonce.toString(16).padStart(64, '0')}`,
    finality,
  })

/** release() as the relayer sends it, signed by the first two guardians. */
function calldataOf(fact: ReleaseFact, nonce: bigint): string {
  const digest = signedDigestOf(fact)
  const signatures = guardians.slice(0, 2).map((guardian) => guardian.signingKey.sign(digest).serialized)
  return GATEWAY.encodeFunctionData('release', [
    0,
    TOKEN_B,
    RECIPIENT,
    1000n,
    31337n,
    GATEWAY_A,
    nonce,
    signatures,
  ])
}

/** A reader answering from memory, counting what it is asked. */
function countingReader(chain: string, calldata: ReadonlyMap<string, string>) {
  const asked = { transactions: [] as string[], sourceLockIds: [] as string[][], quorums: 0 }
  const reader: ChainReader = {
    chain,
    minConfirmations: 2,
    endpointCount: 2,
    sourceLocks: async (_gateway, _from, ids) => {
      asked.sourceLockIds.push([...ids])
      return ['e1', 'e2'].map((endpoint) => ({ endpoint, ok: true as const, locks: new Map() }))
    },
    quorumAt: async () => {
      asked.quorums++
      return { guardians: guardians.map((guardian) => guardian.address), threshold: 2 }
    },
    transaction: async (hash) => {
      asked.transactions.push(hash)
      const input = calldata.get(hash)
      return input ? { hash, from: null, to: GATEWAY_B, input, blockNumber: 100 } : null
    },
    receipt: async () => null,
    blockTimestamp: async () => undefined,
    call: async () => '0x',
    blockNumber: async () => 100,
  }
  return { reader, asked }
}

describe('evidence for a chunk', () => {
  test("behavior: with PENDING and FINALIZED copies in the chunk, the chains are asked once per transaction, block and message id, and each release's signers are recovered over its digest", async () => {
    const pending = [release(7n, 'PENDING'), release(8n, 'PENDING')]
    const finalized = [release(7n, 'FINALIZED'), release(8n, 'FINALIZED')]
    const calldata = new Map(
      pending.map((fact, i) => [fact.envelope.txHash, calldataOf(fact, [7n, 8n][i]!)] as const),
    )
    const home = countingReader(A, new Map())
    const remote = countingReader(B, calldata)
    const readers = new Map([
      [A, home.reader],
      [B, remote.reader],
    ])

    const evidence = await gatherEvidence([...pending, ...finalized], indexGateways(config), readers)

    expect(remote.asked.transactions.sort()).toEqual([...calldata.keys()].sort())
    expect(home.asked.sourceLockIds).toEqual([pending.map((fact) => fact.messageId)])
    expect(remote.asked.quorums).toBe(1)
    expect([...evidence.releases.keys()].sort()).toEqual(['release-7', 'release-8'])
    const signers = guardians.slice(0, 2).map((guardian) => ({ signer: guardian.address }))
    for (const fact of pending) {
      const seen = evidence.releases.get(fact.envelope.eventId)
      expect(seen?.recovered).toEqual({ signed: signedDigestOf(fact), outcomes: signers })
      expect(seen?.answers?.map((answer) => answer.ok)).toEqual([true, true])
    }
  })
})
