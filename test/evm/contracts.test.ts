import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Contract, getBytes, type HDNodeWallet, type InterfaceAbi, JsonRpcProvider } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { renderArtifacts, staleContractArtifacts } from '../../contracts/evm/build.ts'
import { DEPLOYED_CONTRACTS, readDeployment } from '../../contracts/evm/deploy.ts'
import { jsonRpcRequest } from '../../contracts/evm/provider.ts'
import { loadConfig } from '../../core/config/env.ts'
import { anvilRpcUrl, LOCAL_ANVILS } from '../../infra/stack/anvil.ts'
import { DEV_ACCOUNT, devWallet, startTestChain, type TestChain } from './support.ts'

/**
 * The Solidity contracts on a real anvil through ethers: role guards, the nullifier's
 * single use per chain, and the bridge's quorum, domain separation and replay protection.
 * Plus the build (several files, pragma ranges, snarkjs' clashing contract names) and the
 * stack's own chains having their deployments recorded.
 */
let c: TestChain

beforeAll(async () => {
  c = await startTestChain()
})

afterAll(async () => {
  await c?.stop()
})

/** Expects the call to revert with the named custom error. */
async function reverts(call: Promise<unknown>, error: string) {
  await expect(call).rejects.toThrow(new RegExp(error))
}

describe('NullifierRegistry', () => {
  test('behavior: records a use once per scope and answers isUsed', async () => {
    const registry = c.contract('NullifierRegistry')
    expect(await registry.getFunction('isUsed')(1n, 2n)).toBe(false)
    await (await registry.getFunction('recordUse')(1n, 2n, 3n)).wait()
    expect(await registry.getFunction('isUsed')(1n, 2n)).toBe(true)
    expect(await registry.getFunction('isUsed')(9n, 2n)).toBe(false)
    await reverts(registry.getFunction('recordUse').staticCall(1n, 2n, 3n), 'NullifierAlreadyUsed')
    // Another scope is another application: the same nullifier is free there.
    await (await registry.getFunction('recordUse')(9n, 2n, 3n)).wait()
  })

  test('error: only PROTOCOL records uses and only RELAYER relays, with an origin chain', async () => {
    const asUser = c.contract('NullifierRegistry', DEV_ACCOUNT.user)
    await reverts(asUser.getFunction('recordUse').staticCall(4n, 5n, 6n), 'MissingRole')
    await reverts(asUser.getFunction('recordRelayed').staticCall(4n, 5n, 6n, 'eip155:1'), 'MissingRole')
    const asProtocol = c.contract('NullifierRegistry')
    await reverts(asProtocol.getFunction('recordRelayed').staticCall(4n, 5n, 6n, 'eip155:1'), 'MissingRole')
    const asRelayer = c.contract('NullifierRegistry', DEV_ACCOUNT.relayer)
    await reverts(asRelayer.getFunction('recordRelayed').staticCall(4n, 5n, 6n, ''), 'EmptyOriginChain')
    await (await asRelayer.getFunction('recordRelayed')(4n, 5n, 6n, 'eip155:1')).wait()
    // A relayed use blocks a local one too: the nullifier is spent on this chain now.
    await reverts(asProtocol.getFunction('recordUse').staticCall(4n, 5n, 6n), 'NullifierAlreadyUsed')
  })

  test('error: useNullifierWithProof needs no role but a proof that verifies', async () => {
    // Valid proofs (and a tampered one) on-chain: test/zk/chain-proofs.test.ts.
    const asUser = c.contract('NullifierRegistry', DEV_ACCOUNT.user)
    const zeros = Array.from({ length: 8 }, () => 0n)
    await reverts(
      asUser.getFunction('useNullifierWithProof').staticCall(1n, 2n, 3n, 4n, zeros),
      'InvalidProof',
    )
    // A nullifier already spent in the scope is refused before its proof is even checked.
    await (await c.contract('NullifierRegistry').getFunction('recordUse')(4n, 12n, 1n)).wait()
    await reverts(
      asUser.getFunction('useNullifierWithProof').staticCall(1n, 12n, 3n, 4n, zeros),
      'NullifierAlreadyUsed',
    )
  })
})

