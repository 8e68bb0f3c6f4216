import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Contract, Interface, type InterfaceAbi, ZeroHash } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { compileContracts, loadArtifact, staleContractArtifacts } from '../../contracts/evm/build.ts'
import { startTestChain, type TestChain } from '../evm/support.ts'
import {
  type Bridge,
  type BridgeSide,
  deployBridge,
  GENESIS_ROOT,
  RELEASE,
  type ReleaseMessage,
  releaseArgs,
  releaseDigest,
  TOKEN,
} from './exploits/support/bridge.ts'
import { loadVariantArtifact, VARIANT_CONTRACTS, VARIANT_TREE } from './exploits/support/contracts.ts'
import { GATEWAY_ABI, OPTIMISTIC_ABI, PAYLOAD_ABI, TOKEN_ABI } from './exploits/support/engine.ts'
import {
  bnb2022,
  DETECTION_IDS,
  harmony2022,
  type IncidentRecord,
  nomad2022,
  poly2021,
  poly2023,
  ronin2022,
  ronin2024,
  wormhole2022,
} from './exploits/support/incidents.ts'
import { benignTraffic } from './exploits/support/traffic.ts'

/**
 * The deliberately vulnerable gateways (test/bridge/contracts/) and the attack drivers the
 * bridge guard is proven against, on real anvils: each variant's bug is real (the attack
 * succeeds on it) and the production BridgeGateway refuses the same attack; each incident
 * driver does what its record says (checked on the chains, not in the record); benign
 * traffic releases every transfer exactly once. No Kafka.
 */
let home: TestChain
let remote: TestChain

beforeAll(async () => {
  ;[home, remote] = await Promise.all([startTestChain(), startTestChain()])
})

afterAll(async () => {
  await Promise.all([home?.stop(), remote?.stop()])
})

const production = new Interface(loadArtifact('BridgeGateway').abi as InterfaceAbi)

/** Runs `data` as an eth_call from `from` and returns the custom error's name ('' when it succeeds). */
async function revertOf(side: BridgeSide, from: string, data: string, iface: Interface = production) {
  try {
    await side.chain.provider.call({ from, to: side.gateway, data })
    return ''
  } catch (error) {
    const revert = (error as { data?: string }).data
    if (!revert || revert === '0x') return 'revert'
    return iface.parseError(revert)?.name ?? `unknown error ${revert.slice(0, 10)}`
  }
}

const erc20 = (side: BridgeSide) => new Contract(side.token, TOKEN_ABI, side.chain.provider)
const balance = (side: BridgeSide, holder: string): Promise<bigint> =>
  erc20(side).getFunction('balanceOf')(holder)
const supply = (side: BridgeSide): Promise<bigint> => erc20(side).getFunction('totalSupply')()

/** BridgeLocked logs of a gateway, optionally for one message id. */
async function locksOf(chain: TestChain, gateway: string, messageId?: string) {
  const topic = production.getEvent('BridgeLocked')!.topicHash
  return chain.provider.getLogs({
    address: gateway,
    topics: messageId ? [topic, messageId] : [topic],
    fromBlock: 0,
    toBlock: 'latest',
  })
}

