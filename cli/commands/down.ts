import type { Command } from 'commander'
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
      await stackDown(context)
    })
}
