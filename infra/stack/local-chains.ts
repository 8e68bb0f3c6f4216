import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { readDeployment } from '../../contracts/evm/deploy.ts'
import { readStarknetDeployment } from '../../contracts/starknet/deploy.ts'
import { type EvmChainEntry, FinalityRule, localEvmChainsFile } from '../../producers/chains/evm/config.ts'
import {
  localStarknetChainsFile,
  type StarknetChainEntry,
  StarknetFinalityRule,
} from '../../producers/chains/starknet/config.ts'
import { anvilRpcUrl, anvilWsUrl, LOCAL_ANVILS } from './anvil.ts'
import { devnetRpcUrl, devnetWsUrl, LOCAL_DEVNET } from './starknet-devnet.ts'

/**
 * The local chains the stack started, written as configuration data for the listeners and
 * writers (`<VERIDIS_HOME>/chains/<family>.json`), so that no production code imports the
 * dev stack: a listener reads local chains exactly as it reads any other configuration.
 */
export function writeLocalChainConfig(home: string): string {
  const entries: EvmChainEntry[] = LOCAL_ANVILS.map((anvil) => {
    const chain = `eip155:${anvil.chainId}`
    const deployment = readDeployment(home, chain)
    return {
      chain,
      rpcUrls: [anvilRpcUrl(anvil.port)],
      wsUrl: anvilWsUrl(anvil.port),
      // anvil's `finalized` tag trails 64 blocks; a few confirmations make reorg tests practical.
      finality: { rule: FinalityRule.confirmations, confirmations: 5 },
      maxBlockRange: 10_000,
      maxHeadBatch: 100,
      pollIntervalMs: 500,
      requestTimeoutMs: 5_000,
      ...(deployment
        ? {
            startBlock: deployment.startBlock,
            contracts: {
              attestationRegistry: deployment.contracts.AttestationRegistry,
              nullifierRegistry: deployment.contracts.NullifierRegistry,
              bridgeGateway: deployment.contracts.BridgeGateway,
            },
          }
        : {}),
    }
  })
  const file = localEvmChainsFile(home)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(entries, null, 2)}\n`)
  return file
}

/** The local devnet as a StarkNet configuration entry (`<VERIDIS_HOME>/chains/starknet.json`). */
export function writeLocalStarknetConfig(home: string): string {
  const chain = `starknet:${LOCAL_DEVNET.chainReference}`
  const deployment = readStarknetDeployment(home, chain)
  const entries: StarknetChainEntry[] = [
    {
      chain,
      rpcUrls: [devnetRpcUrl(LOCAL_DEVNET.port)],
      wsUrl: devnetWsUrl(LOCAL_DEVNET.port),
      // Blocks become ACCEPTED_ON_L1 when the stack's L1 clock accepts them (starknet-l1, every 10 s).
      finality: { rule: StarknetFinalityRule.acceptedOnL1 },
      // devnet's block hash does not commit to the block's contents (config.ts).
      blockIdentity: 'block-and-content',
      maxBlockRange: 1_000,
      maxHeadBatch: 50,
      pollIntervalMs: 500,
      requestTimeoutMs: 5_000,
      ...(deployment
        ? {
            startBlock: deployment.startBlock,
            contracts: {
              attestationRegistry: deployment.contracts.AttestationRegistry,
              nullifierRegistry: deployment.contracts.NullifierRegistry,
            },
          }
        : {}),
    },
  ]
  const file = localStarknetChainsFile(home)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(entries, null, 2)}\n`)
  return file
}
