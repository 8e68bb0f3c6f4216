import { type BridgeConfig, type GatewayIndex, kindOf } from '../../core/bridge/config.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import type { PoolClient } from '../../core/db/pool.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './detections/finding.ts'
import { recordFlows, unrecordFlow } from './detections/flow-limits.ts'
import { checkGovernance } from './detections/governance.ts'
import { recordGuardianActivities } from './detections/liveness.ts'
import { checkLockValue } from './detections/lock-without-value.ts'
import { checkConcentration, checkThreshold } from './detections/quorum-health.ts'
import { releaseOrphaned, releaseWithoutSource } from './detections/release-without-source.ts'
import { checkProof, checkReplay, type PriorRelease } from './detections/replay.ts'
import { checkSignatures } from './detections/signatures.ts'
import { confirmSource } from './detections/source-confirmation.ts'
import type { ChunkEvidence } from './evidence.ts'
import type { BridgeFact } from './facts.ts'

/**
 * A chunk's bridge events, judged: the detections that apply to each run over the event, what
 * the chains said about it (./evidence.ts) and the guard's read model, and the read model takes
 * the events in. Runs inside the chunk's exactly-once transaction.
 *
 * Each event is judged as if the events before it in the chunk had been taken in one by one
 * and none after it (a lock and its release in one chunk; two releases of one message in one
 * chunk are a replay), but the read model is read once for the chunk (prior releases and locks
 * of its message ids, the flow buckets its windows cover), the events are judged in memory in
 * order, and the chunk's rows are written in one statement per table.
 */
type Fact<T extends BridgeFact['type']> = Extract<BridgeFact, { type: T }>
type Prior = PriorRelease & { readonly observedAt: number }

const at = (fact: BridgeFact) => fact.envelope.observedAt
const byObservation = (a: Prior, b: Prior) =>
  a.observedAt - b.observedAt || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0)

/**
 * Judges `facts` (each event once: the caller passes the first copy of each event it has not
 * judged before), in order; returns each one's findings, in the same order.
 */
