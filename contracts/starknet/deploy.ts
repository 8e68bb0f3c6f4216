import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Account, RpcProvider, shortString, logger as starknetLogger } from 'starknet'
import { z } from 'zod'
import { devnetAccounts, STARKNET_DEV_ACCOUNT } from './accounts.ts'
import { loadStarknetArtifact, type StarknetContractName } from './build.ts'

/**
 * Declares and deploys the Veridis Cairo contracts on a local devnet and records where they
 * are in `<VERIDIS_HOME>/deployments/starknet_<chain>.json`, as the EVM deployments are
 * recorded. Idempotent: when both recorded addresses still run the current classes,
 * nothing happens. The predeployed account 0 declares, deploys and is the admin; roles go
 * to the protocol account (ISSUER, PROTOCOL) and the relayer (RELAYER).
 */
export const STARKNET_CONTRACTS = ['AttestationRegistry', 'NullifierRegistry'] as const

export const ROLE = {
  issuer: shortString.encodeShortString('veridis.attestation.ISSUER'),
  protocol: shortString.encodeShortString('veridis.nullifier.PROTOCOL'),
  relayer: shortString.encodeShortString('veridis.nullifier.RELAYER'),
} as const

const address = z.string().regex(/^0x[0-9a-f]{64}$/)
const deploymentSchema = z.object({
  chain: z.string().regex(/^starknet:/),
  startBlock: z.number().int().nonnegative(),
  deployedAt: z.string(),
  contracts: z.object({ AttestationRegistry: address, NullifierRegistry: address }),
  classHashes: z.object({ AttestationRegistry: z.string(), NullifierRegistry: z.string() }),
  roles: z.object({ admin: address, protocol: address, relayer: address }),
})
export type StarknetDeployment = z.infer<typeof deploymentSchema>

export const starknetDeploymentFile = (home: string, chain: string) =>
  path.join(home, 'deployments', `${chain.replace(':', '_')}.json`)

export function readStarknetDeployment(home: string, chain: string): StarknetDeployment | undefined {
  const file = starknetDeploymentFile(home, chain)
  if (!existsSync(file)) return undefined
  const parsed = deploymentSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')))
  return parsed.success ? parsed.data : undefined
}

function writeDeployment(home: string, deployment: StarknetDeployment) {
  const file = starknetDeploymentFile(home, deployment.chain)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(`${file}.tmp`, `${JSON.stringify(deployment, null, 2)}\n`)
  renameSync(`${file}.tmp`, file)
}

export const padAddress = (value: string) => `0x${BigInt(value).toString(16).padStart(64, '0')}`

/** A short string chain id (0x534e5f...) as text, for the CAIP-2 id. */
function chainReferenceOf(chainId: string): string {
  return shortString.decodeShortString(chainId)
}

/** starknet.js warns about tip statistics on every fresh devnet; its errors still surface. */
export function quietStarknetJs() {
  starknetLogger.setLogLevel('ERROR')
}

export function devnetProvider(rpcUrl: string): RpcProvider {
  return new RpcProvider({ nodeUrl: rpcUrl })
}

async function isCurrent(provider: RpcProvider, deployment: StarknetDeployment): Promise<boolean> {
  for (const name of STARKNET_CONTRACTS) {
    try {
      const classHash = await provider.getClassHashAt(deployment.contracts[name])
      if (BigInt(classHash) !== BigInt(loadStarknetArtifact(name).classHash)) return false
    } catch {
      return false
    }
  }
  return true
}

export async function ensureStarknetDeployed(options: {
  rpcUrl: string
  home: string
}): Promise<{ deployment: StarknetDeployment; outcome: 'deployed' | 'already deployed' }> {
  quietStarknetJs()
  const provider = devnetProvider(options.rpcUrl)
  const chain = `starknet:${chainReferenceOf(await provider.getChainId())}`
  const existing = readStarknetDeployment(options.home, chain)
  if (existing && (await isCurrent(provider, existing)))
    return { deployment: existing, outcome: 'already deployed' }
  const deployment = await deployStarknetContracts(options.rpcUrl, chain)
  writeDeployment(options.home, deployment)
  return { deployment, outcome: 'deployed' }
}

/** Fresh declaration (when needed) and deployment of both contracts, roles granted. */
export async function deployStarknetContracts(rpcUrl: string, chain: string): Promise<StarknetDeployment> {
  quietStarknetJs()
  const provider = devnetProvider(rpcUrl)
  const accounts = await devnetAccounts(rpcUrl)
  const pick = (index: number) => {
    const account = accounts[index]
    if (!account) throw new Error(`the devnet has no predeployed account ${index}`)
    return account
  }
  const deployer = pick(STARKNET_DEV_ACCOUNT.deployer)
  const admin = new Account({ provider, address: deployer.address, signer: deployer.privateKey })
  const wait = (hash: string) => provider.waitForTransaction(hash, { retryInterval: 100 })
  const startBlock = (await provider.getBlockNumber()) + 1

  const contracts = {} as Record<StarknetContractName, string>
  const classHashes = {} as Record<StarknetContractName, string>
  for (const name of STARKNET_CONTRACTS) {
    const artifact = loadStarknetArtifact(name)
    const declared = await admin.declareIfNot({
      contract: artifact.sierra as never,
      casm: artifact.casm as never,
    })
    if (declared.transaction_hash) await wait(declared.transaction_hash)
    const deployed = await admin.deployContract({
      classHash: declared.class_hash,
      constructorCalldata: [deployer.address],
      unique: false,
      salt: `0x${Date.now().toString(16)}`,
    })
    await wait(deployed.transaction_hash)
    contracts[name] = padAddress(deployed.contract_address)
    classHashes[name] = declared.class_hash
  }
  const protocol = padAddress(pick(STARKNET_DEV_ACCOUNT.protocol).address)
  const relayer = padAddress(pick(STARKNET_DEV_ACCOUNT.relayer).address)
  const granted = await admin.execute([
    {
      contractAddress: contracts.AttestationRegistry,
      entrypoint: 'grant_role',
      calldata: [ROLE.issuer, protocol],
    },
    {
      contractAddress: contracts.NullifierRegistry,
      entrypoint: 'grant_role',
      calldata: [ROLE.protocol, protocol],
    },
    {
      contractAddress: contracts.NullifierRegistry,
      entrypoint: 'grant_role',
      calldata: [ROLE.relayer, relayer],
    },
  ])
  await wait(granted.transaction_hash)
  return {
    chain,
    startBlock,
    deployedAt: new Date().toISOString(),
    contracts,
    classHashes,
    roles: { admin: padAddress(deployer.address), protocol, relayer },
  }
}