/** What every record must hold, checked against the chains. */
async function checkRecord(record: IncidentRecord, bridge: { home: TestChain; remote: TestChain }) {
  expect(record.mustFire.length).toBeGreaterThan(0)
  for (const id of [...record.mustFire, ...record.mayFire]) expect(DETECTION_IDS).toContain(id)
  expect(record.chains.home.chain).toBe(bridge.home.chain)
  expect(record.chains.remote.chain).toBe(bridge.remote.chain)
  expect(record.benign.messageIds.length).toBe(record.benign.transfers)
  expect(JSON.parse(JSON.stringify(record))).toEqual(record)
  await Promise.all(
    [...record.preparation, ...record.attack].map(async (tx) => {
      const chain = tx.chain === bridge.home.chain ? bridge.home : bridge.remote
      const [receipt, block] = await Promise.all([
        chain.provider.getTransactionReceipt(tx.txHash),
        chain.provider.getBlock(tx.blockNumber),
      ])
      expect(receipt?.status).toBe(1)
      expect(receipt?.blockNumber).toBe(tx.blockNumber)
      expect(receipt?.blockHash).toBe(tx.blockHash)
      expect(block?.timestamp).toBe(tx.timestamp)
      expect(receipt?.from).toBe(tx.from)
    }),
  )
  // Every release that must raise release-without-source has no lock at its claimed source.
  for (const tx of record.attack.filter((t) => t.detections.includes('release-without-source'))) {
    expect(tx.releases.length).toBeGreaterThan(0)
    for (const release of tx.releases) {
      const source = tx.chain === bridge.home.chain ? bridge.remote : bridge.home
      const sourceGateway = tx.chain === bridge.home.chain ? record.chains.remote : record.chains.home
      expect(release.sourceChainId).toBe(String(source.chainId))
      expect(await locksOf(source, sourceGateway.gateway.address, release.messageId)).toEqual([])
    }
  }
}

describe('variant contracts', () => {
  test('behavior: committed variant artifacts match their sources', () => {
    expect(staleContractArtifacts(VARIANT_TREE)).toEqual([])
  })

  test('behavior: a tree whose source changed after its build is stale', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'veridis-variants-'))
    try {
      const tree = { root, sources: '.', artifacts: path.join(root, 'artifacts') }
      const source = (value: number) =>
        `// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract Tiny { function v() external pure returns (uint256) { return ${value}; } }\n`
      mkdirSync(tree.artifacts)
      writeFileSync(path.join(root, 'Tiny.sol'), source(1))
      expect(compileContracts(tree)).toEqual(['Tiny.json', 'manifest.json'])
      expect(staleContractArtifacts(tree)).toEqual([])
      writeFileSync(path.join(root, 'Tiny.sol'), source(2))
      expect(staleContractArtifacts(tree)).toEqual([
        'sources, compiler or settings changed since the artifacts were built',
      ])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  test('behavior: every variant emits exactly the production events and keeps lock, release and the digests', () => {
    const events = (iface: Interface) => {
      const found: string[] = []
      iface.forEachEvent((event) => {
        found.push(`${event.format('full')} ${event.topicHash}`)
      })
      return found.sort()
    }
    const productionEvents = events(production)
    expect(productionEvents).toHaveLength(6)
    const kept = ['lock', 'release', 'messageIdOf', 'releaseDigest', 'guardians', 'threshold', 'setGuardians']
    for (const name of VARIANT_CONTRACTS.filter((n) => n !== 'GatewayProxy')) {
      const variant = new Interface(loadVariantArtifact(name).abi as InterfaceAbi)
      const extra =
        name === 'OptimisticRootGateway'
          ? ['event MessageProcessed(bytes32 indexed messageId, bytes32 root)']
          : []
      expect(
        events(variant).map((e) => e.replace(/ 0x[0-9a-f]{64}$/, '')),
        name,
      ).toEqual([...productionEvents.map((e) => e.replace(/ 0x[0-9a-f]{64}$/, '')), ...extra].sort())
      expect(events(variant).filter((e) => !e.includes('MessageProcessed'))).toEqual(productionEvents)
      for (const fn of kept)
        expect(variant.getFunction(fn)?.selector, `${name}.${fn}`).toBe(production.getFunction(fn)!.selector)
    }
    // The proxy's only event is ERC-1967's Upgraded: no clash with the gateway's topics.
    const proxy = new Interface(loadVariantArtifact('GatewayProxy').abi as InterfaceAbi)
    expect(events(proxy).map((e) => e.split(' 0x')[0])).toEqual([
      'event Upgraded(address indexed implementation)',
    ])
  })

  test('behavior: a variant computes the production message id and release digest', async () => {
    const bridge = await deployBridge({ home, remote }, { remote: 'SignatureBypassGateway' })
    const plain = await deployBridge({ home, remote })
    const m: ReleaseMessage = {
      mode: RELEASE.MINT,
      token: bridge.remote.token,
      recipient: bridge.users[0]!.address,
      amount: 5n,
      sourceChainId: BigInt(home.chainId),
      sourceGateway: bridge.home.gateway,
      nonce: 3n,
    }
    for (const side of [bridge.remote, plain.remote]) {
      const gateway = new Contract(side.gateway, GATEWAY_ABI, side.chain.provider)
      const messageId = await gateway.getFunction('messageIdOf')(m.sourceChainId, m.sourceGateway, m.nonce)
      expect(
        await gateway.getFunction('releaseDigest')(m.mode, m.token, m.recipient, m.amount, messageId),
      ).toBe(releaseDigest(side, m))
    }
  })
})

