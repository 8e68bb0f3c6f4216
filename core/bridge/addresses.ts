import { getAddress } from 'ethers'
import { remembered } from '../remembered.ts'

/**
 * ethers' `getAddress` (the EIP-55 checksummed form, or a throw for what is not an address),
 * remembered. The bridge guard looks up the same few gateways, tokens and guardian keys for
 * every event, and each checksum costs a keccak: uncached, those lookups took about a tenth of
 * the guard's CPU (docs/benchmarks.md, "Bridge guard"). Bounded, first in first out: a flood of
 * distinct addresses only evicts (core/remembered.ts).
 */
export const checksumAddress: (value: string) => string = remembered(4_096, getAddress)
