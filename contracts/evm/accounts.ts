import { HDNodeWallet, Mnemonic, type Provider } from 'ethers'

/**
 * Anvil's development accounts, derived from the public, well-known anvil mnemonic. For local
 * chains only: these keys guard nothing, and are never logged or written anywhere.
 *
 * Who uses which index, so parallel work on the same local chains never shares a nonce:
 */
export const DEV_ACCOUNT = {
  /** Deploys the contracts and is their admin. */
  deployer: 0,
  /** Holds ISSUER on the AttestationRegistry and PROTOCOL on the NullifierRegistry. */
  protocol: 1,
  /** Sends bridge transfers in tests. */
  user: 2,
  /** The initial guardian set of every BridgeGateway (threshold 2 of 3). */
  guardians: [3, 4, 5],
  /** Spare for tests of this package. */
  spare: [6, 7],
  /** The nullifier propagation relayer (RELAYER role on every NullifierRegistry). */
  relayer: 8,
  /** Reserved for the zero-knowledge work (verifier deployments and their tests). */
  zk: 9,
} as const

const ANVIL_MNEMONIC = [
  'test',
  'test',
  'test',
  'test',
  'test',
  'test',
  'test',
  'test',
  'test',
  'test',
  'test',
  'junk',
].join(' ')

/** The dev account at `index` (anvil's derivation path m/44'/60'/0'/0/index). */
export function devWallet(index: number, provider?: Provider): HDNodeWallet {
  const wallet = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), `m/44'/60'/0'/0/${index}`)
  return provider ? wallet.connect(provider) : wallet
}
