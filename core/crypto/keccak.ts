import { keccak256 } from 'ethers'
import { createKeccak } from 'hash-wasm'

/**
 * Keccak-256 for everything ethers hashes in this process (addresses' EIP-55 checksums, which
 * ethers' ABI decoder computes for every address it reads, event and function selectors,
 * digests), computed by hash-wasm's WebAssembly build instead of @noble/hashes' JavaScript:
 * 1.3 against 19 µs for 256 bytes on this project's host. keccak was the largest single cost of
 * the bridge guard after signature recovery (docs/benchmarks.md, "Bridge guard"). ethers offers
 * `keccak256.register` for exactly this; keccak.test.ts holds the two equal on every input length
 * around the sponge's rate.
 *
 * Called once at start by each process (cli/main.ts, bench/main.ts); a process that does not
 * call it hashes with ethers' default, to the same result.
 */
let installed: Promise<void> | undefined

export function useWasmKeccak(): Promise<void> {
  installed ??= createWasmKeccak256().then((hash) => keccak256.register(hash))
  return installed
}

/** Keccak-256 of one input by hash-wasm, in the shape `keccak256.register` takes. */
export async function createWasmKeccak256(): Promise<(data: Uint8Array) => Uint8Array> {
  const hasher = await createKeccak(256)
  // One hasher, used synchronously from init to digest: no call can interleave with another.
  return (data) => {
    hasher.init()
    hasher.update(data)
    return hasher.digest('binary')
  }
}
