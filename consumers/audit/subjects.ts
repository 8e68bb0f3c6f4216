import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import * as snarkjs from 'snarkjs'
import { ERASURE } from '../../circuits/catalog.ts'
import { erasureInputs, type Hashers, pathBits, TOMBSTONE_TAG } from '../../circuits/inputs.ts'
import type { SubjectKeySource } from '../../core/crypto/command-seal.ts'
import { inTransaction, type Pool, type PoolClient } from '../../core/db/pool.ts'
import { NonRetryableError } from '../../core/errors.ts'
import type { ErasureTree } from './erasure-tree.ts'
import {
  type AuditKeys,
  dataKeyField,
  fieldOfHex,
  open,
  seal,
  subjectHashOf,
  UndecryptableError,
  unwrapDataKey,
  wrapDataKey,
} from './keys.ts'

export interface SubjectVault {
  readonly scope: string
  readonly keys: AuditKeys
  readonly tree: ErasureTree
  readonly poseidon: Hashers['poseidon']
}

const dataContext = (subjectHash: string, kind: string, reference: string) =>
  `subject-data:${subjectHash}:${kind}:${reference}`

/** The subject's data key, created (and committed to the erasure tree) on first use; null once erased. */
export async function dataKeyFor(
  client: PoolClient,
  vault: SubjectVault,
  subjectHash: string,
): Promise<Buffer | null> {
  const existing = await client.query<{ wrapped_key: Buffer | null }>(
    'SELECT wrapped_key FROM audit_subject_keys WHERE scope = $1 AND subject_hash = $2 FOR UPDATE',
    [vault.scope, subjectHash],
  )
  const row = existing.rows[0]
  if (row) return row.wrapped_key ? unwrapDataKey(vault.keys, subjectHash, row.wrapped_key) : null

  await vault.tree.lock(client, vault.scope)
  // Another writer (the gateway's sealer, another consumer) may have made it while we waited.
  const raced = await client.query<{ wrapped_key: Buffer | null }>(
    'SELECT wrapped_key FROM audit_subject_keys WHERE scope = $1 AND subject_hash = $2 FOR UPDATE',
    [vault.scope, subjectHash],
  )
  if (raced.rows[0]) {
    const wrapped = raced.rows[0].wrapped_key
    return wrapped ? unwrapDataKey(vault.keys, subjectHash, wrapped) : null
  }
  const { rows } = await client.query<{ next: string }>(
    'SELECT COALESCE(MAX(leaf_index) + 1, 0) AS next FROM audit_subject_keys WHERE scope = $1',
    [vault.scope],
  )
  const index = Number(rows[0]?.next ?? 0)
  if (index >= vault.tree.capacity) throw new NonRetryableError('the erasure tree is full')
  const dataKey = randomBytes(32)
  const commitment = vault.poseidon([fieldOfHex(subjectHash), dataKeyField(dataKey)])
  const siblings = await vault.tree.siblingsOf(client, vault.scope, index)
  await vault.tree.setLeaf(client, vault.scope, index, commitment, siblings)
  await client.query(
    `INSERT INTO audit_subject_keys (scope, subject_hash, wrapped_key, key_commitment, leaf_index)
     VALUES ($1, $2, $3, $4, $5)`,
    [vault.scope, subjectHash, wrapDataKey(vault.keys, subjectHash, dataKey), commitment.toString(), index],
  )
  return dataKey
}

/** The subject's data key as it is: the key, null once erased, undefined when none was ever made. */
export async function existingDataKey(
  client: PoolClient,
  vault: Pick<SubjectVault, 'scope' | 'keys'>,
  subjectHash: string,
): Promise<Buffer | null | undefined> {
  const { rows } = await client.query<{ wrapped_key: Buffer | null }>(
    'SELECT wrapped_key FROM audit_subject_keys WHERE scope = $1 AND subject_hash = $2',
    [vault.scope, subjectHash],
  )
  const row = rows[0]
  if (!row) return undefined
  return row.wrapped_key ? unwrapDataKey(vault.keys, subjectHash, row.wrapped_key) : null
}