export async function judgeFacts(
  client: PoolClient,
  facts: readonly BridgeFact[],
  index: GatewayIndex,
  evidence: ChunkEvidence,
): Promise<Finding[][]> {
  const bridges = facts.map((fact) => index.bridgeOf(fact.envelope.chain, fact.gateway))
  const releaseIds = [
    ...new Set(facts.flatMap((fact, i) => (fact.type === 'release' && bridges[i] ? [fact.messageId] : []))),
  ]
  // What the read model holds about the chunk's released messages, before the chunk.
  const prior = new Map<string, Prior[]>()
  const lockedAt = new Map<string, number>()
  if (releaseIds.length > 0) {
    const { rows: releases } = await client.query<Prior & { messageId: string }>(
      `SELECT event_id AS "eventId", message_id AS "messageId", chain, tx_hash AS "txHash",
         block_number::int AS "blockNumber", (extract(epoch FROM observed_at) * 1000)::float8 AS "observedAt"
       FROM bridge_releases WHERE message_id = ANY($1) ORDER BY observed_at, event_id`,
      [releaseIds],
    )
    for (const { messageId, ...release } of releases) {
      const list = prior.get(messageId) ?? []
      list.push(release)
      prior.set(messageId, list)
    }
    const { rows: locks } = await client.query<{ messageId: string; locked: number }>(
      `SELECT message_id AS "messageId", (extract(epoch FROM min(observed_at)) * 1000)::float8 AS locked
       FROM bridge_locks WHERE message_id = ANY($1) GROUP BY message_id`,
      [releaseIds],
    )
    for (const { messageId, locked } of locks) lockedAt.set(messageId, locked)
  }

  const lockRows: ReturnType<typeof lockRow>[] = []
  const releaseRows: ReturnType<typeof releaseRow>[] = []
  const flows: { at: number; bridge: BridgeConfig; fact: Fact<'lock' | 'release'>; vaultBalance?: bigint }[] =
    []
  const guardians: Parameters<typeof recordGuardianActivities>[1][number][] = []
  const findings = facts.map((fact, i): Finding[] => {
    const bridge = bridges[i]
    if (!bridge) return [unknownGateway(fact)]
    switch (fact.type) {
      case 'lock': {
        lockRows.push(lockRow(bridge, fact))
        const earliest = lockedAt.get(fact.messageId)
        if (earliest === undefined || at(fact) < earliest) lockedAt.set(fact.messageId, at(fact))
        flows.push({ at: i, bridge, fact })
        return checkLockValue({ bridge, fact })
      }
      case 'release': {
        const list = prior.get(fact.messageId) ?? []
        const { findings, backed } = judgeRelease(bridge, fact, evidence, list)
        list.push({
          eventId: fact.envelope.eventId,
          chain: fact.envelope.chain,
          txHash: fact.envelope.txHash,
          blockNumber: fact.envelope.blockNumber,
          observedAt: at(fact),
        })
        list.sort(byObservation)
        prior.set(fact.messageId, list)
        releaseRows.push(releaseRow(bridge, fact, backed))
        flows.push({ at: i, bridge, fact, vaultBalance: evidence.vaultBalances.get(fact.envelope.eventId) })
        guardians.push({
          bridge,
          fact,
          guardians: evidence.releases.get(fact.envelope.eventId)?.quorum?.guardians,
          lockedAt: lockedAt.get(fact.messageId),
        })
        return findings
      }
      case 'configChange':
        return judgeChange(bridge, fact, evidence)
      case 'uninterpretable':
        return [uninterpretable(bridge, fact, fact.reason)]
      default:
        return []
    }
  })

  if (lockRows.length > 0) {
    await client.query(
      `INSERT INTO bridge_locks (event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
         token, amount, recipient, destination_chain, observed_at)
       SELECT event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
         token, amount, recipient, destination_chain, to_timestamp(observed / 1000.0)
       FROM ${LOCK_ROWS.from('$1')} AS r
       ON CONFLICT (event_id) DO UPDATE SET finality = EXCLUDED.finality`,
      [LOCK_ROWS.param(lockRows)],
    )
  }
  if (releaseRows.length > 0) {
    await client.query(
      `INSERT INTO bridge_releases (event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
         token, amount, recipient, source_chain, signers, threshold, backed, observed_at)
       SELECT event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
         token, amount, recipient, source_chain, signers, threshold, backed, to_timestamp(observed / 1000.0)
       FROM ${RELEASE_ROWS.from('$1')} AS r
       ON CONFLICT (event_id) DO UPDATE SET finality = EXCLUDED.finality`,
      [RELEASE_ROWS.param(releaseRows)],
    )
  }
  if (flows.length > 0) {
    const flowFindings = await recordFlows(
      client,
      flows.map(({ bridge, fact, vaultBalance }) => ({ bridge, fact, vaultBalance })),
    )
    for (const [i, flow] of flows.entries()) findings[flow.at]!.push(...flowFindings[i]!)
  }
  await recordGuardianActivities(client, guardians)
  return findings
}

/** What lock and release rows share, in this order: the rows are positional. */
const MESSAGE_COLUMNS = {
  event_id: 'text',
  message_id: 'text',
  bridge_id: 'text',
  chain: 'text',
  gateway: 'text',
  block_number: 'bigint',
  tx_hash: 'text',
  finality: 'text',
  mode: 'text',
  token: 'text',
  amount: 'numeric',
  recipient: 'text',
} as const

const LOCK_ROWS = jsonRows({
  ...MESSAGE_COLUMNS,
  destination_chain: 'text',
  observed: 'numeric',
})

const RELEASE_ROWS = jsonRows({
  ...MESSAGE_COLUMNS,
  source_chain: 'text',
  signers: 'text[]',
  threshold: 'integer',
  backed: 'boolean',
  observed: 'numeric',
})

