/**
 * The chains Veridis knows, by CAIP-2 id. Listeners and propagation writers are chosen by
 * `family`; adding a chain of a known family is an entry here plus configuration.
 */
export const ChainFamily = {
  evm: 'evm',
  starknet: 'starknet',
  cosmos: 'cosmos',
  solana: 'solana',
  polkadot: 'polkadot',
} as const
export type ChainFamily = (typeof ChainFamily)[keyof typeof ChainFamily]

export interface KnownChain {
  readonly id: string
  readonly name: string
  readonly family: ChainFamily
  readonly local?: boolean
}

export const KNOWN_CHAINS = [
  { id: 'eip155:1', name: 'Ethereum', family: 'evm' },
  { id: 'eip155:137', name: 'Polygon PoS', family: 'evm' },
  { id: 'eip155:56', name: 'BNB Smart Chain', family: 'evm' },
  { id: 'eip155:43114', name: 'Avalanche C-Chain', family: 'evm' },
  { id: 'eip155:42161', name: 'Arbitrum One', family: 'evm' },
  { id: 'eip155:10', name: 'OP Mainnet', family: 'evm' },
  { id: 'eip155:250', name: 'Fantom Opera', family: 'evm' },
  { id: 'eip155:8453', name: 'Base', family: 'evm' },
  { id: 'starknet:SN_MAIN', name: 'StarkNet', family: 'starknet' },
  { id: 'cosmos:cosmoshub-4', name: 'Cosmos Hub', family: 'cosmos' },
  { id: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp', name: 'Solana', family: 'solana' },
  { id: 'polkadot:91b171bb158e2d3848fa23a9f1c25182', name: 'Polkadot', family: 'polkadot' },
  // Local development chains started by `veridis stack up` (two anvils with different ids).
  { id: 'eip155:31337', name: 'Local EVM A', family: 'evm', local: true },
  { id: 'eip155:31338', name: 'Local EVM B', family: 'evm', local: true },
  // The local starknet-devnet (a custom chain id, so it is never mistaken for a public network).
  { id: 'starknet:VERIDIS_DEV', name: 'Local StarkNet devnet', family: 'starknet', local: true },
  // The local wasmd (infra/stack/wasmd.ts): a chain id of its own, never a public network's.
  { id: 'cosmos:veridis-local-1', name: 'Local Cosmos (wasmd)', family: 'cosmos', local: true },
  // The local chopsticks chain: block 0 of a chain started from a spec is 0x4545…45 (infra/stack/chopsticks.ts).
  {
    id: 'polkadot:45454545454545454545454545454545',
    name: 'Local Polkadot (chopsticks)',
    family: 'polkadot',
    local: true,
  },
] as const satisfies readonly KnownChain[]

/** The CAIP-2 namespace of each family: `eip155:1` is an EVM chain. */
const NAMESPACE_FAMILY: Readonly<Record<string, ChainFamily>> = {
  eip155: 'evm',
  starknet: 'starknet',
  cosmos: 'cosmos',
  solana: 'solana',
  polkadot: 'polkadot',
}

/** The family a CAIP-2 id belongs to, by its namespace; undefined for a namespace Veridis does not follow. */
export function familyOfChain(chain: string): ChainFamily | undefined {
  return NAMESPACE_FAMILY[chain.slice(0, chain.indexOf(':'))]
}

const CAIP2 = /^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/

export function isCaip2(value: string): boolean {
  return CAIP2.test(value)
}

export function findChain(id: string): KnownChain | undefined {
  return KNOWN_CHAINS.find((chain) => chain.id === id)
}
