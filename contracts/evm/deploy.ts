import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ContractFactory, type InterfaceAbi, type JsonRpcProvider, NonceManager } from 'ethers'
import { z } from 'zod'
import { DEV_ACCOUNT, devWallet } from './accounts.ts'
import { loadArtifact } from './build.ts'
import { openPollingProvider } from './provider.ts'

/**
 * Deploys the Veridis contracts to a local chain and records where they are in
 * `<VERIDIS_HOME>/deployments/<caip2>.json`. Everyone (listeners, relayers, tests) reads
 * addresses from that record; nothing hard-codes them. Idempotent: when every recorded
 * address still holds the code the current artifacts would deploy, nothing happens.
 */
export const DEPLOYED_CONTRACTS = [
  'AttestationRegistry',
  'NullifierRegistry',
  'BridgeGateway',
  'BridgeToken',
  // Verifies the Semaphore v4 proofs of NullifierRegistry.useNullifierWithProof.
  'SemaphoreDepth20Verifier',
] as const
export type DeployedContract = (typeof DEPLOYED_CONTRACTS)[number]

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const deploymentSchema = z.object({
  chain: z.string(),
  chainId: z.number().int(),
  /** First block the listener needs to read: the block of the first deployment. */
  startBlock: z.number().int().nonnegative(),
  deployedAt: z.string(),
  contracts: z.object(
    Object.fromEntries(DEPLOYED_CONTRACTS.map((name) => [name, address])) as Record<
      DeployedContract,
      typeof address
    >,
  ),
  roles: z.object({
    admin: address,
    protocol: address,
    relayer: address,
    guardians: z.array(address),
    threshold: z.number(),
  }),
})
export type Deployment = z.infer<typeof deploymentSchema>

export const deploymentsDir = (home: string) => path.join(home, 'deployments')
export const deploymentFile = (home: string, chain: string) =>
  path.join(deploymentsDir(home), `${chain.replace(':', '_')}.json`)

/** The recorded deployment of a chain, or undefined when there is none (or it is unreadable). */
export function readDeployment(home: string, chain: string): Deployment | undefined {
  const file = deploymentFile(home, chain)
  if (!existsSync(file)) return undefined
  const parsed = deploymentSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')))
  return parsed.success ? parsed.data : undefined
}

function writeDeployment(home: string, deployment: Deployment) {
  mkdirSync(deploymentsDir(home), { recursive: true })
  const file = deploymentFile(home, deployment.chain)
  // Write-then-rename: a reader never sees half a record.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(deployment, null, 2)}\n`)
  renameSync(`${file}.tmp`, file)
}

/** True when every recorded address holds exactly the runtime code of the current artifacts. */
async function isCurrent(provider: JsonRpcProvider, deployment: Deployment): Promise<boolean> {
  for (const name of DEPLOYED_CONTRACTS) {
    const code = await provider.getCode(deployment.contracts[name])
    if (code.toLowerCase() !== loadArtifact(name).deployedBytecode.toLowerCase()) return false
  }
  return true
}

export async function ensureDeployed(options: {
  rpcUrl: string
  home: string
  progress?: (message: string) => void
}): Promise<{ deployment: Deployment; outcome: 'deployed' | 'already deployed' }> {
  const provider = openPollingProvider(options.rpcUrl)
  try {
    const chainId = Number((await provider.getNetwork()).chainId)
    const chain = `eip155:${chainId}`
    const existing = readDeployment(options.home, chain)
    if (existing && (await isCurrent(provider, existing)))
      return { deployment: existing, outcome: 'already deployed' }
    const deployment = await deployAll(provider, chain, chainId)
    writeDeployment(options.home, deployment)
    options.progress?.(
      `${chain}: deployed ${DEPLOYED_CONTRACTS.map((name) => `${name} ${deployment.contracts[name]}`).join(', ')}`,
    )
    return { deployment, outcome: 'deployed' }
  } finally {
    await provider.close()
  }
}

/** Fresh deployment of every contract, roles granted, test funds minted. */
export async function deployAll(
  provider: JsonRpcProvider,
  chain: string,
  chainId: number,
): Promise<Deployment> {
  const deployer = new NonceManager(devWallet(DEV_ACCOUNT.deployer, provider))
  const admin = await deployer.getAddress()
  const protocol = devWallet(DEV_ACCOUNT.protocol).address
  const relayer = devWallet(DEV_ACCOUNT.relayer).address
  const guardians = DEV_ACCOUNT.guardians
    .map((index) => devWallet(index).address)
    .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
  const threshold = 2
  // The deployments land in the next block at the earliest.
  const startBlock = (await provider.getBlockNumber()) + 1

  const factory = (name: DeployedContract) => {
    const artifact = loadArtifact(name)
    return new ContractFactory(artifact.abi as InterfaceAbi, artifact.bytecode, deployer)
  }
  // Sent back to back (the nonce manager numbers them), then awaited together: one block.
  // The verifier's address is known once its deployment is sent, before it is mined.
  const membershipVerifier = await factory('SemaphoreDepth20Verifier').deploy()
  const attestation = await factory('AttestationRegistry').deploy(admin)
  const nullifier = await factory('NullifierRegistry').deploy(admin, await membershipVerifier.getAddress())
  const token = await factory('BridgeToken').deploy('Veridis Bridged Token', 'vBRG', admin)
  const gateway = await factory('BridgeGateway').deploy(admin, guardians, threshold)
  await Promise.all(
    [membershipVerifier, attestation, nullifier, token, gateway].map((contract) =>
      contract.waitForDeployment(),
    ),
  )

  const call = async (contract: typeof attestation, method: string, ...args: unknown[]) => {
    const fn = contract.getFunction(method)
    return fn.send(...args)
  }
  const issuerRole = await attestation.getFunction('ISSUER')()
  const protocolRole = await nullifier.getFunction('PROTOCOL')()
  const relayerRole = await nullifier.getFunction('RELAYER')()
  const gatewayAddress = await gateway.getAddress()
  const sent = [
    await call(attestation, 'grantRole', issuerRole, protocol),
    await call(nullifier, 'grantRole', protocolRole, protocol),
    await call(nullifier, 'grantRole', relayerRole, relayer),
    // Test funds for the spare accounts, and liquidity on the gateway for UNLOCK releases.
    ...(await Promise.all(
      [DEV_ACCOUNT.user, ...DEV_ACCOUNT.spare].map(async (index) =>
        call(token, 'mint', devWallet(index).address, 10n ** 24n),
      ),
    )),
    await call(token, 'mint', gatewayAddress, 10n ** 24n),
  ]
  await Promise.all(sent.map((tx) => tx.wait()))
  // Only now hand minting to the gateway: MINT releases come from it from here on.
  await (await call(token, 'setMinter', gatewayAddress)).wait()

  return {
    chain,
    chainId,
    startBlock,
    deployedAt: new Date().toISOString(),
    contracts: {
      AttestationRegistry: await attestation.getAddress(),
      NullifierRegistry: await nullifier.getAddress(),
      BridgeGateway: gatewayAddress,
      BridgeToken: await token.getAddress(),
      SemaphoreDepth20Verifier: await membershipVerifier.getAddress(),
    },
    roles: { admin, protocol, relayer, guardians, threshold },
  }
}
