import path from 'node:path'
import { rustAddon } from '../../../core/native/rust-addon.ts'
import { PROJECT_ROOT } from '../../../core/paths.ts'

/**
 * The native secp256k1 addon (producers/chains/evm/native: libsecp256k1 through napi), built
 * by infra/stack/native/rust-addon.sh evm-native. Signature recovery
 * (./bridge/release-signatures.ts) takes it when it is built and falls back to
 * tiny-secp256k1's WebAssembly build of the same library otherwise.
 */
export interface EvmNativeAddon {
  /**
   * Per 65-byte signature (r, s, recovery id) laid end to end: a status byte (0 recovered, 1
   * recovery id not 0–3, 2 r or s not below the curve order, 3 no public key for this digest)
   * and the 64-byte public key (x, y).
   */
  recoverPublicKeys(digest: Uint8Array, signatures: Uint8Array): Buffer
  /** The same for n signatures each over its own digest (n × 32 bytes), on libuv's thread pool. */
  recoverPublicKeysBatch(digests: Uint8Array, signatures: Uint8Array): Promise<Buffer>
}

export const evmNative = rustAddon<EvmNativeAddon>({
  name: 'evm-native',
  source: path.join(PROJECT_ROOT, 'producers', 'chains', 'evm', 'native'),
  library: 'veridis_evm_native',
})