/**
 * Subject keys for writers of commands (the gateway's sealer, core/crypto/command-seal.ts):
 * the key id is the subject's pseudonym, the key is made and committed to the erasure tree
 * on first use, and null once the subject is erased. The key never leaves the process.
 */
export function subjectKeySource(pool: Pool, vault: SubjectVault): SubjectKeySource {
  return {
    async keyFor(subjectId) {
      const keyId = subjectHashOf(vault.keys, subjectId)
      const dataKey = await inTransaction(pool, (client) => dataKeyFor(client, vault, keyId))
      return { keyId, dataKey }
    },
  }
}

/**
 * Keeps one piece of personal data encrypted under its subject's key. Returns false, storing
 * nothing, when the subject has been erased: erasure is final, new data is not taken in.
 */
export async function storeSubjectData(
  client: PoolClient,
  vault: SubjectVault,
  item: { subjectHash: string; kind: string; reference: string; plaintext: string; retainUntil: Date },
): Promise<boolean> {
  const dataKey = await dataKeyFor(client, vault, item.subjectHash)
  if (!dataKey) return false
  const { iv, ciphertext } = seal(
    dataKey,
    Buffer.from(item.plaintext, 'utf8'),
    dataContext(item.subjectHash, item.kind, item.reference),
  )
  await client.query(
    `INSERT INTO audit_subject_data (scope, subject_hash, kind, reference, iv, ciphertext, retain_until)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (scope, kind, reference) DO NOTHING`,
    [vault.scope, item.subjectHash, item.kind, item.reference, iv, ciphertext, item.retainUntil],
  )
  return true
}

export interface DecryptedItem {
  readonly kind: string
  readonly reference: string
  readonly storedAt: Date
  readonly retainUntil: Date
  readonly value: string
}

/** Decrypts everything kept about a subject; throws UndecryptableError once the key is gone. */
export async function readSubjectData(
  pool: Pool,
  vault: Pick<SubjectVault, 'scope' | 'keys'>,
  subjectHash: string,
): Promise<DecryptedItem[]> {
  const keyRow = await pool.query<{ wrapped_key: Buffer | null }>(
    'SELECT wrapped_key FROM audit_subject_keys WHERE scope = $1 AND subject_hash = $2',
    [vault.scope, subjectHash],
  )
  const { rows } = await pool.query<{
    kind: string
    reference: string
    iv: Buffer
    ciphertext: Buffer
    stored_at: Date
    retain_until: Date
  }>(
    `SELECT kind, reference, iv, ciphertext, stored_at, retain_until FROM audit_subject_data
     WHERE scope = $1 AND subject_hash = $2 ORDER BY id`,
    [vault.scope, subjectHash],
  )
  const wrapped = keyRow.rows[0]?.wrapped_key
  if (rows.length > 0 && !wrapped)
    throw new UndecryptableError('the subject was erased: its data key is destroyed')
  if (!wrapped) return []
  const dataKey = unwrapDataKey(vault.keys, subjectHash, wrapped)
  return rows.map((row) => ({
    kind: row.kind,
    reference: row.reference,
    storedAt: row.stored_at,
    retainUntil: row.retain_until,
    value: open(dataKey, row, dataContext(subjectHash, row.kind, row.reference)).toString('utf8'),
  }))
}

export type ErasureOutcome =
  | {
      readonly status: 'erased'
      readonly erasureId: string
      readonly oldRoot: string
      readonly newRoot: string
      readonly proofSha256: string
      readonly items: number
    }
  | { readonly status: 'already-erased'; readonly erasureId: string | null }
  | { readonly status: 'nothing-held' }

let erasureVkey: Promise<unknown> | undefined

