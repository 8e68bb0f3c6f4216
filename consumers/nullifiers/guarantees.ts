import { type ChainFamily, familyOfChain } from '../../core/chains.ts'

/**
 * What each family's chain itself enforces about one use per (scope, nullifier), and what
 * rests on the word of whoever wrote the use. A double-use alert states it for both chains,
 * so whoever reads it knows which half of the evidence the chain vouches for. One line per
 * family; a family without one is described as relayer-attested.
 */
const GUARANTEES: Partial<Record<ChainFamily, string>> = {
  evm: 'the NullifierRegistry contract refuses a second use on this chain',
  starknet: 'the Cairo NullifierRegistry refuses a second use on this chain',
  cosmos: 'the Veridis CosmWasm registry refuses a second use on this chain',
  solana:
    'the System program refuses a second marker account for this (scope, nullifier) under the registry authority; proof verification and the memo contents are relayer-attested',
  polkadot:
    "the multisig pallet refuses a second use key for this (scope, nullifier) in the Veridis writers' multisig account; proof verification and the remark contents are writer-attested",
}

export function uniquenessGuarantee(chain: string): string {
  const family = familyOfChain(chain)
  return (
    (family && GUARANTEES[family]) ??
    'relayer-attested: the chain records the use, uniqueness is enforced by the Veridis consumer'
  )
}
