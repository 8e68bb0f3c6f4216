/**
 * Avro unions of named records arrive from avsc wrapped in an object with one key, the
 * record's full name: `{ "io.veridis.command.ProveCommand": {...} }`. This is the one place
 * that unwraps them.
 */
export interface UnionBranch<T> {
  /** The record's short name: `ProveCommand`. */
  readonly type: string
  readonly value: T
}

/** The record types a generated union wrapper can hold (its other keys are `?: undefined`). */
type BranchValue<W> = W extends unknown ? NonNullable<W[keyof W]> : never

/** The branch a wrapped union value holds, or undefined for null or an empty wrapper. */
export function unionBranch<W extends object>(
  wrapped: W | null | undefined,
): UnionBranch<BranchValue<W>> | undefined {
  if (!wrapped) return undefined
  for (const [fullName, value] of Object.entries(wrapped)) {
    if (value === undefined) continue
    return { type: fullName.slice(fullName.lastIndexOf('.') + 1), value: value as BranchValue<W> }
  }
  return undefined
}
