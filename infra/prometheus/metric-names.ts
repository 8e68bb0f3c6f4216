/**
 * The metrics Prometheus rules and Grafana dashboards may query: what the pipeline's
 * processes export (by family, with its type, since a histogram is queried through its
 * `_bucket`, `_sum` and `_count` series) and what our recording rules declare. A dashboard
 * query naming anything else would draw an empty panel forever, so a test holds them to
 * this list, and checks the list against the real registries.
 */
export const MetricType = { counter: 'counter', gauge: 'gauge', histogram: 'histogram' } as const
export type MetricType = (typeof MetricType)[keyof typeof MetricType]

/** Every pipeline process (core/metrics/registry.ts); all carry a `service` label. */
export const BUS_METRICS = {
  veridis_bus_messages_consumed_total: MetricType.counter,
  veridis_bus_messages_produced_total: MetricType.counter,
  veridis_bus_produce_errors_total: MetricType.counter,
  veridis_bus_handler_duration_seconds: MetricType.histogram,
  veridis_bus_retries_total: MetricType.counter,
  veridis_bus_dead_letters_total: MetricType.counter,
  veridis_bus_duplicates_skipped_total: MetricType.counter,
  veridis_bus_consumer_ready: MetricType.gauge,
} as const

/** The lag monitor (monitor/lag/). */
export const LAG_METRICS = {
  kafka_consumergroup_lag: MetricType.gauge,
  kafka_consumergroup_lag_seconds: MetricType.gauge,
  kafka_consumergroup_topic_lag: MetricType.gauge,
  kafka_consumergroup_max_lag_seconds: MetricType.gauge,
  kafka_consumergroup_status: MetricType.gauge,
  kafka_consumergroup_partition_status: MetricType.gauge,
  kafka_consumergroup_group_lag: MetricType.gauge,
  kafka_consumergroup_members: MetricType.gauge,
  veridis_dlq_messages: MetricType.gauge,
  veridis_lag_poll_duration_seconds: MetricType.histogram,
  veridis_lag_poll_errors_total: MetricType.counter,
  veridis_lag_last_successful_poll_timestamp_seconds: MetricType.gauge,
} as const

/** HTTP servers (core/ops/server.ts) and the protocol's processes (core/metrics/protocol.ts). */
export const PROTOCOL_METRICS = {
  http_requests_total: MetricType.counter,
  http_request_duration_seconds: MetricType.histogram,
  zk_proof_generation_total: MetricType.counter,
  zk_proof_generation_duration_seconds: MetricType.histogram,
  bridge_messages_total: MetricType.counter,
  security_events_total: MetricType.counter,
  compliance_events_total: MetricType.counter,
  gdpr_data_retention_violations: MetricType.gauge,
  veridis_chain_blocks_behind_head: MetricType.gauge,
  veridis_chain_reorgs_total: MetricType.counter,
  veridis_chain_rpc_errors_total: MetricType.counter,
  veridis_chain_events_published_total: MetricType.counter,
  veridis_nullifier_propagation_latency_seconds: MetricType.histogram,
  veridis_nullifier_propagations_total: MetricType.counter,
  veridis_gateway_command_requests_total: MetricType.counter,
  veridis_gateway_audit_facts_total: MetricType.counter,
  bridge_guard_findings_total: MetricType.counter,
  bridge_guard_open_incidents: MetricType.gauge,
  bridge_guard_alert_records_published_total: MetricType.counter,
  bridge_guard_detection_latency_seconds: MetricType.histogram,
  bridge_guard_chunk_duration_seconds: MetricType.histogram,
  bridge_guard_evidence_rpc_requests_total: MetricType.counter,
  bridge_guard_evidence_rpc_errors_total: MetricType.counter,
  bridge_guardian_diversity: MetricType.gauge,
  bridge_reserves_ratio: MetricType.gauge,
  bridge_pending_messages_past_sla: MetricType.gauge,
  bridge_guardian_participation_ratio: MetricType.gauge,
  bridge_guardian_signing_latency_seconds: MetricType.gauge,
  bridge_anomaly_score: MetricType.gauge,
  bridge_guard_monitor_runs_total: MetricType.counter,
  bridge_guard_monitor_duration_seconds: MetricType.histogram,
} as const

/** Series Prometheus writes itself for every target. */
export const SCRAPE_METRICS = { up: MetricType.gauge } as const

/** Recorded by infra/prometheus/rules/recording.yml. */
export const RECORDED_METRICS = [
  'group:kafka_consumergroup_lag:sum',
  'group:kafka_consumergroup_partitions_not_ok:count',
  'topic:veridis_bus_messages_produced:rate1m',
  'group_topic_outcome:veridis_bus_messages_consumed:rate1m',
  'group_topic:veridis_bus_handler_duration_seconds:quantile_rate5m',
  'circuit_type:zk_proof_generation_failures:ratio_rate10m',
  'circuit_type:zk_proof_generation_duration_seconds:quantile_rate5m',
  'chain:veridis_chain_events_published:rate5m',
] as const

export const EXPORTED_METRICS: Readonly<Record<string, MetricType>> = {
  ...BUS_METRICS,
  ...LAG_METRICS,
  ...PROTOCOL_METRICS,
  ...SCRAPE_METRICS,
}

/** The series names a query may use: histograms as their three series, never bare. */
export function queryableMetricNames(): Set<string> {
  const names = new Set<string>(RECORDED_METRICS)
  for (const [name, type] of Object.entries(EXPORTED_METRICS)) {
    if (type === MetricType.histogram)
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    else names.add(name)
  }
  return names
}
