import { type GuardConfig, indexGateways, kindOf, loadGuardConfig } from '../../core/bridge/config.ts'
import type { ConsumedMessage, HandlerContext } from '../../core/bus/consumer.ts'
import { handleByTopic } from '../../core/bus/topic-handlers.ts'
import type { BridgeEvent } from '../../core/bus/types.ts'
import { exactlyOnce } from '../../core/db/exactly-once.ts'
import type { PoolClient } from '../../core/db/pool.ts'
import { bridgeMetrics, securityMetrics } from '../../core/metrics/protocol.ts'
import type { ConsumerModule } from '../../core/service/consumer-process.ts'
import { createChainReaders } from '../../producers/chains/evm/bridge/chain-reader.ts'
import { signatureRecovery } from '../../producers/chains/evm/bridge/release-signatures.ts'
import type { Finding } from './detections/finding.ts'
import { type ChunkEvidence, gatherEvidence } from './evidence.ts'
import { type BridgeFact, factOf } from './facts.ts'
import {
  confirmFindings,
  knownFindings,
  recordFindings,
  unconfirmedSubjects,
  withdrawFindings,
} from './incidents.ts'
import { advanceFinalities, judgeFacts, retractFact } from './judge.ts'
import { createGuardMonitors } from './monitors.ts'
import { createGuardOperations } from './operations.ts'
import { publishAlerts } from './outbox.ts'

/**
 * The bridge guard: reads every lock, release and configuration change of every configured
 * bridge from veridis.chain.bridge.v1, checks each against the invariants in ./detections/
 * (each module states its own), and publishes findings as Alerts on veridis.alert.v1 —
 * raised on the PENDING event, confirmed on FINALIZED, withdrawn on RETRACTED, folded into
 * one incident per detection and scope. docs/bridge-guard.md is the operator's guide.
 *
 * Per chunk: ask the chains what the events need (./evidence.ts, outside any transaction);
 * then judge, update the read model and write incidents and alert records in one
 * exactly-once transaction; then publish the outbox. A redelivered chunk is recognised
 * event by event and finality by finality; a crash after COMMIT publishes the outbox on the
 * next chunk or start.
 */
export const messageIdOf = (message: ConsumedMessage<BridgeEvent>) =>
  `${message.value.envelope.eventId}:${message.value.envelope.finality}`