describe('AttestationRegistry', () => {
  test('behavior: issuers issue and revoke their own attestations; roots move', async () => {
    const registry = c.contract('AttestationRegistry')
    await (await registry.getFunction('issue')(100n, 200n, `0x${'00'.repeat(32)}`)).wait()
    expect(await registry.getFunction('isValid')(100n)).toBe(true)
    await reverts(
      registry.getFunction('issue').staticCall(100n, 201n, `0x${'00'.repeat(32)}`),
      'AlreadyIssued',
    )
    await reverts(
      c.contract('AttestationRegistry', DEV_ACCOUNT.user).getFunction('revoke').staticCall(100n, 'x'),
      'MissingRole',
    )
    await (await registry.getFunction('revoke')(100n, 'fraud')).wait()
    expect(await registry.getFunction('isValid')(100n)).toBe(false)
    await reverts(registry.getFunction('revoke').staticCall(100n, 'again'), 'AlreadyRevoked')
    await reverts(registry.getFunction('revoke').staticCall(101n, 'unknown'), 'UnknownAttestation')
  })
})

describe('BridgeGateway', () => {
  const user = () => devWallet(DEV_ACCOUNT.user).address
  const sortedGuardians = () =>
    DEV_ACCOUNT.guardians
      .map((index) => devWallet(index))
      .sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))

  async function sign(
    gateway: Contract,
    signers: readonly HDNodeWallet[],
    nonce: bigint,
    amount = 10n,
    sourceChainId = 1n,
  ) {
    const messageId = await gateway.getFunction('messageIdOf')(
      sourceChainId,
      c.deployment.contracts.BridgeGateway,
      nonce,
    )
    const digest = await gateway.getFunction('releaseDigest')(
      1,
      c.deployment.contracts.BridgeToken,
      user(),
      amount,
      messageId,
    )
    return Promise.all(signers.map((signer) => signer.signMessage(getBytes(digest))))
  }
  const release = (
    gateway: Contract,
    signatures: string[],
    nonce: bigint,
    amount = 10n,
    sourceChainId = 1n,
  ) =>
    gateway
      .getFunction('release')
      .staticCall(
        1,
        c.deployment.contracts.BridgeToken,
        user(),
        amount,
        sourceChainId,
        c.deployment.contracts.BridgeGateway,
        nonce,
        signatures,
      )

  test('behavior: releases against a quorum, once', async () => {
    const gateway = c.contract('BridgeGateway', DEV_ACCOUNT.user)
    const [g1, g2] = sortedGuardians()
    const signatures = await sign(gateway, [g1!, g2!], 1n)
    await release(gateway, signatures, 1n)
    await (
      await gateway.getFunction('release')(
        1,
        c.deployment.contracts.BridgeToken,
        user(),
        10n,
        1n,
        c.deployment.contracts.BridgeGateway,
        1n,
        signatures,
      )
    ).wait()
    await reverts(release(gateway, signatures, 1n), 'AlreadyReleased')
  })

  test('error: short quorum, non-guardians, duplicate signers, other domains and tampered amounts are refused', async () => {
    const gateway = c.contract('BridgeGateway', DEV_ACCOUNT.user)
    const [g1, g2, g3] = sortedGuardians()
    await reverts(release(gateway, await sign(gateway, [g1!], 2n), 2n), 'QuorumNotReached')
    const outsider = devWallet(DEV_ACCOUNT.spare[0])
    const withOutsider = [g1!, outsider].sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))
    await reverts(release(gateway, await sign(gateway, withOutsider, 2n), 2n), 'SignerNotGuardian')
    const same = await sign(gateway, [g2!], 2n)
    await reverts(release(gateway, [same[0]!, same[0]!], 2n), 'SignersNotAscending')
    await reverts(
      release(gateway, (await sign(gateway, [g2!, g3!], 2n)).reverse(), 2n),
      'SignersNotAscending',
    )
    // Signed for nonce 2, submitted as nonce 3: another message id, so other digest and signers.
    await reverts(release(gateway, await sign(gateway, [g1!, g2!], 2n), 3n), 'SignerNotGuardian')
    // Signed for 10, claimed 1000.
    await reverts(release(gateway, await sign(gateway, [g1!, g2!], 2n), 2n, 1000n), 'SignerNotGuardian')
  })

  test('behavior: the admin can lower the threshold and pause; a lock carries a message id', async () => {
    const admin = c.contract('BridgeGateway', DEV_ACCOUNT.deployer)
    await reverts(
      c.contract('BridgeGateway', DEV_ACCOUNT.user).getFunction('setThreshold').staticCall(1n),
      'NotAdmin',
    )
    await (await admin.getFunction('setThreshold')(1n)).wait()
    const gateway = c.contract('BridgeGateway', DEV_ACCOUNT.user)
    const [g1] = sortedGuardians()
    await release(gateway, await sign(gateway, [g1!], 5n), 5n)
    await (await admin.getFunction('setPaused')(true)).wait()
    await reverts(release(gateway, await sign(gateway, [g1!], 5n), 5n), 'Paused')
    await (await admin.getFunction('setPaused')(false)).wait()

    await (
      await c.contract('BridgeToken', DEV_ACCOUNT.user).getFunction('approve')(
        c.deployment.contracts.BridgeGateway,
        50n,
      )
    ).wait()
    const receipt = await (
      await gateway.getFunction('lock')(1, c.deployment.contracts.BridgeToken, 50n, 31338n, user())
    ).wait()
    const parsed = receipt!.logs
      .map((log: { topics: string[]; data: string }) => gateway.interface.parseLog(log))
      .filter(Boolean)
    const locked = parsed.find((log: { name: string } | null) => log?.name === 'BridgeLocked')!
    expect(locked.args.messageId).toBe(
      await gateway.getFunction('messageIdOf')(
        BigInt(c.chainId),
        c.deployment.contracts.BridgeGateway,
        locked.args.nonce,
      ),
    )
    expect(locked.args.mode).toBe(1n)
  })
})

