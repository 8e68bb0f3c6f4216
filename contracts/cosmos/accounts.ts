/**
 * Development accounts of the local wasmd chain: BIP-44 coin type 118 keys of a public test
 * mnemonic (anvil's), funded in the genesis `veridis up` writes. They are public like anvil's
 * dev keys and exist on local chains only. Indices follow the EVM dev accounts
 * (contracts/evm/accounts.ts): 0 deploys (the registry's admin), 1 records uses (PROTOCOL),
 * 2 issues attestations (ISSUER), 8 relays (RELAYER).
 */
export const COSMOS_DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export const COSMOS_DEV_ACCOUNT = {
  deployer: 0,
  protocol: 1,
  issuer: 2,
  relayer: 8,
} as const

/** How many dev accounts the local genesis funds. */
export const COSMOS_DEV_ACCOUNTS = 10

/** The local chain's address prefix and its staking/fee denomination. */
export const WASMD_BECH32_PREFIX = 'wasm'
export const WASMD_DENOM = 'stake'