export function createGuardHandler(options: {
  readonly deps: Parameters<ConsumerModule['create']>[0]
  readonly config: GuardConfig
}) {
  const { deps, config } = options
  const { common, pool, publisher, group } = deps
  const logger = common.logger
  const index = indexGateways(config)
  const operations = createGuardOperations({ registry: common.metrics.registry, pool, logger, config })
  const readers = createChainReaders(config, logger, operations.rpc)
  const security = securityMetrics(common.metrics.registry)
  const bridge = bridgeMetrics(common.metrics.registry)
  const cooldown = new Map(config.bridges.map((entry) => [entry.id, entry.cooldownMs]))
  const defaultCooldown = Math.max(...config.bridges.map((entry) => entry.cooldownMs))
  const cooldownOf = (finding: Finding) => cooldown.get(finding.scope.split(':')[0]!) ?? defaultCooldown

  const alertTopic = deps.bus.topics.alert.name

  /**
   * The chunk in order. A retraction is taken alone (it undoes what came before it); the events
   * between retractions are judged together (judge.ts: each as if taken in one by one), with
   * one statement per table for the judged set, the read model and the finality bookkeeping.
   */
  const judgeChunk = async (
    facts: readonly BridgeFact[],
    client: PoolClient,
    evidence: ChunkEvidence,
    recorded: Finding[],
  ) => {
    let run: BridgeFact[] = []
    for (const fact of facts) {
      if (fact.envelope.finality !== 'RETRACTED') {
        run.push(fact)
        continue
      }
      await judgeRun(run, client, evidence, recorded)
      run = []
      const { eventId } = fact.envelope
      await withdrawFindings({ client, topic: alertTopic }, eventId)
      const orphaned = await retractFact(client, fact, index)
      recorded.push(
        ...(await recordFindings(
          { client, topic: alertTopic },
          orphaned,
          fact.envelope.observedAt,
          cooldownOf,
        )),
      )
      countMessage(fact, 'retracted')
    }
    await judgeRun(run, client, evidence, recorded)
  }

  const judgeRun = async (
    facts: readonly BridgeFact[],
    client: PoolClient,
    evidence: ChunkEvidence,
    recorded: Finding[],
  ) => {
    if (facts.length === 0) return
    // The judged set: an event's first copy the guard has never judged is judged; every other
    // copy (a later finality, a redelivery) only advances its finality.
    const ids = [...new Map(facts.map((fact) => [fact.envelope.eventId, fact.envelope.chain]))]
    const { rows } = await client.query<{ event_id: string }>(
      `INSERT INTO bridge_events_judged (event_id, chain) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [ids.map(([id]) => id), ids.map(([, chain]) => chain)],
    )
    const fresh = new Set(rows.map((row) => row.event_id))
    const toJudge: BridgeFact[] = []
    const judging = facts.map((fact) => {
      const judge = fresh.delete(fact.envelope.eventId)
      if (judge) toJudge.push(fact)
      return judge
    })
    const judged = await judgeFacts(client, toJudge, index, evidence)
    await advanceFinalities(
      client,
      facts.filter((_, i) => !judging[i]),
    )

    // Incidents, in the events' order: each event's findings, then its confirmation if FINALIZED.
    const outbox = { client, topic: alertTopic }
    const findingsOf = new Map(
      toJudge.map((fact, i) => [
        fact,
        judged[i]!.map((finding) => ({
          ...finding,
          // Which copy of the event decided it: PENDING for a guard keeping up with the head.
          details: { ...finding.details, judgedAt: fact.envelope.finality },
        })),
      ]),
    )
    const all = [...findingsOf.values()].flat()
    const known = await knownFindings(client, all)
    const finalized = facts
      .filter((fact) => fact.envelope.finality === 'FINALIZED')
      .map((f) => f.envelope.eventId)
    const toConfirm = await unconfirmedSubjects(client, finalized)
    for (const fact of facts) {
      const findings = findingsOf.get(fact)
      if (findings) {
        const raised = await recordFindings(outbox, findings, fact.envelope.observedAt, cooldownOf, known)
        for (const finding of raised) toConfirm.add(finding.subject.eventId)
        recorded.push(...raised)
        countMessage(fact, findings.length > 0 ? 'flagged' : 'clean')
      }
      if (fact.envelope.finality === 'FINALIZED' && toConfirm.has(fact.envelope.eventId))
        await confirmFindings(outbox, fact.envelope.eventId)
    }
  }

  const countMessage = (fact: BridgeFact, status: string) => {
    if (fact.type === 'lock') {
      bridge.messages.inc({
        source_chain: fact.envelope.chain,
        target_chain: fact.lock.destinationChain,
        status: `lock_${status}`,
      })
    } else if (fact.type === 'release') {
      bridge.messages.inc({
        source_chain: fact.release.sourceChain,
        target_chain: fact.envelope.chain,
        status: `release_${status}`,
      })
    }
  }

  /** The chunk's decisions, once per event and finality, with what the chains said about it. */
  const applyWith = (
    factsOf: ReadonlyMap<ConsumedMessage<BridgeEvent>, BridgeFact>,
    evidence: ChunkEvidence,
    recorded: Finding[],
  ) =>
    exactlyOnce<BridgeEvent>({
      pool,
      group,
      idOf: messageIdOf,
      effect: (messages, client) =>
        judgeChunk(
          messages.map((message) => factsOf.get(message) ?? factOf(message)),
          client,
          evidence,
          recorded,
        ),
      duplicates: common.metrics.bus.duplicatesSkipped,
    })

  /** Guardian diversity from every quorum the chunk read or changed (operations.ts). */
  const observeQuorums = (facts: readonly BridgeFact[], evidence: ChunkEvidence) => {
    for (const fact of facts) {
      const bridgeOf = index.bridgeOf(fact.envelope.chain, fact.gateway)
      if (!bridgeOf || kindOf(bridgeOf, fact.envelope.chain) !== 'guardian-quorum') continue
      const quorum =
        fact.type === 'release'
          ? evidence.releases.get(fact.envelope.eventId)?.quorum
          : fact.type === 'configChange' && fact.guardians && fact.threshold !== undefined
            ? { guardians: [...fact.guardians], threshold: fact.threshold }
            : undefined
      if (quorum)
        operations.quorumSeen(
          bridgeOf,
          fact.envelope.chain,
          fact.envelope.blockNumber,
          quorum.guardians,
          quorum.threshold,
        )
    }
  }

  const publish = () =>
    publishAlerts({
      pool,
      topic: alertTopic,
      publisher,
      logger,
      onPublished: (alert, observedAt) => {
        if (alert.status === 'RAISED') security.events.inc({ kind: alert.kind, severity: alert.severity })
        operations.published(alert, observedAt)
      },
    })

  return {
    async handle(messages: readonly ConsumedMessage<BridgeEvent>[], context: HandlerContext) {
      // Each message read once: the evidence and the judgement below take the same facts.
      const factsOf = new Map(messages.map((message) => [message, factOf(message)]))
      const facts = [...factsOf.values()].filter((fact) => fact.envelope.finality !== 'RETRACTED')
      const { rows } = await pool.query<{ event_id: string }>(
        'SELECT event_id FROM bridge_events_judged WHERE event_id = ANY($1)',
        [facts.map((fact) => fact.envelope.eventId)],
      )
      const judged = new Set(rows.map((row) => row.event_id))
      const evidence = await operations.stage('evidence', () =>
        gatherEvidence(
          facts.filter((fact) => !judged.has(fact.envelope.eventId)),
          index,
          readers,
        ),
      )
      observeQuorums(facts, evidence)
      const recorded: Finding[] = []
      await operations.stage('judge', () => applyWith(factsOf, evidence, recorded)(messages, context))
      operations.findingsCommitted(recorded)
      await operations.stage('publish', publish)
    },
    /** Records left in the outbox by a crash after COMMIT. */
    publish,
    /** The guard's own metrics; `run` refreshes open incidents and guardian diversity. */
    operations,
    readers,
  }
}

export const bridgeGuardConsumer: ConsumerModule<BridgeEvent> = {
  name: 'bridge-guard',
  description:
    'checks every bridge message and configuration change against the bridge invariants; alerts on findings',
  produces: ['alert'],
  create: (deps) => {
    const { common, bus } = deps
    const config = loadGuardConfig({
      home: common.config.home,
      file: process.env.VERIDIS_BRIDGE_GUARD_CONFIG,
    })
    common.logger.info(
      {
        bridges: config.bridges.map((entry) => ({
          id: entry.id,
          kind: entry.kind,
          gateways: entry.gateways,
        })),
        chains: Object.fromEntries(
          Object.entries(config.chains).map(([chain, settings]) => [
            chain,
            { endpoints: settings.rpcUrls.length, minConfirmations: settings.minConfirmations },
          ]),
        ),
        signatureRecovery: signatureRecovery().backend,
      },
      'guarding bridges',
    )
    const guard = createGuardHandler({ deps, config })
    const refreshing = guard.operations.run(guard.readers, common.shutdown.signal)
    common.shutdown.onShutdown('open incidents and diversity refresh', () => refreshing)
    const monitors = createGuardMonitors({
      common,
      pool: deps.pool,
      config,
      topic: deps.bus.topics.alert.name,
      publish: guard.publish,
      readers: guard.readers,
    })
    monitors.start()
    common.shutdown.onShutdown('bridge guard periodic checks', () => monitors.stop())
    void guard
      .publish()
      .catch((error) => common.logger.warn({ err: error }, 'publishing left-over alerts failed'))
    return {
      name: 'bridge-guard',
      ...handleByTopic(bus.topics, { bridge: (messages, context) => guard.handle(messages, context) }),
    }
  },
}
