import type { ChainFamily } from '../../../core/chains.ts'
import type { Logger } from '../../../core/logging/logger.ts'
import type { ChainSource, FollowSettings } from './source.ts'

/**
 * What a chain family plugs into the pipeline (producers/chains/families.ts lists them):
 * its configured chains, read as data and validated at the edge, and a ChainSource per
 * chain for the listener engine. The CLI (`veridis listen <family>`), the stack's process
 * list and the nullifier writers all read the same registry.
 */
export interface FamilyChain<Config> {
  readonly chain: string
  /** Has endpoints configured: followed when no chain is named explicitly. */
  readonly enabled: boolean
  /** The complete configuration, or the one-line reason the chain cannot run. */
  readonly resolved: { readonly config: Config } | { readonly problem: string }
}

export interface SourceDeps {
  readonly logger: Logger
  /** Counts a failed RPC call against its (redacted) endpoint. */
  readonly onRpcError: (redactedUrl: string) => void
}

export interface ChainFamilyModule<Config extends FollowSettings = FollowSettings> {
  readonly family: ChainFamily
  /** Port of the family listener's /health, /ready and /metrics. */
  readonly listenerOpsPort: number
  /** Every chain of the family the configuration knows; throws ConfigError naming each problem. */
  loadChains(home: string, env?: NodeJS.ProcessEnv): ReadonlyMap<string, FamilyChain<Config>>
  createSource(config: Config, deps: SourceDeps): ChainSource
}
