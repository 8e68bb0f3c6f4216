import type { FamilyBench } from './family-bench.ts'

/**
 * The families `bin/veridis bench chains` measures, each loaded only when run (a family's
 * client libraries are heavy). One line per family; the module exports `benchFamily`.
 */
export const FAMILY_BENCHES: Readonly<Record<string, () => Promise<{ benchFamily: FamilyBench }>>> = {
  cosmos: () => import('./cosmos.ts'),
  starknet: () => import('./starknet.ts'),
  solana: () => import('./solana.ts'),
  polkadot: () => import('./polkadot.ts'),
}
