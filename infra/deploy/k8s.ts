import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { stringify } from 'yaml'
import { groupId, TOPICS } from '../../core/bus/topics.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { isSingleton, PIPELINE_PROCESSES, type PipelineProcess } from '../stack/pipeline.ts'

/**
 * The Kubernetes resources that follow from the code (infra/k8s/README.md): one Deployment per
 * pipeline process of `bin/veridis up` (PIPELINE_PROCESSES) with its PodDisruptionBudget and,
 * where the process scales by consumer group, a HorizontalPodAutoscaler; and the production
 * overlay's Strimzi KafkaTopics from core/bus/topics.ts. `bin/veridis k8s generate` writes
 * them; test/ops/k8s.test.ts fails when the committed files differ from what this produces.
 */
export const K8S_DIR = path.join(PROJECT_ROOT, 'infra', 'k8s')
export const GENERATED_FILES = {
  processes: path.join(K8S_DIR, 'base', 'processes.yaml'),
  topics: path.join(K8S_DIR, 'overlays', 'production', 'kafka-topics.yaml'),
} as const

const PART_OF = 'veridis'
const IMAGE = 'veridis/pipeline'

/** Kafka consumer group of a scalable consumer (the lag monitor's `group` label), for its HPA. */
const consumerGroup = (process: PipelineProcess) => groupId(undefined, process.name.replace(/^consumer-/, ''))

const labels = (process: PipelineProcess) => ({
  'app.kubernetes.io/name': process.name,
  'app.kubernetes.io/part-of': PART_OF,
  'app.kubernetes.io/component': process.name === 'gateway' ? 'gateway' : process.name.split('-')[0],
  // Overlays select on it: a horizontal process gets more replicas, a singleton never does.
  'veridis.io/scaling': isSingleton(process) ? 'singleton' : 'horizontal',
})

const selector = (process: PipelineProcess) => ({
  'app.kubernetes.io/name': process.name,
  'app.kubernetes.io/part-of': PART_OF,
})

function deployment(process: PipelineProcess) {
  const ports = [{ name: 'ops', containerPort: process.opsPort }]
  if (process.name === 'gateway') ports.unshift({ name: 'http', containerPort: 18088 })
  const probe = (route: string, periodSeconds: number) => ({
    httpGet: { path: route, port: 'ops' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold: 3,
  })
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: process.name, labels: labels(process) },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector(process) },
      strategy: isSingleton(process)
        ? { type: 'Recreate' }
        : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: labels(process),
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(process.opsPort) },
        },
        spec: {
          serviceAccountName: 'veridis',
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 },
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: process.name,
              image: IMAGE,
              command: ['bin/veridis'],
              args: [...process.args],
              ports,
              envFrom: [
                { configMapRef: { name: 'veridis-config' } },
                // Secrets by reference: the Secret is made outside these manifests (docs/operations.md).
                { secretRef: { name: 'veridis-secrets' } },
              ],
              // A pod is probed on its own address, so the ops endpoints listen on every interface.
              env: [{ name: 'VERIDIS_OPS_HOST', value: '0.0.0.0' }],
              startupProbe: { ...probe('/health', 5), failureThreshold: 36 },
              livenessProbe: probe('/health', 10),
              readinessProbe: probe('/ready', 5),
              resources: {
                requests: { cpu: '100m', memory: '256Mi' },
                limits: { memory: process.name === 'consumer-prover' ? '2Gi' : '768Mi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              // The root filesystem is read-only: VERIDIS_HOME and the TypeScript loader's cache
              // (os.tmpdir()) get writable scratch space.
              volumeMounts: [
                { name: 'home', mountPath: '/var/lib/veridis' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'home', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  }
}

function disruptionBudget(process: PipelineProcess) {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: process.name, labels: labels(process) },
    // A singleton may be moved (it is replaced, state is in Kafka and Postgres); a scalable
    // process keeps one instance up through voluntary disruptions.
    spec: isSingleton(process)
      ? { maxUnavailable: 1, selector: { matchLabels: selector(process) } }
      : { minAvailable: 1, selector: { matchLabels: selector(process) } },
  }
}

function autoscaler(process: PipelineProcess) {
  const metrics: unknown[] = [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
  ]
  if (process.name.startsWith('consumer-')) {
    // The lag monitor's kafka_consumergroup_lag, through an external-metrics adapter
    // (prometheus-adapter): more consumers while the group falls behind.
    metrics.push({
      type: 'External',
      external: {
        metric: {
          name: 'kafka_consumergroup_lag',
          selector: { matchLabels: { group: consumerGroup(process) } },
        },
        target: { type: 'AverageValue', averageValue: '1000' },
      },
    })
  }
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: process.name, labels: labels(process) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: process.name },
      minReplicas: 1,
      maxReplicas: 6,
      metrics,
    },
  }
}

export function processResources(processes: readonly PipelineProcess[] = PIPELINE_PROCESSES): unknown[] {
  return processes.flatMap((process) => [
    deployment(process),
    disruptionBudget(process),
    ...(isSingleton(process) ? [] : [autoscaler(process)]),
  ])
}

/**
 * Strimzi KafkaTopics of the production overlay, one per declared topic: retention and
 * cleanup policy from the declaration, three replicas with min.insync.replicas=2 (DESIGN §3).
 */
export function kafkaTopicResources(): unknown[] {
  return Object.values(TOPICS).map((topic) => ({
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaTopic',
    metadata: { name: topic.name.replaceAll('.', '-'), labels: { 'strimzi.io/cluster': 'veridis' } },
    spec: {
      topicName: topic.name,
      partitions: 12,
      replicas: 3,
      config: {
        'cleanup.policy': topic.cleanupPolicy,
        'retention.ms': String(topic.retentionMs ?? -1),
        'min.insync.replicas': '2',
      },
    },
  }))
}

const HEADER = '# Generated by `bin/veridis k8s generate` from the code; do not edit (infra/deploy/k8s.ts).\n'

function render(resources: readonly unknown[]): string {
  return HEADER + resources.map((resource) => `---\n${stringify(resource, { lineWidth: 0 })}`).join('')
}

export function generatedManifests(): Record<keyof typeof GENERATED_FILES, string> {
  return { processes: render(processResources()), topics: render(kafkaTopicResources()) }
}

/** Writes the generated files; returns those whose content changed. */
export function writeGeneratedManifests(): string[] {
  const changed: string[] = []
  const contents = generatedManifests()
  for (const [key, file] of Object.entries(GENERATED_FILES)) {
    const content = contents[key as keyof typeof GENERATED_FILES]
    let current: string | undefined
    try {
      current = readFileSync(file, 'utf8')
    } catch {
      current = undefined
    }
    if (current !== content) {
      writeFileSync(file, content)
      changed.push(file)
    }
  }
  return changed
}
