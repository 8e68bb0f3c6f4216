import type { ChainFamily } from '../../core/chains.ts'
import { ConfigError } from '../../core/config/env.ts'
import type { ChainFamilyModule } from './common/family.ts'
import { cosmosFamily } from './cosmos/family.ts'
import { evmFamily } from './evm/family.ts'
import { polkadotFamily } from './polkadot/family.ts'
import { solanaFamily } from './solana/family.ts'
import { starknetFamily } from './starknet/family.ts'

/**
 * The chain families the pipeline can follow, one folder each under producers/chains/.
 * Adding a family is a folder with its config, source and normaliser plus an entry here
 * (docs/chains.md); the CLI, the stack's process list and the nullifier writers read this.
 */
export const CHAIN_FAMILIES: Partial<Record<ChainFamily, ChainFamilyModule>> = {
  evm: evmFamily,
  starknet: starknetFamily,
  cosmos: cosmosFamily,
  polkadot: polkadotFamily,
  solana: solanaFamily,
}

export function chainFamily(name: string): ChainFamilyModule {
  const family = CHAIN_FAMILIES[name as ChainFamily]
  if (!family) {
    throw new ConfigError([
      `no listener for the chain family '${name}'; known: ${Object.keys(CHAIN_FAMILIES).join(', ')}`,
    ])
  }
  return family
}