describe('each variant bug is real, and the production gateway refuses the same attack', () => {
  test('SignatureBypassGateway (Wormhole 2022): guardian addresses in place of signatures mint; production refuses', async () => {
    const record = await wormhole2022({ home, remote })
    await checkRecord(record, { home, remote })
    const [mint, burn, unlock] = record.attack
    expect(record.chains.remote.gateway.kind).toBe('SignatureBypassGateway')
    expect(mint!.releases).toHaveLength(1)
    const release = mint!.releases[0]!
    expect(release).toMatchObject({ mode: 'MINT', amount: (120_000n * TOKEN).toString(), threshold: 13 })
    expect(release.signers).toEqual(record.chains.remote.gateway.guardians.slice(0, 13))
    // The calldata carries 20-byte entries, not signatures.
    const tx = await remote.provider.getTransaction(mint!.txHash)
    const args = GATEWAY_ABI.decodeFunctionData('release', tx!.data)
    expect((args[7] as string[]).every((entry) => entry.length === 42)).toBe(true)
    // Bridged back: a real burn on remote and its honest unlock on home.
    expect(burn!.action).toBe('lock')
    expect(unlock!.releases[0]!.mode).toBe('UNLOCK')
    expect(unlock!.releases[0]!.nonce).toBe(
      String(
        GATEWAY_ABI.decodeFunctionData(
          'release',
          (await home.provider.getTransaction(unlock!.txHash))!.data,
        )[6],
      ),
    )
    // The same transaction against the production gateway.
    const plain = await deployBridge({ home, remote }, { guardians: 19, threshold: 13 })
    expect(await revertOf(plain.remote, tx!.from, tx!.data)).toBe('MalformedSignature')
    const onPlain = GATEWAY_ABI.encodeFunctionData('release', [
      ...args
        .slice(0, 7)
        .map((value, i) => (i === 1 ? plain.remote.token : i === 5 ? plain.home.gateway : value)),
      plain.remote.guardians.slice(0, 13).map((g) => g.address),
    ])
    expect(await revertOf(plain.remote, tx!.from, onPlain)).toBe('MalformedSignature')
  })

  test('PayloadCallGateway (Poly Network 2021): a message replaces the guardian set; production refuses', async () => {
    const record = await poly2021({ home, remote })
    await checkRecord(record, { home, remote })
    const attacker = record.attackers[0]!
    const [takeover, mint] = record.attack
    expect(takeover!.from).toBe(attacker)
    expect(takeover!.releases[0]!.amount).toBe(TOKEN.toString())
    // The taken-over release was genuinely locked at home: the harm is the call it carried.
    expect(
      await locksOf(home, record.chains.home.gateway.address, takeover!.releases[0]!.messageId),
    ).toHaveLength(1)
    const changed = takeover!.events.find((e) => e.name === 'GuardianSetChanged')
    expect(changed?.args).toMatchObject({ guardians: [attacker], threshold: '1' })
    const gateway = new Contract(record.chains.remote.gateway.address, PAYLOAD_ABI, remote.provider)
    expect(await gateway.getFunction('guardians')()).toEqual([attacker])
    expect(mint!.releases[0]).toMatchObject({ signers: [attacker], threshold: 1 })
    expect(
      await balance({ token: record.chains.remote.token.address, chain: remote } as BridgeSide, attacker),
    ).toBe(1_000_001n * TOKEN)

    // Only the self-call is governance: the attacker calling setGuardians directly is refused,
    // on the variant as on production, and production has no call-carrying release at all.
    const setGuardians = PAYLOAD_ABI.encodeFunctionData('setGuardians', [[attacker], 1])
    const plain = await deployBridge({ home, remote })
    const variantSide = { gateway: record.chains.remote.gateway.address, chain: remote } as BridgeSide
    expect(await revertOf(variantSide, attacker, setGuardians)).toBe('NotAdmin')
    expect(await revertOf(plain.remote, attacker, setGuardians)).toBe('NotAdmin')
    const takeoverTx = await remote.provider.getTransaction(takeover!.txHash)
    expect(await revertOf(plain.remote, attacker, takeoverTx!.data)).toBe('revert')
  })

  test('UpgradeableGateway (Ronin 2024): after the upgrade threshold reads 0 and empty releases unlock; before it and on production they do not', async () => {
    // Before the upgrade, behind the same proxy: zero signatures are refused.
    const before = await deployBridge({ home, remote }, { home: 'UpgradeableGateway' })
    const attempt = (bridge: Bridge) =>
      GATEWAY_ABI.encodeFunctionData('release', [
        ...releaseArgs({
          mode: RELEASE.UNLOCK,
          token: bridge.home.token,
          recipient: bridge.users[0]!.address,
          amount: 1n,
          sourceChainId: BigInt(remote.chainId),
          sourceGateway: bridge.remote.gateway,
          nonce: 2n ** 40n,
        }),
        [],
      ])
    expect(await revertOf(before.home, before.users[0]!.address, attempt(before))).toBe('QuorumNotReached')
    const plain = await deployBridge({ home, remote })
    expect(await revertOf(plain.home, plain.users[0]!.address, attempt(plain))).toBe('QuorumNotReached')

    const record = await ronin2024({ home, remote })
    await checkRecord(record, { home, remote })
    const upgrade = record.preparation[0]!
    expect(upgrade.events.map((e) => e.name)).toEqual(['Upgraded'])
    const gateway = new Contract(record.chains.home.gateway.address, GATEWAY_ABI, home.provider)
    expect(await gateway.getFunction('threshold')()).toBe(0n)
    expect(record.attack).toHaveLength(2)
    for (const tx of record.attack)
      expect(tx.releases[0]).toMatchObject({ mode: 'UNLOCK', signers: [], threshold: 0 })
  })

  test('OptimisticRootGateway (Nomad 2022): after the zero root, copy-paste process calls unlock; before it and on production they do not', async () => {
    const before = await deployBridge({ home, remote }, { home: 'OptimisticRootGateway' })
    const unproven = OPTIMISTIC_ABI.encodeFunctionData(
      'process',
      releaseArgs({
        mode: RELEASE.UNLOCK,
        token: before.home.token,
        recipient: before.users[0]!.address,
        amount: 1n,
        sourceChainId: BigInt(remote.chainId),
        sourceGateway: before.remote.gateway,
        nonce: 2n ** 40n,
      }),
    )
    expect(await revertOf(before.home, before.users[0]!.address, unproven, OPTIMISTIC_ABI)).toBe('NotProven')
    const plain = await deployBridge({ home, remote })
    expect(await revertOf(plain.home, plain.users[0]!.address, unproven)).toBe('revert')

    const record = await nomad2022({ home, remote })
    await checkRecord(record, { home, remote })
    expect(record.preparation[0]!.action).toBe('reinitialize')
    expect(record.attack).toHaveLength(301)
    const ids = new Set(record.attack.map((tx) => tx.releases[0]!.messageId))
    expect(ids.size).toBe(1)
    expect(new Set(record.attack.map((tx) => tx.releases[0]!.recipient)).size).toBe(301)
    for (const tx of record.attack) {
      expect(tx.releases[0]).toMatchObject({ signers: [], threshold: 0 })
      expect(tx.events).toEqual([
        { name: 'MessageProcessed', args: { messageId: tx.releases[0]!.messageId, root: ZeroHash } },
      ])
    }
    const perBlock = new Map<number, number>()
    for (const tx of record.attack.slice(1))
      perBlock.set(tx.blockNumber, (perBlock.get(tx.blockNumber) ?? 0) + 1)
    expect(Math.max(...perBlock.values())).toBeGreaterThanOrEqual(50)
    // Benign unlocks on the same gateway were proven against guardian-accepted, non-zero roots.
    const processed = await home.provider.getLogs({
      address: record.chains.home.gateway.address,
      topics: [OPTIMISTIC_ABI.getEvent('MessageProcessed')!.topicHash],
      fromBlock: record.chains.home.gateway.deployedAtBlock,
      toBlock: record.preparation[0]!.blockNumber,
    })
    expect(processed.length).toBeGreaterThan(0)
    for (const log of processed) {
      const root = OPTIMISTIC_ABI.parseLog(log)!.args.root as string
      expect([ZeroHash, GENESIS_ROOT]).not.toContain(root)
    }
    const left = await balance(
      { token: record.chains.home.token.address, chain: home } as BridgeSide,
      record.chains.home.gateway.address,
    )
    const stolen = record.attack.reduce((sum, tx) => sum + BigInt(tx.releases[0]!.amount), 0n)
    expect(stolen).toBeGreaterThan(left * 15n)
  })
})

