import { z } from 'zod'
import { isCaip2 } from '../chains.ts'
import { commaList, integer, isProduction, type RawEnvironment } from './fields.ts'

export const relayerSecrets = [
  'VERIDIS_RELAYER_EVM_PRIVATE_KEY',
  'VERIDIS_RELAYER_STARKNET_PRIVATE_KEY',
] as const

export const relayerVariables = {
  // Nullifier propagation (consumers/nullifiers, docs/nullifiers.md).
  VERIDIS_RELAYER_EVM_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex private key')
    .optional(),
  // The relayer's StarkNet account contract and its signing key (a Stark curve scalar).
  VERIDIS_RELAYER_STARKNET_ACCOUNT: z
    .string()
    .regex(/^0x[0-9a-fA-F]{1,64}$/, 'must be a 0x-prefixed StarkNet account address')
    .optional(),
  VERIDIS_RELAYER_STARKNET_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{1,64}$/, 'must be a 0x-prefixed StarkNet private key')
    .optional(),
  VERIDIS_RELAYER_CHAINS: commaList
    .pipe(z.array(z.string().refine(isCaip2, 'must be CAIP-2 chain ids (e.g. eip155:1)')))
    .optional(),
  VERIDIS_RELAYER_MAX_ATTEMPTS: integer(1, 100).default(5),
  VERIDIS_RELAYER_RECEIPT_TIMEOUT_MS: integer(1_000, 3_600_000).default(60_000),
  VERIDIS_RELAYER_FAULT: z.enum(['kill-after-sign', 'kill-after-broadcast']).optional(),
}

type RelayerEnvironment = z.infer<z.ZodObject<typeof relayerVariables>>

export interface RelayerConfig {
  /** Signs propagation writes on EVM chains; a secret, never logged. Unset: anvil dev account 8 (development only). */
  readonly evmPrivateKey: string | undefined
  /** The relayer's StarkNet account and key (a secret). Unset: the local devnet's predeployed account 8 (development only). */
  readonly starknet: { readonly account: string; readonly privateKey: string } | undefined
  /** Chains nullifier uses are propagated between; unset: every configured chain with a NullifierRegistry. */
  readonly chains: readonly string[] | undefined
  /** Failed tries of one propagation (before anything was sent) before it is reported FAILED. */
  readonly maxAttempts: number
  /** A sent propagation transaction not mined after this is reported in the log (it is still followed). */
  readonly receiptTimeoutMs: number
  /** Test-only crash point: the process kills itself there (tests of crash recovery). */
  readonly fault: 'kill-after-sign' | 'kill-after-broadcast' | undefined
}

export function relayerProblems(raw: RawEnvironment): string[] {
  if (isProduction(raw) && raw.VERIDIS_RELAYER_FAULT)
    return ['VERIDIS_RELAYER_FAULT: a test-only fault hook, refused in production']
  return []
}

export function relayerConfig(env: RelayerEnvironment): RelayerConfig {
  return {
    evmPrivateKey: env.VERIDIS_RELAYER_EVM_PRIVATE_KEY,
    starknet:
      env.VERIDIS_RELAYER_STARKNET_ACCOUNT && env.VERIDIS_RELAYER_STARKNET_PRIVATE_KEY
        ? {
            account: env.VERIDIS_RELAYER_STARKNET_ACCOUNT,
            privateKey: env.VERIDIS_RELAYER_STARKNET_PRIVATE_KEY,
          }
        : undefined,
    chains: env.VERIDIS_RELAYER_CHAINS,
    maxAttempts: env.VERIDIS_RELAYER_MAX_ATTEMPTS,
    receiptTimeoutMs: env.VERIDIS_RELAYER_RECEIPT_TIMEOUT_MS,
    fault: env.VERIDIS_RELAYER_FAULT,
  }
}
