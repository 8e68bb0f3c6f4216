import { dataSlice } from 'ethers'
import { type GatewayIndex, kindOf } from '../../core/bridge/config.ts'
import { sleep } from '../../core/bus/retry.ts'
import { RetryableError } from '../../core/errors.ts'
import { readReleaseCall } from '../../producers/chains/evm/bridge/canonical-abi.ts'
import {
  type ChainReader,
  type EndpointAnswer,
  GATEWAY,
} from '../../producers/chains/evm/bridge/chain-reader.ts'
import { type Recovered, recoverSignersOfMany } from '../../producers/chains/evm/bridge/release-signatures.ts'
import { describeRpcError } from '../../producers/chains/evm/rpc/client.ts'
import { gatherVaultBalances } from './detections/flow-limits.ts'
import type { ChangeTransaction } from './detections/governance.ts'
import { type ReleaseCall, signedDigestOf } from './detections/signatures.ts'
import type { BridgeFact } from './facts.ts'

/**
 * What the chains say about a chunk's events, asked before the chunk's transaction opens (a
 * database transaction never waits on a node): for each release, every endpoint's answer about
 * its source lock, its own calldata and the quorum in force at its block; for each
 * configuration change, its transaction and receipt. Questions are deduplicated and batched
 * per chain, so a chunk of a thousand releases costs a handful of requests per endpoint.
 *
 * An endpoint that does not answer is recorded as such (source confirmation decides what that
 * means); a chain with no endpoint answering a state read fails the chunk with a retryable
 * error, so it is retried rather than judged on nothing.
 */
export type ReleaseEvidence = {
  readonly answers: readonly EndpointAnswer[] | undefined
  readonly minConfirmations: number
  /** The decoded release() call, or why it could not be read. */
  readonly call: ReleaseCall | { readonly unreadable: string } | undefined
  readonly quorum: { readonly guardians: string[]; readonly threshold: number } | undefined
  /** The call's signatures recovered over the release's digest, in order (judged in judge.ts). */
  readonly recovered?: { readonly signed: string; readonly outcomes: readonly Recovered[] }
}

export interface ChunkEvidence {
  readonly releases: Map<string, ReleaseEvidence>
  readonly changes: Map<string, ChangeTransaction>
  /** Each UNLOCK release's gateway balance of its token before its block (the drain check). */
  readonly vaultBalances: Map<string, bigint>
}

const ID_BATCH = 200
/** Pauses before asking endpoints that did not answer again: a busy node is not a lying one. */
const UNANSWERED_RETRY_MS = [250, 1_000, 3_000]

/**
 * Every endpoint's answer, asking again (a few times, backing off) those that did not answer:
 * a non-answer is recorded only when an endpoint stays silent, so a slow or briefly busy node
 * does not become a source-confirmation finding on benign traffic.
 */
async function askEveryEndpoint(ask: () => Promise<EndpointAnswer[]>): Promise<EndpointAnswer[]> {
  let answers = await ask()
  for (const pause of UNANSWERED_RETRY_MS) {
    if (answers.every((answer) => answer.ok)) break
    await sleep(pause)
    const again = await ask()
    answers = answers.map((answer, endpoint) => (answer.ok ? answer : again[endpoint]!))
  }
  return answers
}

/**
 * A release's own transaction, asked again (the same pauses) while the node says it does not
 * know it: the event came from a block the listener saw, and a node in the middle of a reorg
 * forgets the transaction until it is mined again. Only a transaction still unknown after
 * the pauses makes the release unreadable.
 */
async function knownTransaction<T>(ask: () => Promise<T | null>): Promise<T | null> {
  let transaction = await ask()
  for (const pause of UNANSWERED_RETRY_MS) {
    if (transaction !== null) break
    await sleep(pause)
    transaction = await ask()
  }
  return transaction
}

async function mustAnswer<T>(chain: string, what: string, ask: () => Promise<T>): Promise<T> {
  try {
    return await ask()
  } catch (error) {
    throw new RetryableError(
      `${chain}: could not read ${what} from any endpoint: ${describeRpcError(error)}`,
      {
        cause: error,
      },
    )
  }
}

const RELEASE = GATEWAY.getFunction('release')!
const RELEASE_SELECTOR = RELEASE.selector