function lockRow(bridge: BridgeConfig, fact: Fact<'lock'>) {
  const { envelope, lock } = fact
  return {
    event_id: envelope.eventId,
    message_id: fact.messageId,
    bridge_id: bridge.id,
    chain: envelope.chain,
    gateway: lower(fact.gateway),
    block_number: envelope.blockNumber,
    tx_hash: envelope.txHash,
    finality: envelope.finality,
    mode: lock.mode,
    token: lower(lock.token),
    amount: fact.amount.toString(),
    recipient: lower(lock.recipient),
    destination_chain: lock.destinationChain,
    observed: at(fact),
  }
}

function releaseRow(bridge: BridgeConfig, fact: Fact<'release'>, backed: boolean) {
  const { envelope, release } = fact
  return {
    event_id: envelope.eventId,
    message_id: fact.messageId,
    bridge_id: bridge.id,
    chain: envelope.chain,
    gateway: lower(fact.gateway),
    block_number: envelope.blockNumber,
    tx_hash: envelope.txHash,
    finality: envelope.finality,
    mode: release.mode,
    token: lower(release.token),
    amount: fact.amount.toString(),
    recipient: lower(release.recipient),
    source_chain: release.sourceChain,
    signers: release.signers.map(lower),
    threshold: release.threshold,
    backed,
    observed: at(fact),
  }
}

/** A release against what the chains said about it and the releases of its message before it. */
function judgeRelease(
  bridge: BridgeConfig,
  fact: Fact<'release'>,
  evidence: ChunkEvidence,
  prior: readonly PriorRelease[],
): { findings: Finding[]; backed: boolean } {
  const { envelope, release } = fact
  const seen = evidence.releases.get(envelope.eventId)
  const findings: Finding[] = []
  const source = seen?.answers
    ? confirmSource({ bridge, fact, answers: seen.answers, minConfirmations: seen.minConfirmations })
    : undefined
  if (source) findings.push(...source.findings)
  const call = seen?.call && !('unreadable' in seen.call) ? seen.call : undefined
  findings.push(
    ...releaseWithoutSource({
      bridge,
      fact,
      verdict: source?.verdict,
      claimedSourceGateway: call?.sourceGateway,
    }),
  )
  if (kindOf(bridge, envelope.chain) === 'guardian-quorum') {
    if (seen?.call && 'unreadable' in seen.call)
      findings.push(uninterpretable(bridge, fact, seen.call.unreadable))
    const quorum = seen?.quorum
    if (call && quorum)
      findings.push(
        ...checkSignatures({ bridge, fact, call, ...quorum, recovered: seen?.recovered }).findings,
      )
    findings.push(
      ...checkThreshold({
        bridge,
        fact,
        thresholds: [
          { source: 'release event', value: release.threshold },
          ...(quorum ? [{ source: `chain at block ${envelope.blockNumber}`, value: quorum.threshold }] : []),
        ],
      }),
    )
    if (quorum) findings.push(...checkConcentration({ bridge, fact, ...quorum }))
  }
  findings.push(...checkProof({ bridge, fact }))
  findings.push(
    ...checkReplay({
      bridge,
      fact,
      prior: prior.map(({ eventId, chain, txHash, blockNumber }) => ({
        eventId,
        chain,
        txHash,
        blockNumber,
      })),
    }),
  )
  return { findings, backed: source?.verdict.verdict === 'backed' }
}

function judgeChange(bridge: BridgeConfig, fact: Fact<'configChange'>, evidence: ChunkEvidence): Finding[] {
  const findings = checkGovernance({ bridge, fact, transaction: evidence.changes.get(fact.envelope.eventId) })
  if (fact.threshold !== undefined) {
    findings.push(
      ...checkThreshold({
        bridge,
        fact,
        thresholds: [{ source: `${fact.change} change`, value: fact.threshold }],
      }),
    )
  }
  if (fact.guardians && fact.threshold !== undefined) {
    findings.push(
      ...checkConcentration({ bridge, fact, guardians: fact.guardians, threshold: fact.threshold }),
    )
  }
  return findings
}

