import { TREE_DEPTH } from '../../circuits/catalog.ts'
import { type Hashers, pathBits } from '../../circuits/inputs.ts'
import type { PoolClient } from '../../core/db/pool.ts'

/**
 * The erasure tree: a depth-20 Poseidon tree (circuits/src/merkle.circom) of data-key
 * commitments, kept in Postgres as the nodes that differ from the empty tree. Its root
 * moves exactly when a key is created or erased, and the erasure proof shows the move.
 */
export function createErasureTree(poseidon: Hashers['poseidon']) {
  const zeros: bigint[] = [0n]
  for (let level = 0; level < TREE_DEPTH; level++) zeros.push(poseidon([zeros[level]!, zeros[level]!]))

  /** Serialises every change to one scope's tree until the caller's transaction ends. */
  const lock = (client: PoolClient, scope: string) =>
    client.query(`SELECT pg_advisory_xact_lock(hashtext('veridis.audit.erasure-tree'), hashtext($1))`, [
      scope,
    ])

  async function siblingsOf(client: PoolClient, scope: string, index: number): Promise<bigint[]> {
    const wanted = Array.from({ length: TREE_DEPTH }, (_, level) => ({
      level,
      index: Math.floor(index / 2 ** level) ^ 1,
    }))
    const { rows } = await client.query<{ level: number; node_index: string; hash: string }>(
      `SELECT level, node_index, hash FROM audit_erasure_tree t
       JOIN unnest($2::int[], $3::bigint[]) AS w(level, node_index) USING (level, node_index)
       WHERE t.scope = $1`,
      [scope, wanted.map((w) => w.level), wanted.map((w) => w.index)],
    )
    const found = new Map(rows.map((row) => [`${row.level}:${row.node_index}`, BigInt(row.hash)]))
    return wanted.map((w) => found.get(`${w.level}:${w.index}`) ?? zeros[w.level]!)
  }

  async function root(client: PoolClient, scope: string): Promise<bigint> {
    const { rows } = await client.query<{ hash: string }>(
      'SELECT hash FROM audit_erasure_tree WHERE scope = $1 AND level = $2 AND node_index = 0',
      [scope, TREE_DEPTH],
    )
    return rows[0] ? BigInt(rows[0].hash) : zeros[TREE_DEPTH]!
  }

  /** Writes a leaf and the nodes above it; returns the new root. Call under `lock`. */
  async function setLeaf(client: PoolClient, scope: string, index: number, leaf: bigint, siblings: bigint[]) {
    const levels: number[] = []
    const indices: number[] = []
    const hashes: string[] = []
    const bits = pathBits(index)
    let node = leaf
    for (let level = 0; level <= TREE_DEPTH; level++) {
      levels.push(level)
      indices.push(Math.floor(index / 2 ** level))
      hashes.push(node.toString())
      if (level === TREE_DEPTH) break
      const sibling = siblings[level]!
      node = bits[level] ? poseidon([sibling, node]) : poseidon([node, sibling])
    }
    await client.query(
      `INSERT INTO audit_erasure_tree (scope, level, node_index, hash)
       SELECT $1, unnest($2::int[]), unnest($3::bigint[]), unnest($4::text[])
       ON CONFLICT (scope, level, node_index) DO UPDATE SET hash = EXCLUDED.hash`,
      [scope, levels, indices, hashes],
    )
    return node
  }

  return { zeros, lock, siblingsOf, root, setLeaf, capacity: 2 ** TREE_DEPTH }
}

export type ErasureTree = ReturnType<typeof createErasureTree>
