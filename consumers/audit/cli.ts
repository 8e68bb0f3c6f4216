import { terminateCurves } from '../../circuits/curve.ts'
import { connectBus } from '../../core/bus/connect.ts'
import { createCommon } from '../../core/context.ts'
import { createPool } from '../../core/db/pool.ts'
import { exportSubject } from './export.ts'
import { auditPlacement } from './index.ts'
import { loadAuditKeys } from './keys.ts'
import { replayAudit } from './replay.ts'

/** `veridis audit replay`: exit code 0 when every chain verifies, 2 when a problem is found. */
export async function runAuditReplay(options: {
  fromOffset?: string
  fromTime?: string
  topic?: string
  rebuild: boolean
  json: boolean
}) {
  const common = createCommon('cli-audit')
  const bus = connectBus(common)
  const pool = createPool(common.config.database, common.logger, 'veridis-audit-replay')
  try {
    const fromTime = options.fromTime === undefined ? undefined : Date.parse(options.fromTime)
    if (fromTime !== undefined && Number.isNaN(fromTime))
      throw new Error('--from-time: not a date (ISO 8601)')
    if (options.fromOffset !== undefined && !/^\d+$/.test(options.fromOffset))
      throw new Error('--from-offset: must be a non-negative whole number')
    const report = await replayAudit(bus, pool, {
      topic: options.topic,
      fromOffset: options.fromOffset,
      fromTime,
      rebuild: options.rebuild,
    })
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else {
      process.stdout.write(
        `${report.topic}: ${report.records} records read${report.fromStart ? ' from the beginning' : ''}\n`,
      )
      for (const chain of report.chains.sort((a, b) => a.partition - b.partition)) {
        process.stdout.write(
          `  partition ${chain.partition}: offsets ${chain.fromOffset}–${chain.endOffset}, ${chain.records} records, ${chain.verified} verified, next sequence ${chain.nextSequence}\n`,
        )
      }
      for (const problem of report.problems)
        process.stdout.write(`  ${problem.kind.toUpperCase()}: ${problem.message}\n`)
      process.stdout.write(
        report.ok ? 'every chain verifies\n' : `${report.problems.length} problem(s) found\n`,
      )
    }
    if (!report.ok) process.exitCode = 2
  } finally {
    await pool.end()
  }
}

/** `veridis audit export --subject <id>`: the subject's access report as JSON. */
export async function runAuditExport(options: { subject: string; requestedBy: string }) {
  const common = createCommon('cli-audit')
  const bus = connectBus(common)
  const pool = createPool(common.config.database, common.logger, 'veridis-audit-export')
  try {
    const report = await exportSubject(pool, {
      keys: loadAuditKeys(common.config),
      placement: await auditPlacement(bus),
      subjectId: options.subject,
      requestedBy: options.requestedBy,
    })
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  } finally {
    await pool.end()
    await terminateCurves()
  }
}
