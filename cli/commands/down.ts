import type { Command } from 'commander'
import { jaegerService } from '../../infra/stack/jaeger.ts'
import { pipelineDown } from '../../infra/stack/pipeline.ts'
import { stackDown } from '../../infra/stack/stack.ts'
import { localContext } from '../local-stack.ts'

export function registerDownCommand(program: Command) {
  program
    .command('down')
    .description('stop every pipeline process and the local stack')
    .action(async () => {
      const { context } = localContext()
      await pipelineDown(context)
      // Started by `up --tracing` only; stopping it when it is not running says so and does nothing.
      context.progress(`jaeger: ${await jaegerService.stop(context)}`)
      await stackDown(context)
    })
}
