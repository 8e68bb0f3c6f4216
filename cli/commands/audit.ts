import type { Command } from 'commander'

export function registerAuditCommand(program: Command) {
  const audit = program.command('audit').description('the compliance-audit trail (docs/audit.md)')
  audit
    .command('replay')
    .description('re-read veridis.audit.v1, verify every hash chain, rebuild the Postgres projection')
    .option('--from-offset <offset>', 'start every partition at this offset')
    .option('--from-time <iso>', 'start at the first record at or after this time')
    .option('--topic <name>', 'verify another topic holding audit records (e.g. a copy)')
    .option('--no-rebuild', 'verify only; leave the projection as it is')
    .option('--json', 'print the report as JSON')
    .action(
      async (options: {
        fromOffset?: string
        fromTime?: string
        topic?: string
        rebuild: boolean
        json?: boolean
      }) => {
        const { runAuditReplay } = await import('../../consumers/audit/cli.ts')
        await runAuditReplay({ ...options, json: options.json ?? false })
      },
    )
  audit
    .command('export')
    .description("a data subject's access report: data held (decrypted), erasures, audit records")
    .requiredOption('--subject <id>', 'the data subject id')
    .option('--requested-by <name>', 'who asks, recorded on the audit trail', 'veridis-cli')
    .action(async (options: { subject: string; requestedBy: string }) => {
      const { runAuditExport } = await import('../../consumers/audit/cli.ts')
      await runAuditExport(options)
    })
}