describe('incident drivers on the production gateway', () => {
  test('ronin2022: two unlocks signed by five keys of one operator, no burn', async () => {
    const record = await ronin2022({ home, remote })
    await checkRecord(record, { home, remote })
    expect(record.chains.home.gateway).toMatchObject({ kind: 'BridgeGateway', threshold: 5 })
    expect(record.chains.home.gateway.guardians).toHaveLength(9)
    expect(record.attack).toHaveLength(2)
    for (const tx of record.attack) {
      const signers = tx.releases[0]!.signers
      expect(signers).toHaveLength(5)
      expect(new Set(signers.map((s) => record.operators[s]))).toEqual(new Set(['sky-mavis']))
    }
    expect(Object.values(record.operators).filter((o) => o === 'sky-mavis')).toHaveLength(5)
  })

  test('harmony2022: a 2-of-5 quorum drains the custody in twelve unlocks', async () => {
    const record = await harmony2022({ home, remote })
    await checkRecord(record, { home, remote })
    expect(record.chains.home.gateway).toMatchObject({ kind: 'BridgeGateway', threshold: 2 })
    expect(record.attack).toHaveLength(12)
    expect(new Set(record.attack.map((tx) => tx.blockNumber)).size).toBe(3)
    const custody = await balance(
      { token: record.chains.home.token.address, chain: home } as BridgeSide,
      record.chains.home.gateway.address,
    )
    const stolen = record.attack.reduce((sum, tx) => sum + BigInt(tx.releases[0]!.amount), 0n)
    expect(stolen).toBeGreaterThan(custody * 20n)
  })

  test('bnb2022 and poly2023: quorum-signed mints of messages never sent, far above benign sizes', async () => {
    const bnb = await bnb2022({ home, remote })
    await checkRecord(bnb, { home, remote })
    expect(bnb.attack.map((tx) => tx.releases[0]!.amount)).toEqual([
      (1_000_000n * TOKEN).toString(),
      (1_000_000n * TOKEN).toString(),
    ])
    expect(bnb.attack[0]!.blockNumber).toBeLessThan(bnb.attack[1]!.blockNumber)
    const poly = await poly2023({ home, remote })
    await checkRecord(poly, { home, remote })
    expect(poly.attack).toHaveLength(5)
    for (const record of [bnb, poly]) {
      for (const tx of record.attack) {
        expect(BigInt(tx.releases[0]!.amount)).toBeGreaterThan(
          BigInt(record.guardConfig.maxBenignAmount) * 100n,
        )
        expect(tx.releases[0]!.signers).toHaveLength(2)
      }
      const wrapped = { token: record.chains.remote.token.address, chain: remote } as BridgeSide
      const custody = await balance(
        { token: record.chains.home.token.address, chain: home } as BridgeSide,
        record.chains.home.gateway.address,
      )
      expect(await supply(wrapped)).toBeGreaterThan(custody)
    }
  })
})

