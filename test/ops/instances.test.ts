import { describe, expect, test } from 'vitest'
import { loadConfig } from '../../core/config/env.ts'
import {
  isSingleton,
  MAX_INSTANCES,
  PIPELINE_PROCESSES,
  pipelineProcesses,
  scrapeTargets,
} from '../../infra/stack/pipeline.ts'
import { renderScrapeConfigs } from '../../infra/stack/prometheus.ts'
import { stackContext } from '../../infra/stack/stack.ts'

/** `up --instances N` (issue 17 item 2): which processes run how often, on which ports. */
const context = stackContext(loadConfig({}), () => undefined)

describe('up --instances', () => {
  test('behavior: one instance is the single-process pipeline, unchanged', () => {
    expect(pipelineProcesses(context, 1)).toEqual(PIPELINE_PROCESSES)
  })

  test('behavior: N of each scalable process, one of each singleton, every port apart from the others and the stack', () => {
    const processes = pipelineProcesses(context, MAX_INSTANCES)
    for (const entry of PIPELINE_PROCESSES) {
      const instances = processes.filter(
        (candidate) => candidate.name === entry.name || candidate.name.startsWith(`${entry.name}-`),
      )
      // `listener-evm` must not count `listener-evm-2` as its instance: singletons have none.
      expect(instances.length, entry.name).toBe(isSingleton(entry) ? 1 : MAX_INSTANCES)
    }
    expect(processes.filter((entry) => entry.name.startsWith('consumer-audit'))).toHaveLength(1)
    expect(processes.filter((entry) => entry.name.startsWith('gateway'))).toHaveLength(MAX_INSTANCES)
    const gatewayPorts = processes
      .filter((entry) => entry.name.startsWith('gateway'))
      .map((entry) => {
        const at = entry.args.indexOf('--port')
        return at < 0 ? context.config.gateway.port : Number(entry.args[at + 1])
      })
    const stackPorts = new Set([
      ...Object.values(context.layout.ports),
      ...context.layout.kafkaNodes.flatMap((node) => [node.port, node.controllerPort]),
    ])
    const every = [...processes.map((entry) => entry.opsPort), ...gatewayPorts, ...stackPorts]
    expect(every.filter((port, index) => every.indexOf(port) !== index)).toEqual([])
    expect(new Set(processes.map((entry) => entry.name)).size).toBe(processes.length)
  })

  test('behavior: a later instance is told its ops port, and a gateway its API port and instance id', () => {
    const [ledger2] = pipelineProcesses(context, 2).filter((entry) => entry.name === 'consumer-ledger-2')
    const first = PIPELINE_PROCESSES.find((entry) => entry.name === 'consumer-ledger')!
    expect(ledger2).toEqual({
      name: 'consumer-ledger-2',
      args: [...first.args, '--ops-port', String(first.opsPort + 100)],
      opsPort: first.opsPort + 100,
      instanceOf: 'consumer-ledger',
    })
    const gateway3 = pipelineProcesses(context, 3).find((entry) => entry.name === 'gateway-3')!
    expect(gateway3.args).toEqual(
      expect.arrayContaining(['--port', String(context.config.gateway.port + 200)]),
    )
    expect(gateway3.env).toEqual({ VERIDIS_GATEWAY_INSTANCE_ID: 'gateway-3' })
  })

  test('behavior: Prometheus scrapes every instance in the job of the process it is an instance of', () => {
    const targets = scrapeTargets(context, pipelineProcesses(context, 3))
    const ledger = PIPELINE_PROCESSES.find((entry) => entry.name === 'consumer-ledger')!
    expect(targets.filter((target) => target.job === 'consumer-ledger').map((target) => target.url)).toEqual(
      [0, 100, 200].map((shift) => `http://127.0.0.1:${ledger.opsPort + shift}/metrics`),
    )
    expect(targets.filter((target) => target.job === 'gateway')).toHaveLength(3)
    expect(targets.filter((target) => target.job === 'consumer-audit')).toHaveLength(1)
    expect(targets.some((target) => /-\d$/.test(target.job))).toBe(false)
    // One scrape config per job, its instances its targets (rules select by job).
    const rendered = renderScrapeConfigs(targets)
    expect(rendered.match(/job_name: "consumer-ledger"/g)).toHaveLength(1)
    expect(rendered).toContain(
      `targets: ["127.0.0.1:${ledger.opsPort}", "127.0.0.1:${ledger.opsPort + 100}", "127.0.0.1:${ledger.opsPort + 200}"]`,
    )
  })

  test('error: a count outside 1…MAX_INSTANCES is refused with the range', () => {
    for (const count of [0, MAX_INSTANCES + 1, 1.5, Number.NaN])
      expect(() => pipelineProcesses(context, count)).toThrow(`from 1 to ${MAX_INSTANCES}`)
  })
})
