import { loadHashers } from '../../circuits/inputs.ts'
import type { Config } from '../../core/config/env.ts'
import { type CommandSealer, createCommandSealer } from '../../core/crypto/command-seal.ts'
import { loadProverPublicKey } from '../../core/crypto/prover-key.ts'
import type { Pool } from '../../core/db/pool.ts'
import { createErasureTree } from './erasure-tree.ts'
import { type AuditKeys, loadAuditKeys } from './keys.ts'
import { type SubjectVault, subjectKeySource } from './subjects.ts'

export { loadAuditKeys, subjectHashOf } from './keys.ts'

/** Where one scope keeps personal data: its keys, its erasure tree, Poseidon for both. */
export async function createVault(scope: string, keys: AuditKeys): Promise<SubjectVault> {
  const { poseidon } = await loadHashers()
  return { scope, keys, poseidon, tree: createErasureTree(poseidon) }
}

/**
 * The sealer a writer of commands uses (the gateway): subject fields under the subject's
 * key from this scope's vault (`scope` is the audit topic's name, as the audit consumer
 * keeps it), prove inputs to the prover's public key.
 */
export async function createCommandSealerFor(
  config: Config,
  pool: Pool,
  scope: string,
): Promise<CommandSealer> {
  const vault = await createVault(scope, loadAuditKeys(config))
  return createCommandSealer({
    subjectKeys: subjectKeySource(pool, vault),
    proverPublicKey: loadProverPublicKey(config),
  })
}
