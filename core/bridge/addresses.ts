import { getAddress } from 'ethers'

/**
 * ethers' `getAddress` (the EIP-55 checksummed form, or a throw for what is not an address),
 * remembered. The bridge guard looks up the same few gateways, tokens and guardian keys for
 * every event, and each checksum costs a keccak: uncached, those lookups took about a tenth of
 * the guard's CPU (docs/benchmarks.md, "Bridge guard"). Bounded, first in first out: a flood of
 * distinct addresses only evicts, it never grows the map past `CAPACITY`.
 */
const CAPACITY = 4_096
const checksummed = new Map<string, string>()

export function checksumAddress(value: string): string {
  const known = checksummed.get(value)
  if (known !== undefined) return known
  const address = getAddress(value)
  if (checksummed.size >= CAPACITY) checksummed.delete(checksummed.keys().next().value!)
  checksummed.set(value, address)
  return address
}