function decodeRelease(
  tx: { to: string | null; input: string } | null,
  gateway: string,
): ReleaseCall | { unreadable: string } {
  if (!tx) return { unreadable: 'the release transaction is unknown to the endpoint' }
  if (tx.to?.toLowerCase() !== gateway.toLowerCase()) {
    return {
      unreadable: `the release was not a direct call to the gateway (sent to ${tx.to ?? 'a contract creation'})`,
    }
  }
  try {
    if (tx.input.slice(0, 10).toLowerCase() !== RELEASE_SELECTOR) {
      const called = GATEWAY.parseTransaction({ data: tx.input })?.name ?? 'unknown calldata'
      return { unreadable: `the gateway was called with ${called}, not release()` }
    }
    // Word by word when the calldata is in canonical form (canonical-abi.ts); otherwise what
    // parseTransaction would decode, without it hashing every function's signature to find the
    // one the selector names (docs/benchmarks.md, "Bridge guard").
    const canonical = readReleaseCall(tx.input)
    if (canonical) return canonical
    const args = GATEWAY.getAbiCoder().decode(RELEASE.inputs, dataSlice(tx.input, 4))
    return {
      sourceChainId: args[4] as bigint,
      sourceGateway: args[5] as string,
      nonce: args[6] as bigint,
      signatures: [...(args[7] as string[])],
    }
  } catch (error) {
    return { unreadable: `release calldata does not decode (${(error as Error).message.split(' (')[0]})` }
  }
}