/**
 * Cryptographic erasure: proves with the ERASURE circuit that the subject's key commitment
 * is replaced by its tombstone in the erasure tree, checks the proof, then destroys the
 * wrapped key and moves the tree, all in the caller's transaction (a failure anywhere
 * leaves the key and the tree as they were). The ciphertexts stay and are noise.
 */
export async function eraseSubject(
  client: PoolClient,
  vault: SubjectVault,
  request: { subjectHash: string; commandId: string },
): Promise<ErasureOutcome> {
  const { rows } = await client.query<{ wrapped_key: Buffer | null; leaf_index: string }>(
    'SELECT wrapped_key, leaf_index FROM audit_subject_keys WHERE scope = $1 AND subject_hash = $2 FOR UPDATE',
    [vault.scope, request.subjectHash],
  )
  const row = rows[0]
  if (!row) return { status: 'nothing-held' }
  if (!row.wrapped_key) {
    const previous = await client.query<{ erasure_id: string }>(
      'SELECT erasure_id FROM audit_erasures WHERE scope = $1 AND subject_hash = $2 ORDER BY erased_at LIMIT 1',
      [vault.scope, request.subjectHash],
    )
    return { status: 'already-erased', erasureId: previous.rows[0]?.erasure_id ?? null }
  }
  const dataKey = unwrapDataKey(vault.keys, request.subjectHash, row.wrapped_key)
  const index = Number(row.leaf_index)
  await vault.tree.lock(client, vault.scope)
  const siblings = await vault.tree.siblingsOf(client, vault.scope, index)
  const subjectField = fieldOfHex(request.subjectHash)
  const { inputs, oldRoot, newRoot } = erasureInputs(vault.poseidon, {
    subjectHash: subjectField,
    dataKey: dataKeyField(dataKey),
    siblings,
    pathIndices: pathBits(index),
  })
  const currentRoot = await vault.tree.root(client, vault.scope)
  if (currentRoot !== oldRoot) {
    throw new NonRetryableError('the erasure tree does not hold this subject key commitment at its leaf')
  }
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(
    inputs,
    ERASURE.artifacts.wasm,
    ERASURE.artifacts.zkey,
  )
  erasureVkey ??= readFile(ERASURE.artifacts.vkey, 'utf8').then(JSON.parse)
  const verified = await snarkjs.groth16.verify(await erasureVkey, publicSignals, proof)
  if (!verified) throw new NonRetryableError('the erasure proof does not verify')
  const tombstone = vault.poseidon([TOMBSTONE_TAG, subjectField])
  const movedRoot = await vault.tree.setLeaf(client, vault.scope, index, tombstone, siblings)
  if (movedRoot !== newRoot)
    throw new NonRetryableError('the erasure tree moved to another root than the proof states')

  const proofJson = JSON.stringify(proof)
  const proofSha256 = createHash('sha256').update(proofJson).digest('hex')
  const erasureId = `erasure:${request.commandId}`
  await client.query(
    `UPDATE audit_subject_keys SET wrapped_key = NULL, erased_at = now() WHERE scope = $1 AND subject_hash = $2`,
    [vault.scope, request.subjectHash],
  )
  const held = await client.query('SELECT 1 FROM audit_subject_data WHERE scope = $1 AND subject_hash = $2', [
    vault.scope,
    request.subjectHash,
  ])
  await client.query(
    `INSERT INTO audit_erasures (scope, erasure_id, subject_hash, command_id, leaf_index, old_root, new_root,
       proof, public_signals, verified)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true)`,
    [
      vault.scope,
      erasureId,
      request.subjectHash,
      request.commandId,
      index,
      oldRoot.toString(),
      newRoot.toString(),
      proofJson,
      JSON.stringify(publicSignals),
    ],
  )
  return {
    status: 'erased',
    erasureId,
    oldRoot: oldRoot.toString(),
    newRoot: newRoot.toString(),
    proofSha256,
    items: held.rowCount ?? 0,
  }
}
