import { loadHashers } from '../../circuits/inputs.ts'
import { createErasureTree } from './erasure-tree.ts'
import type { AuditKeys } from './keys.ts'
import type { SubjectVault } from './subjects.ts'

export { loadAuditKeys, subjectHashOf } from './keys.ts'

/** Where one scope keeps personal data: its keys, its erasure tree, Poseidon for both. */
export async function createVault(scope: string, keys: AuditKeys): Promise<SubjectVault> {
  const { poseidon } = await loadHashers()
  return { scope, keys, poseidon, tree: createErasureTree(poseidon) }
}
