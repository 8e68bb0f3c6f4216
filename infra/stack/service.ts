import type { Config } from '../../core/config/env.ts'
import type { StackLayout } from './layout.ts'

export type Progress = (message: string) => void

/** One infrastructure service of the local stack. */
export interface StackService {
  readonly name: string
  /** Installs what a fresh machine lacks; cached, so a second call is quick. */
  install(context: StackContext): Promise<void>
  /** Starts the process if it is not running; returns without waiting for health. */
  start(context: StackContext): Promise<'started' | 'already running'>
  isHealthy(context: StackContext): Promise<boolean>
  stop(context: StackContext): Promise<string>
  pid(context: StackContext): number | undefined
  /** Extra lines for `status` (endpoints, data directory). */
  describe(context: StackContext): string
  readonly logFile: (context: StackContext) => string
}

export interface StackContext {
  readonly config: Config
  readonly layout: StackLayout
  readonly progress: Progress
}

/**
 * A local chain node of one family: a service of the stack, plus what makes it usable once
 * it is healthy (contracts or on-chain state deployed once, the family's configuration
 * written under <VERIDIS_HOME>/chains/, development keys among the local secrets).
 */
export interface ChainNode {
  readonly service: StackService
  prepare(context: StackContext): Promise<void>
}
