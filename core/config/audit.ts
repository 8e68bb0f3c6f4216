import { z } from 'zod'
import { integer, isProduction, type RawEnvironment } from './fields.ts'

export const auditSecrets = ['VERIDIS_AUDIT_HMAC_KEY', 'VERIDIS_AUDIT_MASTER_KEY'] as const

export const auditVariables = {
  // The compliance-audit service (consumers/audit, docs/audit.md).
  VERIDIS_AUDIT_HMAC_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  VERIDIS_AUDIT_MASTER_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  VERIDIS_AUDIT_DATA_RETENTION_DAYS: integer(1, 36_500).default(365),
  VERIDIS_AUDIT_RETENTION_INTERVAL_MS: integer(1_000, 86_400_000).default(3_600_000),
}

type AuditEnvironment = z.infer<z.ZodObject<typeof auditVariables>>

export interface AuditConfig {
  /** Keys subject hashes (HMAC-SHA256); never logged. Unset: a local secret under VERIDIS_HOME. */
  readonly hmacKey: string | undefined
  /** Wraps the per-subject data keys; never logged. Unset: a local secret under VERIDIS_HOME. */
  readonly masterKey: string | undefined
  /** How long personal data is kept before the retention job purges it. */
  readonly dataRetentionDays: number
  /** How often the retention job runs. */
  readonly retentionIntervalMs: number
}

export function auditProblems(raw: RawEnvironment): string[] {
  const problems: string[] = []
  for (const name of auditSecrets) {
    if (isProduction(raw) && !raw[name]) {
      problems.push(`${name}: required in production (the local default is a file in VERIDIS_HOME)`)
    }
  }
  return problems
}

export function auditConfig(env: AuditEnvironment): AuditConfig {
  return {
    hmacKey: env.VERIDIS_AUDIT_HMAC_KEY,
    masterKey: env.VERIDIS_AUDIT_MASTER_KEY,
    dataRetentionDays: env.VERIDIS_AUDIT_DATA_RETENTION_DAYS,
    retentionIntervalMs: env.VERIDIS_AUDIT_RETENTION_INTERVAL_MS,
  }
}
