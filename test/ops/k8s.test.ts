import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { TOPICS } from '../../core/bus/topics.ts'
import { SECRET_VARIABLE_NAMES } from '../../core/config/index.ts'
import { GENERATED_FILES, generatedManifests, K8S_DIR } from '../../infra/deploy/k8s.ts'
import { kubeconform, kustomizeBuild } from '../../infra/deploy/tools.ts'
import { isSingleton, PIPELINE_PROCESSES } from '../../infra/stack/pipeline.ts'

/**
 * infra/k8s: both overlays rendered by kustomize (kubectl's) and checked by kubeconform in
 * strict mode against schemas made from the Kubernetes API server's own OpenAPI document
 * (v1.32.4, from the Go module proxy; no API server can be built and run in a test's time
 * here), then compared with the stack's process list and topic declarations.
 */
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are walked as plain data
type Resource = any

const scratch = mkdtempSync(path.join(os.tmpdir(), 'veridis-k8s-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const OVERLAYS = ['local', 'production'] as const
const rendered = Object.fromEntries(
  OVERLAYS.map((overlay) => [overlay, kustomizeBuild(path.join(K8S_DIR, 'overlays', overlay))]),
) as Record<(typeof OVERLAYS)[number], string>
const resources = (overlay: (typeof OVERLAYS)[number]): Resource[] =>
  parseAllDocuments(rendered[overlay]).map((document) => document.toJSON())
const ofKind = (list: Resource[], kind: string) => list.filter((resource) => resource.kind === kind)

function summary(result: { stdout: string }) {
  return (
    JSON.parse(result.stdout) as { summary: Record<'valid' | 'invalid' | 'errors' | 'skipped', number> }
  ).summary
}

describe('infra/k8s', () => {
  test('behavior: the generated manifests are current', () => {
    const expected = generatedManifests()
    for (const [key, file] of Object.entries(GENERATED_FILES)) {
      expect(readFileSync(file, 'utf8'), `${file}: run bin/veridis k8s generate`).toBe(
        expected[key as keyof typeof GENERATED_FILES],
      )
    }
  })

  test.each(OVERLAYS)(
    'behavior: overlay %s is valid for the API server’s schema (kubeconform, strict)',
    (overlay) => {
      const result = kubeconform(rendered[overlay], ['KafkaTopic'])
      expect(result.ok, result.stdout + result.stderr).toBe(true)
      const counts = summary(result)
      expect(counts.invalid + counts.errors).toBe(0)
      expect(counts.valid).toBe(
        resources(overlay).filter((resource) => resource.kind !== 'KafkaTopic').length,
      )
      // Only the Strimzi custom resources go unchecked (no schema offline); they are compared with the declaration below.
      expect(counts.skipped).toBe(overlay === 'production' ? Object.keys(TOPICS).length : 0)
    },
  )

  test.each(OVERLAYS)('behavior: overlay %s runs every process of the stack, probed and sized', (overlay) => {
    const list = resources(overlay)
    const deployments = ofKind(list, 'Deployment')
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(
      PIPELINE_PROCESSES.map((process) => process.name).sort(),
    )
    for (const process of PIPELINE_PROCESSES) {
      const deployment = deployments.find((candidate) => candidate.metadata.name === process.name)
      const [container] = deployment.spec.template.spec.containers
      expect(container.args, process.name).toEqual(process.args)
      const ops = container.ports.find((port: Resource) => port.name === 'ops')
      expect(ops.containerPort, process.name).toBe(process.opsPort)
      expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'ops' })
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'ops' })
      expect(container.resources.requests.cpu, process.name).toBeDefined()
      expect(container.resources.requests.memory, process.name).toBeDefined()
      expect(container.env).toContainEqual({ name: 'VERIDIS_OPS_HOST', value: '0.0.0.0' })
      const replicas = overlay === 'production' && !isSingleton(process) ? 2 : 1
      expect(deployment.spec.replicas, process.name).toBe(replicas)
      // Every Deployment has a disruption budget selecting its pods.
      const budget = ofKind(list, 'PodDisruptionBudget').find((pdb) => pdb.metadata.name === process.name)
      expect(budget?.spec.selector.matchLabels, process.name).toEqual(deployment.spec.selector.matchLabels)
    }
  })

  test.each(OVERLAYS)(
    'behavior: overlay %s scales the gateway and consumers on CPU and consumer lag',
    (overlay) => {
      const autoscalers = ofKind(resources(overlay), 'HorizontalPodAutoscaler')
      const scalable = PIPELINE_PROCESSES.filter((process) => !isSingleton(process))
      expect(scalable.map((process) => process.name)).toContain('gateway')
      expect(autoscalers.map((hpa) => hpa.spec.scaleTargetRef.name).sort()).toEqual(
        scalable.map((process) => process.name).sort(),
      )
      for (const hpa of autoscalers) {
        const kinds = hpa.spec.metrics.map(
          (metric: Resource) => metric.resource?.name ?? metric.external?.metric.name,
        )
        expect(kinds).toContain('cpu')
        if (hpa.metadata.name.startsWith('consumer-')) expect(kinds).toContain('kafka_consumergroup_lag')
      }
    },
  )

  test.each(OVERLAYS)('behavior: overlay %s lets only the gateway be reached from outside', (overlay) => {
    const list = resources(overlay)
    const policies = ofKind(list, 'NetworkPolicy')
    const denyAll = policies.find((policy) => Object.keys(policy.spec.podSelector).length === 0)
    expect(denyAll?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] })
    // A rule with no `from` admits every source: only the gateway's API may have one.
    const open = policies.filter((policy) =>
      (policy.spec.ingress ?? []).some((rule: Resource) => rule.from === undefined),
    )
    expect(open.map((policy) => policy.spec.podSelector.matchLabels)).toEqual([
      { 'app.kubernetes.io/name': 'gateway' },
    ])
    const exposed = ofKind(list, 'Service').filter((service) =>
      ['LoadBalancer', 'NodePort'].includes(service.spec.type),
    )
    expect(exposed.map((service) => service.metadata.name)).toEqual(
      overlay === 'production' ? ['gateway'] : [],
    )
  })

  test.each(OVERLAYS)('behavior: overlay %s references secrets and inlines none', (overlay) => {
    const list = resources(overlay)
    expect(ofKind(list, 'Secret')).toEqual([])
    for (const config of ofKind(list, 'ConfigMap')) {
      for (const name of SECRET_VARIABLE_NAMES) expect(config.data, name).not.toHaveProperty(name)
    }
    const pods = [...ofKind(list, 'Deployment'), ...ofKind(list, 'Job')].map(
      (owner) => owner.spec.template.spec,
    )
    for (const pod of pods) {
      for (const container of pod.containers) {
        expect(container.envFrom).toContainEqual({ secretRef: { name: 'veridis-secrets' } })
        for (const variable of container.env ?? []) expect(SECRET_VARIABLE_NAMES).not.toContain(variable.name)
      }
    }
  })

  test('behavior: production’s KafkaTopics are the declared topics, three replicas, min.insync 2', () => {
    const topics = ofKind(resources('production'), 'KafkaTopic')
    expect(topics.map((topic) => topic.spec.topicName).sort()).toEqual(
      Object.values(TOPICS)
        .map((topic) => topic.name)
        .sort(),
    )
    for (const declared of Object.values(TOPICS)) {
      const topic = topics.find((candidate) => candidate.spec.topicName === declared.name)
      expect(topic.spec.replicas).toBe(3)
      expect(topic.spec.config).toEqual({
        'cleanup.policy': declared.cleanupPolicy,
        'retention.ms': String(declared.retentionMs ?? -1),
        'min.insync.replicas': '2',
      })
    }
  })

  test.each([
    ['a misspelt field', (text: string) => text.replace('readinessProbe:', 'readinessProbes:')],
    ['a replica count that is no number', (text: string) => text.replace(/replicas: 1\n/, 'replicas: one\n')],
    ['a probe without a port', (text: string) => text.replace(/port: ops\n/, 'prot: ops\n')],
    [
      'a kind the API server does not know',
      (text: string) => text.replace('kind: PodDisruptionBudget', 'kind: PodDisruptionBuget'),
    ],
  ])('error: kubeconform refuses the rendered manifests with %s', (_what, breakIt) => {
    const broken = breakIt(rendered.local)
    expect(broken).not.toBe(rendered.local)
    const result = kubeconform(broken)
    expect(result.ok).toBe(false)
    const counts = summary(result)
    expect(counts.invalid + counts.errors).toBeGreaterThan(0)
  })

  test('error: kustomize refuses an overlay whose base lacks a resource it lists', () => {
    writeFileSync(
      path.join(scratch, 'kustomization.yaml'),
      `resources: [${path.relative(scratch, path.join(K8S_DIR, 'base'))}, missing.yaml]\n`,
    )
    expect(() => kustomizeBuild(scratch)).toThrow(/missing\.yaml/)
  })
})
