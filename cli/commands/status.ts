import type { Command } from 'commander'
import { pipelineStatus } from '../../infra/stack/pipeline.ts'
import { stackStatus } from '../../infra/stack/stack.ts'
import { localContext, printTable } from '../local-stack.ts'

export function registerStatusCommand(program: Command) {
  program
    .command('status')
    .description('show the stack and pipeline processes')
    .action(async () => {
      const { context } = localContext()
      printTable([...(await stackStatus(context)), ...(await pipelineStatus(context))])
    })
}