export async function gatherEvidence(
  facts: readonly BridgeFact[],
  index: GatewayIndex,
  readers: ReadonlyMap<string, ChainReader>,
): Promise<ChunkEvidence> {
  // One question per event: a chunk that holds an event's PENDING and FINALIZED copies (a
  // replay, a guard catching up) needs its evidence once; both copies are judged on it.
  const releases = [
    ...new Map(
      facts
        .filter((fact): fact is Extract<BridgeFact, { type: 'release' }> => fact.type === 'release')
        .map((fact) => [fact.envelope.eventId, fact]),
    ).values(),
  ]
  const changes = facts.filter(
    (fact): fact is Extract<BridgeFact, { type: 'configChange' }> => fact.type === 'configChange',
  )

  // Source locks: one getLogs per source gateway and endpoint for up to ID_BATCH message ids.
  const bySource = new Map<string, { reader: ChainReader; gateway: string; from: number; ids: Set<string> }>()
  for (const fact of releases) {
    const bridge = index.bridgeOf(fact.envelope.chain, fact.gateway)
    const sourceChain = fact.release.sourceChain
    const gateway = bridge?.gateways[sourceChain]
    const reader = readers.get(sourceChain)
    if (!bridge || !gateway || !reader) continue
    const key = `${sourceChain}:${gateway}`
    const entry = bySource.get(key) ?? {
      reader,
      gateway,
      from: bridge.startBlocks[sourceChain] ?? 0,
      ids: new Set(),
    }
    entry.ids.add(fact.messageId)
    bySource.set(key, entry)
  }
  // Asked now and awaited below, with everything else: the chunk waits for its slowest question,
  // not for the source locks first and the calldata, quorums and balances after them.
  const answersBySource = new Map<string, EndpointAnswer[]>()
  const sourcesAnswered = Promise.all(
    [...bySource].map(async ([key, { reader, gateway, from, ids }]) => {
      const all = [...ids]
      let merged: EndpointAnswer[] | undefined
      for (let i = 0; i < all.length; i += ID_BATCH) {
        const answers = await askEveryEndpoint(() =>
          reader.sourceLocks(gateway, from, all.slice(i, i + ID_BATCH)),
        )
        // An endpoint that failed any slice did not answer the question.
        merged = merged
          ? merged.map((previous, endpoint) => {
              const answer = answers[endpoint]!
              if (!previous.ok) return previous
              if (!answer.ok) return answer
              return { ...previous, locks: new Map([...previous.locks, ...answer.locks]) }
            })
          : answers
      }
      answersBySource.set(key, merged ?? [])
    }),
  )

  // Calldata and quorum, for guardian-signed releases only; one request per transaction / block.
  const transactions = new Map<string, Promise<{ to: string | null; input: string } | null>>()
  const quorums = new Map<string, Promise<{ guardians: string[]; threshold: number }>>()
  for (const fact of releases) {
    const bridge = index.bridgeOf(fact.envelope.chain, fact.gateway)
    const reader = readers.get(fact.envelope.chain)
    if (!bridge || kindOf(bridge, fact.envelope.chain) !== 'guardian-quorum' || !reader) continue
    const { chain, txHash, blockNumber } = fact.envelope
    if (!transactions.has(`${chain}:${txHash}`)) {
      transactions.set(
        `${chain}:${txHash}`,
        mustAnswer(chain, `transaction ${txHash}`, () => knownTransaction(() => reader.transaction(txHash))),
      )
    }
    const quorumKey = `${chain}:${fact.gateway}:${blockNumber}`
    if (!quorums.has(quorumKey)) {
      quorums.set(
        quorumKey,
        mustAnswer(chain, `the quorum of ${fact.gateway} at block ${blockNumber}`, () =>
          reader.quorumAt(fact.gateway, blockNumber),
        ),
      )
    }
  }
  const changeTransactions = new Map<string, Promise<ChangeTransaction>>()
  for (const fact of changes) {
    const reader = readers.get(fact.envelope.chain)
    const { chain, txHash } = fact.envelope
    if (!reader || changeTransactions.has(`${chain}:${txHash}`)) continue
    changeTransactions.set(
      `${chain}:${txHash}`,
      mustAnswer(chain, `transaction ${txHash}`, async () => {
        const [tx, receipt] = await Promise.all([reader.transaction(txHash), reader.receipt(txHash)])
        return {
          from: tx?.from ?? null,
          to: tx?.to ?? null,
          logEmitters: receipt?.logs.map((log) => log.address) ?? [],
        }
      }),
    )
  }

  // Each release's calldata as it arrives, and then its signatures recovered over its digest,
  // all in one batch: off the event loop with the native addon, while the other answers come.
  const calls = new Map<string, ReleaseCall | { unreadable: string }>()
  const recovered = new Map<string, { signed: string; outcomes: Recovered[] }>()
  const signaturesRecovered = (async () => {
    const toRecover: {
      readonly eventId: string
      readonly signed: string
      readonly signatures: readonly string[]
    }[] = []
    for (const fact of releases) {
      const tx = transactions.get(`${fact.envelope.chain}:${fact.envelope.txHash}`)
      if (!tx) continue
      const call = decodeRelease(await tx, fact.gateway)
      calls.set(fact.envelope.eventId, call)
      if ('unreadable' in call) continue
      let digest: string
      try {
        digest = signedDigestOf(fact)
      } catch {
        continue // fields ethers will not encode: the judgement meets them as it always has
      }
      toRecover.push({ eventId: fact.envelope.eventId, signed: digest, signatures: call.signatures })
    }
    const outcomes = await recoverSignersOfMany(toRecover)
    toRecover.forEach(({ eventId, signed }, i) => {
      recovered.set(eventId, { signed, outcomes: outcomes[i]! })
    })
  })()

  // Everything is asked at once and awaited in turn below: when one answer fails the chunk,
  // the others' failures must not surface later as unhandled rejections (they end the process).
  const vaultBalances = gatherVaultBalances(releases, index, readers)
  for (const asked of [
    signaturesRecovered,
    sourcesAnswered,
    vaultBalances,
    ...transactions.values(),
    ...quorums.values(),
    ...changeTransactions.values(),
  ]) {
    asked.catch(() => undefined)
  }
  await sourcesAnswered
  await signaturesRecovered
  const evidence: ChunkEvidence = {
    releases: new Map(),
    changes: new Map(),
    vaultBalances: await vaultBalances,
  }
  for (const fact of releases) {
    const bridge = index.bridgeOf(fact.envelope.chain, fact.gateway)
    const sourceChain = fact.release.sourceChain
    const sourceKey = `${sourceChain}:${bridge?.gateways[sourceChain]}`
    const { chain, blockNumber } = fact.envelope
    const quorum = quorums.get(`${chain}:${fact.gateway}:${blockNumber}`)
    evidence.releases.set(fact.envelope.eventId, {
      answers: answersBySource.get(sourceKey),
      minConfirmations: readers.get(sourceChain)?.minConfirmations ?? 1,
      call: calls.get(fact.envelope.eventId),
      quorum: quorum ? await quorum : undefined,
      recovered: recovered.get(fact.envelope.eventId),
    })
  }
  for (const fact of changes) {
    const tx = changeTransactions.get(`${fact.envelope.chain}:${fact.envelope.txHash}`)
    if (tx) evidence.changes.set(fact.envelope.eventId, await tx)
  }
  return evidence
}