describe('benign traffic', () => {
  test('behavior: every transfer, both directions, is released once with its exact amount; reserves hold', async () => {
    const bridge = await deployBridge({ home, remote })
    const result = await benignTraffic(bridge, { transfers: 400, perBlock: 40, seed: 11 })
    expect(result.transfers).toBe(400)
    expect(new Set(result.messageIds).size).toBe(400)
    expect(result.lockToMint).toBeGreaterThan(100)
    expect(result.burnToUnlock).toBeGreaterThan(50)
    expect(BigInt(result.maxAmount)).toBeLessThanOrEqual(1_000n * TOKEN)

    const released = async (side: BridgeSide, from: number, to: number) =>
      (
        await side.chain.provider.getLogs({
          address: side.gateway,
          topics: [production.getEvent('BridgeReleased')!.topicHash],
          fromBlock: from,
          toBlock: to,
        })
      ).map((log) => production.parseLog(log)!.args)
    const locked = async (side: BridgeSide, from: number, to: number) =>
      (await locksOf(side.chain, side.gateway)).filter(
        (log) => log.blockNumber >= from && log.blockNumber <= to,
      )
    const locks = [
      ...(await locked(bridge.home, result.blocks.home.from, result.blocks.home.to)),
      ...(await locked(bridge.remote, result.blocks.remote.from, result.blocks.remote.to)),
    ].map((log) => production.parseLog(log)!.args)
    const releases = [
      ...(await released(bridge.home, result.blocks.home.from, result.blocks.home.to)),
      ...(await released(bridge.remote, result.blocks.remote.from, result.blocks.remote.to)),
    ]
    expect(locks).toHaveLength(400)
    expect(releases).toHaveLength(400)
    const byId = new Map(releases.map((r) => [r.messageId as string, r]))
    for (const lock of locks) {
      const release = byId.get(lock.messageId)
      expect(release, lock.messageId).toBeDefined()
      expect([release!.amount, release!.recipient, Number(release!.mode)]).toEqual([
        lock.amount,
        lock.recipient,
        Number(lock.mode),
      ])
      expect(release!.signers).toHaveLength(2)
    }
    // Bursts: some blocks carry many transfers, and guardians sign after a delay.
    const perBlock = new Map<number, number>()
    for (const log of await locked(bridge.home, result.blocks.home.from, result.blocks.home.to))
      perBlock.set(log.blockNumber, (perBlock.get(log.blockNumber) ?? 0) + 1)
    expect(Math.max(...perBlock.values())).toBeGreaterThanOrEqual(40)
    // Reserves: wrapped supply equals custody (nothing in flight at the end).
    expect(await supply(bridge.remote)).toBe(await balance(bridge.home, bridge.home.gateway))
  })

  test('behavior: works on interval-mined chains and through the optimistic gateway', async () => {
    const [a, b] = await Promise.all([startTestChain({ blockTime: 1 }), startTestChain({ blockTime: 1 })])
    try {
      const bridge = await deployBridge({ home: a, remote: b }, { home: 'OptimisticRootGateway' })
      const result = await benignTraffic(bridge, { transfers: 60, perBlock: 30, seed: 3 })
      expect(result.lockToMint + result.burnToUnlock).toBe(60)
      expect(result.burnToUnlock).toBeGreaterThan(0)
      expect(await supply(bridge.remote)).toBe(await balance(bridge.home, bridge.home.gateway))
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
