import type { z } from 'zod'
import { integer, type RawEnvironment } from './fields.ts'

export const topicsVariables = {
  VERIDIS_TOPIC_PARTITIONS: integer(1, 10_000).default(3),
  VERIDIS_TOPIC_REPLICATION: integer(1, 16).default(1),
  VERIDIS_TOPIC_MIN_INSYNC_REPLICAS: integer(1, 16).default(1),
}

type TopicsEnvironment = z.infer<z.ZodObject<typeof topicsVariables>>

export interface TopicsConfig {
  readonly partitions: number
  readonly replication: number
  readonly minInsyncReplicas: number
}

export const rawNumber = (raw: RawEnvironment, name: string, fallback: number) =>
  raw[name] === undefined ? fallback : Number(raw[name])

export function topicsProblems(raw: RawEnvironment): string[] {
  if (rawNumber(raw, 'VERIDIS_TOPIC_MIN_INSYNC_REPLICAS', 1) > rawNumber(raw, 'VERIDIS_TOPIC_REPLICATION', 1))
    return ['VERIDIS_TOPIC_MIN_INSYNC_REPLICAS: cannot exceed VERIDIS_TOPIC_REPLICATION']
  return []
}

export function topicsConfig(env: TopicsEnvironment): TopicsConfig {
  return {
    partitions: env.VERIDIS_TOPIC_PARTITIONS,
    replication: env.VERIDIS_TOPIC_REPLICATION,
    minInsyncReplicas: env.VERIDIS_TOPIC_MIN_INSYNC_REPLICAS,
  }
}
