import { z } from 'zod'

/**
 * The devnet's predeployed accounts (seeded, so the same on every start), read from its dev
 * API. For local chains only: these keys guard nothing, and are never logged or written
 * anywhere. Who uses which index, mirroring the anvil accounts (contracts/evm/accounts.ts):
 */
export const STARKNET_DEV_ACCOUNT = {
  /** Declares and deploys the contracts and is their admin. */
  deployer: 0,
  /** Holds ISSUER on the AttestationRegistry and PROTOCOL on the NullifierRegistry. */
  protocol: 1,
  /** Spare for tests. */
  user: 2,
  spare: [6, 7],
  /** The nullifier propagation relayer (RELAYER on the NullifierRegistry). */
  relayer: 8,
} as const

const predeployedSchema = z.array(
  z.object({
    address: z.string().regex(/^0x[0-9a-fA-F]+$/),
    private_key: z.string().regex(/^0x[0-9a-fA-F]+$/),
  }),
)

export interface DevAccount {
  readonly address: string
  readonly privateKey: string
}

/** Every predeployed account of a devnet (devnet_getPredeployedAccounts). */
export async function devnetAccounts(rpcUrl: string): Promise<DevAccount[]> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'devnet_getPredeployedAccounts', params: {} }),
    signal: AbortSignal.timeout(10_000),
  })
  const payload = (await response.json()) as { result?: unknown; error?: { message?: string } }
  if (payload.error)
    throw new Error(`devnet_getPredeployedAccounts: ${payload.error.message ?? 'error'} (not a devnet?)`)
  return predeployedSchema
    .parse(payload.result)
    .map((account) => ({ address: account.address, privateKey: account.private_key }))
}

export async function devnetAccount(rpcUrl: string, index: number): Promise<DevAccount> {
  const account = (await devnetAccounts(rpcUrl))[index]
  if (!account) throw new Error(`the devnet has no predeployed account ${index}`)
  return account
}
