import { z } from 'zod'
import { integer } from './fields.ts'

export const zkSecrets = ['VERIDIS_PROVER_PRIVATE_KEY'] as const

export const zkVariables = {
  // Zero knowledge (consumers/prover, consumers/verifier, docs/zk.md).
  VERIDIS_PROVER_CONCURRENCY: integer(1, 64).default(2),
  VERIDIS_PROVER_CACHE_SIZE: integer(0, 1_000_000).default(1_000),
  VERIDIS_SEMAPHORE_DEPTH: integer(1, 32).default(20),
  VERIDIS_VERIFIER_BATCH_SIZE: integer(1, 4_096).default(64),
  // The Groth16 backend of the prover and the batch verifier (circuits/native.ts): `auto` takes
  // the native addon when it is built and falls back to snarkjs/ffjavascript; `native` requires it.
  VERIDIS_ZK_BACKEND: z.enum(['auto', 'native', 'snarkjs']).default('auto'),
  // Prove inputs travel sealed to the prover's X25519 key (core/crypto/prover-seal.ts).
  VERIDIS_PROVER_PRIVATE_KEY: z
    .string()
    .regex(
      /-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----/,
      'must be a PEM PKCS#8 X25519 private key',
    )
    .optional(),
  VERIDIS_PROVER_PUBLIC_KEY: z
    .string()
    .regex(
      /-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/,
      'must be a PEM SPKI X25519 public key',
    )
    .optional(),
}

type ZkEnvironment = z.infer<z.ZodObject<typeof zkVariables>>

export interface ZkConfig {
  /** Proofs computed at once by one prover process (the witness of one overlaps the MSMs of another). */
  readonly proverConcurrency: number
  /** Proof results remembered per prover process; 0 disables the cache. */
  readonly proofCacheSize: number
  /** Tree depth of the Semaphore artifacts used for IDENTITY_MEMBERSHIP. */
  readonly semaphoreDepth: number
  /** Most proofs verified in one random-linear-combination batch. */
  readonly verifyBatchSize: number
  /** Native addon or snarkjs for proving and batch verification (`auto`: native when built). */
  readonly backend: 'auto' | 'native' | 'snarkjs'
  /** Opens sealed prove inputs; only the prover needs it; never logged. Unset: a local key under VERIDIS_HOME. */
  readonly proverPrivateKey: string | undefined
  /** What writers of prove commands seal inputs to. Unset: derived from the (local) private key. */
  readonly proverPublicKey: string | undefined
}

export function zkConfig(env: ZkEnvironment): ZkConfig {
  return {
    proverConcurrency: env.VERIDIS_PROVER_CONCURRENCY,
    proofCacheSize: env.VERIDIS_PROVER_CACHE_SIZE,
    semaphoreDepth: env.VERIDIS_SEMAPHORE_DEPTH,
    verifyBatchSize: env.VERIDIS_VERIFIER_BATCH_SIZE,
    backend: env.VERIDIS_ZK_BACKEND,
    proverPrivateKey: env.VERIDIS_PROVER_PRIVATE_KEY,
    proverPublicKey: env.VERIDIS_PROVER_PUBLIC_KEY,
  }
}
