import { benchLagMonitor, printLagBench } from './lag-monitor.ts'
import { benchPipeline, printPipelineBench } from './pipeline.ts'

/** `bin/veridis bench <name> [--events N]`, or directly: node --import tsx bench/run.ts pipeline */
export async function runBench(
  name: string,
  options: { events?: number; rounds?: number; groups?: number; partitions?: number },
) {
  switch (name) {
    case 'pipeline': {
      const count = options.events ?? 100_000
      printPipelineBench(count, await benchPipeline(count, options.rounds ?? 3))
      return
    }
    case 'lag': {
      printLagBench(
        await benchLagMonitor({
          groups: options.groups ?? 50,
          partitions: options.partitions ?? 64,
          rounds: options.rounds ?? 15,
        }),
      )
      return
    }
    default:
      throw new Error(`unknown bench '${name}'; known: pipeline, lag`)
  }
}
