import { z } from 'zod'
import { integer } from './fields.ts'

export const lagVariables = {
  VERIDIS_LAG_POLL_MS: integer(200, 600_000).default(5_000),
  VERIDIS_LAG_WINDOW: integer(2, 1_000).default(10),
  VERIDIS_LAG_GROUP_FILTER: z
    .string()
    .refine(
      (value) => {
        try {
          new RegExp(value)
          return true
        } catch {
          return false
        }
      },
      { message: 'must be a regular expression' },
    )
    .optional(),
}

type LagEnvironment = z.infer<z.ZodObject<typeof lagVariables>>

export interface LagMonitorConfig {
  /** How often the cluster is polled. */
  readonly pollMs: number
  /** Observations per partition the status is judged over (Burrow's window). */
  readonly window: number
  /** Only groups whose id matches are watched. */
  readonly groupFilter: RegExp | undefined
}

export function lagConfig(env: LagEnvironment): LagMonitorConfig {
  return {
    pollMs: env.VERIDIS_LAG_POLL_MS,
    window: env.VERIDIS_LAG_WINDOW,
    groupFilter:
      env.VERIDIS_LAG_GROUP_FILTER === undefined ? undefined : new RegExp(env.VERIDIS_LAG_GROUP_FILTER),
  }
}