/** A retracted event leaves the read model; a release whose only lock went with it is unbacked now. */
export async function retractFact(
  client: PoolClient,
  fact: BridgeFact,
  index: GatewayIndex,
): Promise<Finding[]> {
  const { eventId } = fact.envelope
  await unrecordFlow(client, fact)
  if (fact.type === 'release') {
    await client.query('DELETE FROM bridge_releases WHERE event_id = $1', [eventId])
    return []
  }
  if (fact.type !== 'lock') return []
  const { rowCount } = await client.query('DELETE FROM bridge_locks WHERE event_id = $1', [eventId])
  if (!rowCount) return []
  const { rows: locksLeft } = await client.query('SELECT 1 FROM bridge_locks WHERE message_id = $1', [
    fact.messageId,
  ])
  if (locksLeft.length > 0) return []
  const { rows: releases } = await client.query<{
    eventId: string
    chain: string
    gateway: string
    txHash: string
    blockNumber: number
    amount: string
    token: string
  }>(
    `SELECT event_id AS "eventId", chain, gateway, tx_hash AS "txHash", block_number::int AS "blockNumber",
       amount::text AS amount, token
     FROM bridge_releases WHERE message_id = $1`,
    [fact.messageId],
  )
  const findings: Finding[] = []
  for (const release of releases) {
    const bridge = index.bridgeOf(release.chain, release.gateway)
    if (!bridge) continue
    await client.query('UPDATE bridge_releases SET backed = false WHERE event_id = $1', [release.eventId])
    findings.push(
      releaseOrphaned({
        bridge,
        release: { ...release, messageId: fact.messageId },
        lock: {
          eventId,
          chain: fact.envelope.chain,
          txHash: fact.envelope.txHash,
          blockNumber: fact.envelope.blockNumber,
        },
      }),
    )
  }
  return findings
}

/**
 * The guard's finality bookkeeping for a chunk's copies of events judged before: each row takes the finality of its
 * event's last copy in the chunk, one statement per table.
 */
export async function advanceFinalities(client: PoolClient, facts: readonly BridgeFact[]): Promise<void> {
  for (const [type, table] of [
    ['lock', 'bridge_locks'],
    ['release', 'bridge_releases'],
  ] as const) {
    const last = new Map(
      facts
        .filter((fact) => fact.type === type)
        .map((fact) => [fact.envelope.eventId, fact.envelope.finality] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    )
    if (last.size === 0) continue
    await client.query(
      `UPDATE ${table} t SET finality = v.finality FROM unnest($1::text[], $2::text[]) AS v(event_id, finality)
       WHERE t.event_id = v.event_id`,
      [[...last.keys()], [...last.values()]],
    )
  }
}

function unknownGateway(fact: BridgeFact): Finding {
  return {
    detection: 'unknown-gateway',
    kind: 'UNKNOWN_GATEWAY',
    severity: 'MEDIUM',
    scope: `${fact.envelope.chain}:${lower(fact.gateway)}`,
    key: 'unknown',
    subject: subjectOf(fact.envelope),
    summary: `bridge event from ${fact.gateway} on ${fact.envelope.chain}, which no configured bridge names as a gateway`,
    evidence: [evidenceOf(fact.envelope, 'event')],
    details: { gateway: fact.gateway, type: fact.type },
    chains: [fact.envelope.chain],
  }
}

function uninterpretable(bridge: BridgeConfig, fact: BridgeFact, reason: string): Finding {
  return {
    detection: 'uninterpretable-event',
    kind: 'UNINTERPRETABLE_EVENT',
    severity: 'MEDIUM',
    scope: `${bridge.id}:${fact.envelope.chain}:${lower(fact.gateway)}`,
    key: reason.slice(0, 80),
    subject: subjectOf(fact.envelope),
    summary: `bridge event on ${fact.envelope.chain} (tx ${fact.envelope.txHash}) could not be checked: ${reason}`,
    evidence: [evidenceOf(fact.envelope, 'event')],
    details: { reason, gateway: fact.gateway },
    chains: [fact.envelope.chain],
  }
}
