import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { readDeployment } from '../../contracts/evm/deploy.ts'
import { localBridgeConfigFile } from '../../core/bridge/config.ts'
import { anvilRpcUrl, LOCAL_ANVILS } from './anvil.ts'

/**
 * The bridge guard's configuration for the local gateways, written by `up` beside the local
 * chains' (`<VERIDIS_HOME>/bridges.json`): one bridge over both anvils, its token, the deployer
 * as governance and each guardian as its own operator.
 *
 * Locally each chain has one node, so source confirmation asks one endpoint
 * (`minConfirmations: 1`); production configurations name at least two independently run
 * endpoints per chain (the default is 2, docs/bridge-guard.md).
 */
export function writeLocalBridgeConfig(home: string): string | undefined {
  const deployments = LOCAL_ANVILS.map((anvil) => ({
    anvil,
    deployment: readDeployment(home, `eip155:${anvil.chainId}`),
  }))
  if (deployments.some(({ deployment }) => !deployment)) return undefined
  const chains = Object.fromEntries(
    deployments.map(({ anvil }) => [
      `eip155:${anvil.chainId}`,
      { rpcUrls: [anvilRpcUrl(anvil.port)], minConfirmations: 1 },
    ]),
  )
  const first = deployments[0]!.deployment!
  const config = {
    chains,
    bridges: [
      {
        id: 'veridis-local',
        kind: 'guardian-quorum',
        gateways: Object.fromEntries(
          deployments.map(({ deployment }) => [deployment!.chain, deployment!.contracts.BridgeGateway]),
        ),
        startBlocks: Object.fromEntries(
          deployments.map(({ deployment }) => [deployment!.chain, deployment!.startBlock]),
        ),
        minThreshold: first.roles.threshold,
        governance: { senders: [...new Set(deployments.map(({ deployment }) => deployment!.roles.admin))] },
        operators: Object.fromEntries(
          first.roles.guardians.map((guardian, index) => [guardian, `guardian-operator-${index + 1}`]),
        ),
        tokens: [
          {
            symbol: 'vBRG',
            addresses: Object.fromEntries(
              deployments.map(({ deployment }) => [deployment!.chain, deployment!.contracts.BridgeToken]),
            ),
            singleTransferLimit: (10n ** 23n).toString(),
            dailyLimit: (10n ** 24n).toString(),
          },
        ],
      },
    ],
  }
  const file = localBridgeConfigFile(home)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`)
  return file
}
