import { Registry } from 'prom-client'
import { counter, gauge, histogram } from './define.ts'

/**
 * The protocol's metrics, named as operators of this kind of system expect them, defined
 * once so every process that emits one uses the same name, labels and help text as the
 * Prometheus rules and Grafana dashboards in infra/. Each group is created by the process
 * that owns it (the prover creates `zk`, listeners create `chain`, …), on its own registry.
 */
export const zkMetrics = (registry: Registry) => ({
  proofs: counter(
    registry,
    'zk_proof_generation_total',
    'Proofs generated, by circuit and outcome (success, failure, rejected).',
    ['circuit_type', 'status'] as const,
  ),
  proofDuration: histogram(
    registry,
    'zk_proof_generation_duration_seconds',
    'Witness and Groth16 proof time.',
    ['circuit_type'] as const,
    [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  ),
})

export const chainMetrics = (registry: Registry) => ({
  blocksBehind: gauge(
    registry,
    'veridis_chain_blocks_behind_head',
    'Blocks between the chain head and the listener cursor.',
    ['chain'] as const,
  ),
  reorgs: counter(registry, 'veridis_chain_reorgs_total', 'Reorganisations the listener saw.', [
    'chain',
  ] as const),
  rpcErrors: counter(registry, 'veridis_chain_rpc_errors_total', 'Failed RPC calls, per endpoint.', [
    'chain',
    'url',
  ] as const),
  eventsPublished: counter(
    registry,
    'veridis_chain_events_published_total',
    'Chain events published, by type.',
    ['chain', 'type'] as const,
  ),
})

export const bridgeMetrics = (registry: Registry) => ({
  messages: counter(registry, 'bridge_messages_total', 'Bridge messages seen, by route and outcome.', [
    'source_chain',
    'target_chain',
    'status',
  ] as const),
})

export const nullifierMetrics = (registry: Registry) => ({
  propagationLatency: histogram(
    registry,
    'veridis_nullifier_propagation_latency_seconds',
    'From a nullifier use being observed on its chain to its registration confirmed on another chain.',
    ['source_chain', 'target_chain'] as const,
    [0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300],
  ),
  propagations: counter(
    registry,
    'veridis_nullifier_propagations_total',
    'Propagation outcomes per source and target chain (PROPAGATED, ALREADY_PRESENT, FAILED).',
    ['source_chain', 'target_chain', 'outcome'] as const,
  ),
})

export const gatewayMetrics = (registry: Registry) => ({
  commandRequests: counter(
    registry,
    'veridis_gateway_command_requests_total',
    'Command requests answered by the gateway, by command type and status code.',
    ['type', 'status_code'] as const,
  ),
  auditFacts: counter(
    registry,
    'veridis_gateway_audit_facts_total',
    'Audit facts about command requests, by action and outcome (published, dropped).',
    ['action', 'outcome'] as const,
  ),
})

export const securityMetrics = (registry: Registry) => ({
  events: counter(registry, 'security_events_total', 'Security findings raised, by kind and severity.', [
    'kind',
    'severity',
  ] as const),
})

/**
 * The bridge guard's own health (consumers/bridge-guard, docs/bridge-guard.md "Operations"):
 * what it finds, how fast its alerts go out, what a chunk costs, how its evidence endpoints
 * answer, and how many operators stand between each bridge and a forged quorum.
 */
export const guardOperationsMetrics = (registry: Registry) => ({
  findings: counter(
    registry,
    'bridge_guard_findings_total',
    'Findings recorded by the bridge guard (each once), by detection and severity; findings fold into incidents.',
    ['detection', 'severity'] as const,
  ),
  openIncidents: gauge(
    registry,
    'bridge_guard_open_incidents',
    'Bridge incidents not withdrawn, by detection and current severity (read from bridge_incidents).',
    ['detection', 'severity'] as const,
  ),
  alertRecords: counter(
    registry,
    'bridge_guard_alert_records_published_total',
    'Alert records the bridge guard published on veridis.alert.v1, by lifecycle status (RAISED, UPDATED, CONFIRMED, WITHDRAWN).',
    ['status'] as const,
  ),
  detectionLatency: histogram(
    registry,
    'bridge_guard_detection_latency_seconds',
    "From the offending event's observedAt to its incident's RAISED record being published.",
    ['detection'] as const,
    [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
  ),
  chunkDuration: histogram(
    registry,
    'bridge_guard_chunk_duration_seconds',
    'Time per stage of one chunk: evidence (chain reads), judge (the exactly-once transaction), publish (the alert outbox).',
    ['stage'] as const,
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ),
  evidenceRequests: counter(
    registry,
    'bridge_guard_evidence_rpc_requests_total',
    'JSON-RPC requests the bridge guard sent for evidence, by chain and endpoint (redacted URL).',
    ['chain', 'endpoint'] as const,
  ),
  evidenceErrors: counter(
    registry,
    'bridge_guard_evidence_rpc_errors_total',
    'Evidence requests that failed (error answer, timeout, malformed answer), by chain and endpoint (redacted URL).',
    ['chain', 'endpoint'] as const,
  ),
  guardianDiversity: gauge(
    registry,
    'bridge_guardian_diversity',
    'Fewest operators whose guardian keys together reach the threshold (1: one operator can release alone), per bridge and chain.',
    ['bridge', 'chain'] as const,
  ),
})

/**
 * The bridge guard's periodic checks (consumers/bridge-guard/monitors.ts): reserves, liveness
 * (pending messages, guardian participation and signing latency), anomaly scores, and the
 * checks' own runs.
 */
export const guardMetrics = (registry: Registry) => ({
  reservesRatio: gauge(
    registry,
    'bridge_reserves_ratio',
    'Custody on the source divided by wrapped supply plus value in flight, per bridge and token, at the last reserves check (< 1: a shortfall).',
    ['bridge', 'token'] as const,
  ),
  pendingPastSla: gauge(
    registry,
    'bridge_pending_messages_past_sla',
    'Locks with no release past the bridge SLA (within the lookback), per corridor.',
    ['bridge', 'source_chain', 'target_chain'] as const,
  ),
  guardianParticipation: gauge(
    registry,
    'bridge_guardian_participation_ratio',
    'Releases a guardian signed over those it was eligible for (recent, counts halved past the window).',
    ['bridge', 'chain', 'guardian'] as const,
  ),
  guardianLatency: gauge(
    registry,
    'bridge_guardian_signing_latency_seconds',
    "Mean time from a release's source lock to the release, over the releases a guardian signed.",
    ['bridge', 'chain', 'guardian'] as const,
  ),
  anomalyScore: gauge(
    registry,
    'bridge_anomaly_score',
    'Robust z-score of the last closed window per corridor and measure (count, volume).',
    ['bridge', 'chain', 'token', 'direction', 'measure'] as const,
  ),
  monitorRuns: counter(
    registry,
    'bridge_guard_monitor_runs_total',
    'Periodic check runs of the bridge guard, by check and outcome (ok, finding, error).',
    ['check', 'outcome'] as const,
  ),
  monitorDuration: histogram(
    registry,
    'bridge_guard_monitor_duration_seconds',
    'Time per periodic check run (reserves, liveness, anomaly, prune).',
    ['check'] as const,
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  ),
})

export const complianceMetrics = (registry: Registry) => ({
  events: counter(registry, 'compliance_events_total', 'Compliance-audit events written, by action.', [
    'action',
  ] as const),
  retentionViolations: gauge(
    registry,
    'gdpr_data_retention_violations',
    'Records kept past their retention period.',
    [] as const,
  ),
})

/** Every protocol metric name, for checks that rules and dashboards only use what exists. */
export function protocolMetricNames(): string[] {
  const registry = new Registry()
  zkMetrics(registry)
  chainMetrics(registry)
  bridgeMetrics(registry)
  nullifierMetrics(registry)
  gatewayMetrics(registry)
  securityMetrics(registry)
  guardOperationsMetrics(registry)
  guardMetrics(registry)
  complianceMetrics(registry)
  return registry.getMetricsAsArray().map((metric) => metric.name)
}
