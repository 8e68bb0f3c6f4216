import { type BridgeConfig, type GatewayIndex, kindOf } from '../../core/bridge/config.ts'
import type { PoolClient } from '../../core/db/pool.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './detections/finding.ts'
import { recordFlow, unrecordFlow } from './detections/flow-limits.ts'
import { checkGovernance } from './detections/governance.ts'
import { recordGuardianActivity } from './detections/liveness.ts'
import { checkLockValue } from './detections/lock-without-value.ts'
import { checkConcentration, checkThreshold } from './detections/quorum-health.ts'
import { releaseOrphaned, releaseWithoutSource } from './detections/release-without-source.ts'
import { checkProof, checkReplay } from './detections/replay.ts'
import { checkSignatures } from './detections/signatures.ts'
import { confirmSource } from './detections/source-confirmation.ts'
import type { ChunkEvidence } from './evidence.ts'
import type { BridgeFact } from './facts.ts'

/**
 * One bridge event, judged: the detections that apply to it run over the event, what the
 * chains said about it (./evidence.ts) and the guard's read model, and the read model takes
 * the event in. Runs inside the chunk's exactly-once transaction.
 */
type Fact<T extends BridgeFact['type']> = Extract<BridgeFact, { type: T }>

const at = (fact: BridgeFact) => fact.envelope.observedAt

export async function judgeFact(
  client: PoolClient,
  fact: BridgeFact,
  index: GatewayIndex,
  evidence: ChunkEvidence,
): Promise<Finding[]> {
  const bridge = index.bridgeOf(fact.envelope.chain, fact.gateway)
  if (!bridge) return [unknownGateway(fact)]
  switch (fact.type) {
    case 'lock':
      return judgeLock(client, bridge, fact)
    case 'release':
      return judgeRelease(client, bridge, fact, evidence)
    case 'configChange':
      return judgeChange(bridge, fact, evidence)
    case 'uninterpretable':
      return [uninterpretable(bridge, fact, fact.reason)]
  }
}

async function judgeLock(client: PoolClient, bridge: BridgeConfig, fact: Fact<'lock'>): Promise<Finding[]> {
  const { envelope, lock } = fact
  await client.query(
    `INSERT INTO bridge_locks (event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
       token, amount, recipient, destination_chain, observed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, to_timestamp($14 / 1000.0))
     ON CONFLICT (event_id) DO UPDATE SET finality = EXCLUDED.finality`,
    [
      envelope.eventId,
      fact.messageId,
      bridge.id,
      envelope.chain,
      lower(fact.gateway),
      envelope.blockNumber,
      envelope.txHash,
      envelope.finality,
      lock.mode,
      lower(lock.token),
      fact.amount.toString(),
      lower(lock.recipient),
      lock.destinationChain,
      at(fact),
    ],
  )
  return [
    ...checkLockValue({ bridge, fact }),
    ...(await recordFlow(client, { bridge, fact, vaultBalance: undefined })),
  ]
}

async function judgeRelease(
  client: PoolClient,
  bridge: BridgeConfig,
  fact: Fact<'release'>,
  evidence: ChunkEvidence,
): Promise<Finding[]> {
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
    if (call && quorum) findings.push(...checkSignatures({ bridge, fact, call, ...quorum }).findings)
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
  const { rows: prior } = await client.query<{
    eventId: string
    chain: string
    txHash: string
    blockNumber: number
  }>(
    `SELECT event_id AS "eventId", chain, tx_hash AS "txHash", block_number::int AS "blockNumber"
     FROM bridge_releases WHERE message_id = $1 ORDER BY observed_at, event_id`,
    [fact.messageId],
  )
  findings.push(...checkReplay({ bridge, fact, prior }))
  await client.query(
    `INSERT INTO bridge_releases (event_id, message_id, bridge_id, chain, gateway, block_number, tx_hash, finality, mode,
       token, amount, recipient, source_chain, signers, threshold, backed, observed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, to_timestamp($17 / 1000.0))
     ON CONFLICT (event_id) DO UPDATE SET finality = EXCLUDED.finality`,
    [
      envelope.eventId,
      fact.messageId,
      bridge.id,
      envelope.chain,
      lower(fact.gateway),
      envelope.blockNumber,
      envelope.txHash,
      envelope.finality,
      release.mode,
      lower(release.token),
      fact.amount.toString(),
      lower(release.recipient),
      release.sourceChain,
      release.signers.map(lower),
      release.threshold,
      source?.verdict.verdict === 'backed',
      at(fact),
    ],
  )
  findings.push(
    ...(await recordFlow(client, {
      bridge,
      fact,
      vaultBalance: evidence.vaultBalances.get(envelope.eventId),
    })),
  )
  await recordGuardianActivity(client, { bridge, fact, guardians: seen?.quorum?.guardians })
  return findings
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

/** The guard's finality bookkeeping for an event it has already judged. */
export async function advanceFinality(client: PoolClient, fact: BridgeFact): Promise<void> {
  const table =
    fact.type === 'lock' ? 'bridge_locks' : fact.type === 'release' ? 'bridge_releases' : undefined
  if (table) {
    await client.query(`UPDATE ${table} SET finality = $2 WHERE event_id = $1`, [
      fact.envelope.eventId,
      fact.envelope.finality,
    ])
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