describe('contract build', () => {
  test('behavior: committed artifacts match the sources', () => {
    expect(staleContractArtifacts()).toEqual([])
  })

  test('behavior: compiles nested folders, pragma ranges, and clashing verifier names per file', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'veridis-contracts-'))
    try {
      mkdirSync(path.join(root, 'src', 'verifiers'), { recursive: true })
      const verifier = (value: number) =>
        `// SPDX-License-Identifier: GPL-3.0\npragma solidity >=0.7.0 <0.9.0;\ncontract Groth16Verifier {\n  function verifyProof() public pure returns (uint256) { return ${value}; }\n}\n`
      writeFileSync(path.join(root, 'src', 'verifiers', 'Membership.sol'), verifier(1))
      writeFileSync(path.join(root, 'src', 'verifiers', 'Disclosure.sol'), verifier(2))
      writeFileSync(
        path.join(root, 'src', 'Uses.sol'),
        '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\nimport {Groth16Verifier} from "./verifiers/Membership.sol";\ncontract Uses { Groth16Verifier public verifier; }\n',
      )
      const files = renderArtifacts(root)
      expect([...files.keys()].sort()).toEqual([
        'Disclosure.Groth16Verifier.json',
        'Membership.Groth16Verifier.json',
        'Uses.json',
        'manifest.json',
      ])
      const artifact = JSON.parse(files.get('Membership.Groth16Verifier.json')!)
      expect(artifact).toMatchObject({
        contractName: 'Groth16Verifier',
        sourceName: 'src/verifiers/Membership.sol',
      })
      expect(artifact.bytecode).toMatch(/^0x[0-9a-f]{100,}$/)
      writeFileSync(
        path.join(root, 'src', 'Broken.sol'),
        'pragma solidity ^0.8.0; contract Broken { function f( }',
      )
      expect(() => renderArtifacts(root)).toThrow(/solc .* failed:[\s\S]*Broken\.sol/)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('local stack chains', () => {
  test('behavior: both stack anvils run with the contracts at their recorded addresses', async () => {
    const config = loadConfig()
    for (const anvil of LOCAL_ANVILS) {
      const chain = `eip155:${anvil.chainId}`
      const deployment = readDeployment(config.home, chain)
      expect(deployment?.chainId).toBe(anvil.chainId)
      const provider = new JsonRpcProvider(jsonRpcRequest(anvilRpcUrl(anvil.port)), anvil.chainId, {
        staticNetwork: true,
      })
      try {
        for (const name of DEPLOYED_CONTRACTS) {
          expect(await provider.getCode(deployment!.contracts[name])).not.toBe('0x')
        }
        const registry = new Contract(
          deployment!.contracts.NullifierRegistry,
          [
            'function hasRole(bytes32,address) view returns (bool)',
            'function RELAYER() view returns (bytes32)',
            'function membershipVerifier() view returns (address)',
          ] as InterfaceAbi,
          provider,
        )
        const relayerRole = await registry.getFunction('RELAYER')()
        expect(
          await registry.getFunction('hasRole')(relayerRole, devWallet(DEV_ACCOUNT.relayer).address),
        ).toBe(true)
        // useNullifierWithProof verifies with the recorded Semaphore verifier.
        expect(await registry.getFunction('membershipVerifier')()).toBe(
          deployment!.contracts.SemaphoreDepth20Verifier,
        )
      } finally {
        provider.destroy()
      }
    }
  })
})
