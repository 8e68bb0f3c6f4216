/**
 * `compute`, remembered by its argument in a map bounded to `capacity` entries, first in first
 * out: a flood of distinct arguments only evicts, it never grows the map. For pure lookups on
 * hot paths that see the same few arguments again and again (address checksums, a gateway's
 * quorum answers). A throw is not remembered: the next call computes, and throws, again.
 */
export function remembered<Argument, Value>(
  capacity: number,
  compute: (argument: Argument) => Value,
): (argument: Argument) => Value {
  const known = new Map<Argument, Value>()
  return (argument) => {
    if (known.has(argument)) return known.get(argument) as Value
    const value = compute(argument)
    if (known.size >= capacity) known.delete(known.keys().next().value as Argument)
    known.set(argument, value)
    return value
  }
}
