import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import type { Config } from '../../../core/config/env.ts'
import { createLogger } from '../../../core/logging/logger.ts'
import { polkadotChainOf } from '../../../producers/chains/polkadot/config.ts'
import { polkadotFamily } from '../../../producers/chains/polkadot/family.ts'
import {
  accountHex,
  encodeRemark,
  otherSignatories,
  registryAccount,
  useKey,
} from '../../../producers/chains/polkadot/normalise/remark.ts'
import { createPolkadotRpc, type PolkadotRpc } from '../../../producers/chains/polkadot/rpc/client.ts'
import { multisigEntrySchema } from '../../../producers/chains/polkadot/rpc/schemas.ts'
import { AlreadyPresentError, type NullifierWriter, type PreparedWrite, type WriteStatus } from './writer.ts'

/**
 * The Polkadot propagation writer: one extrinsic, `utility.batchAll([multisig.approveAsMulti
 * (2, <other writers>, None, useKey, 0), system.remarkWithEvent(<NullifierRelayed record>)])`
 * (producers/chains/polkadot/normalise/remark.ts), signed locally by the relayer (sr25519)
 * with an immortal era, so its hash and bytes are known and recorded before it is sent, and
 * it stays valid until its nonce is used — the account nonce is the replay protection, as
 * for EVM. The use key's multisig entry is the chain's state: `isUsed` reads it, a second
 * first approval of it is refused on-chain (NoTimepoint), and the entry's timepoint (block,
 * extrinsic index) says which extrinsic created it, which is how `status` finds a landed
 * write without an index of transactions.
 */
export interface PolkadotWriterOptions {
  readonly chain: string
  readonly rpcUrls: readonly string[]
  /** Every Veridis writer of the chain (the relayer among them): their multisig account holds the use keys. */
  readonly writers: readonly string[]
  /** The relayer's secret URI (mnemonic, seed, or dev path). Held by the keyring only; never logged. */
  readonly secretUri: string
  readonly requestTimeoutMs?: number
}

/** Nodes answer a re-sent extrinsic in their own words; none of these is a failure of the write. */
const ALREADY_ACCEPTED = /already imported|priority is too low|outdated|stale|1013|1014/i
/** How far back `status` looks for a write whose nonce was used but whose use key is not its own. */
const SCAN_BLOCKS = 64

// sr25519 signs in WebAssembly; writers are made synchronously (writers/index.ts).
await cryptoWaitReady()

export function createPolkadotWriter(options: PolkadotWriterOptions): NullifierWriter {
  if (options.rpcUrls.length === 0) throw new Error(`no RPC URLs for ${options.chain}`)
  const pair = new Keyring({ type: 'sr25519' }).addFromUri(options.secretUri)
  const registry = registryAccount(options.writers)
  const rpc: PolkadotRpc = createPolkadotRpc({
    chain: options.chain,
    urls: options.rpcUrls,
    timeoutMs: options.requestTimeoutMs ?? 15_000,
    logger: createLogger({
      service: 'nullifiers-polkadot-writer',
      level: process.env.VERIDIS_LOG_LEVEL ?? 'info',
    }),
    onError: () => {},
  })
  let lastSigned: bigint | undefined

  const entryOf = (api: ApiPromise, key: string) =>
    api.query.multisig!.multisigs!(registry, key).then((entry) =>
      multisigEntrySchema.parse((entry as unknown as { toJSON(): unknown }).toJSON()),
    )

  /** The use key an extrinsic of ours creates (its first call's call hash). */
  const keyOf = (api: ApiPromise, signed: string) => {
    const extrinsic = api.createType('Extrinsic', signed)
    const calls = extrinsic.method.args[0] as unknown as { args: { toHex(): string }[] }[]
    return calls[0]!.args[3]!.toHex()
  }

  /** The outcome of extrinsic `index` of block `number`, if it is our write. */
  async function outcomeAt(api: ApiPromise, number: number, index: number, txHash: string) {
    const hash = await api.rpc.chain.getBlockHash(number)
    const block = await api.rpc.chain.getBlock(hash)
    if (block.block.extrinsics[index]?.hash.toHex() !== txHash) return undefined
    const events = (await (
      await api.at(hash)
    ).query.system!.events!()) as unknown as Iterable<{
      phase: { isApplyExtrinsic: boolean; asApplyExtrinsic: { toNumber(): number } }
      event: { section: string; method: string }
    }>
    for (const record of events) {
      if (!record.phase.isApplyExtrinsic || record.phase.asApplyExtrinsic.toNumber() !== index) continue
      if (record.event.section !== 'system') continue
      if (record.event.method === 'ExtrinsicSuccess')
        return { state: 'confirmed' as const, blockNumber: number }
      if (record.event.method === 'ExtrinsicFailed')
        return { state: 'reverted' as const, blockNumber: number }
    }
    return undefined
  }

  const writer: NullifierWriter = {
    chain: options.chain,
    sender: pair.address,

    isUsed: (scope, nullifier) =>
      rpc.ask('multisig.multisigs', async (api) => (await entryOf(api, useKey(scope, nullifier))) !== null),

    async nextNonce() {
      const next = await rpc.ask('system_accountNextIndex', async (api) =>
        BigInt((await api.rpc.system.accountNextIndex(pair.address)).toString()),
      )
      return lastSigned === undefined || next > lastSigned ? next : lastSigned + 1n
    },

    async prepare(use, nonce): Promise<PreparedWrite> {
      if (await writer.isUsed(use.scope, use.nullifier)) {
        throw new AlreadyPresentError(`${options.chain} already holds the nullifier`)
      }
      return rpc.ask('sign', async (api) => {
        if (polkadotChainOf(api.genesisHash.toHex()) !== options.chain) {
          throw new Error(`the RPC endpoint serves another chain than ${options.chain}`)
        }
        const others = otherSignatories(options.writers, pair.address, api.registry.chainSS58 ?? 42)
        const record = encodeRemark({
          t: 'NullifierRelayed',
          scope: use.scope,
          nullifier: use.nullifier,
          root: use.merkleTreeRoot,
          origin: use.originChain,
        })
        const tx = api.tx.utility!.batchAll!([
          api.tx.multisig!.approveAsMulti!(2, others, null, useKey(use.scope, use.nullifier), 0 as never),
          api.tx.system!.remarkWithEvent!(record),
        ])
        // Immortal: valid until its nonce is used, so "unknown" can always be broadcast again.
        const signed = await tx.signAsync(pair, { nonce, era: 0 })
        return { txHash: signed.hash.toHex(), nonce: nonce.toString(), signed: signed.toHex() }
      })
    },

    async broadcast(write) {
      const nonce = BigInt(write.nonce)
      if (lastSigned === undefined || nonce > lastSigned) lastSigned = nonce
      try {
        await rpc.ask('author_submitExtrinsic', (api) => api.rpc.author.submitExtrinsic(write.signed))
      } catch (error) {
        if (!ALREADY_ACCEPTED.test(describe(error))) throw error
      }
    },

    status: (write) =>
      rpc.ask('status', async (api): Promise<WriteStatus> => {
        const entry = await entryOf(api, keyOf(api, write.signed))
        if (entry) {
          const found = await outcomeAt(api, entry.when.height, entry.when.index, write.txHash)
          if (found) return found
        }
        const account = (await api.query.system!.account!(pair.address)) as unknown as {
          nonce: { toString(): string }
        }
        if (BigInt(account.nonce.toString()) <= BigInt(write.nonce)) {
          const pending = await api.rpc.author.pendingExtrinsics()
          return pending.some((extrinsic) => extrinsic.hash.toHex() === write.txHash)
            ? { state: 'pending' }
            : { state: 'unknown' }
        }
        // The nonce went to an extrinsic: ours (failed, or landed without creating the key), or another.
        const head = (await api.rpc.chain.getHeader()).number.toNumber()
        for (let number = head; number > Math.max(0, head - SCAN_BLOCKS); number--) {
          const block = await api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(number))
          const index = block.block.extrinsics.findIndex(
            (extrinsic) => extrinsic.hash.toHex() === write.txHash,
          )
          if (index >= 0) return (await outcomeAt(api, number, index, write.txHash)) ?? { state: 'pending' }
        }
        return { state: 'dropped' }
      }),

    close: () => rpc.close(),
  }
  return writer
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** The relayer's secret URI: configured, or — outside production — the local chopsticks relayer `veridis up` records. */
function polkadotRelayerSecret(chain: string, config: Config): string | { problem: string } {
  const configured = process.env.VERIDIS_RELAYER_POLKADOT_SECRET_URI
  if (configured) return configured
  if (config.env === 'production') {
    return {
      problem: 'VERIDIS_RELAYER_POLKADOT_SECRET_URI: required in production (the relayer signs with it)',
    }
  }
  const file = path.join(config.home, 'secrets', 'polkadot-relayer.json')
  const local = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { chain?: string; secretUri?: string })
    : undefined
  if (local?.chain !== chain || !local.secretUri) {
    return {
      problem: `${chain}: no relayer key; set VERIDIS_RELAYER_POLKADOT_SECRET_URI (the local chopsticks: bin/veridis up writes its dev key)`,
    }
  }
  return local.secretUri
}

/** The Polkadot chains that can take writes: enabled, with their Veridis writers configured. */
export const polkadotWritableChains = (config: Config) =>
  [...polkadotFamily.loadChains(config.home).values()]
    .filter(({ enabled, resolved }) => enabled && 'config' in resolved)
    .map(({ chain }) => chain)

export function polkadotWriterFor(chain: string, config: Config): NullifierWriter | { problem: string } {
  const resolved = polkadotFamily.loadChains(config.home).get(chain)?.resolved
  if (!resolved) return { problem: `${chain} is not a configured Polkadot chain (VERIDIS_POLKADOT_CONFIG)` }
  if ('problem' in resolved) return resolved
  const secretUri = polkadotRelayerSecret(chain, config)
  if (typeof secretUri !== 'string') return secretUri
  const relayer = new Keyring({ type: 'sr25519' }).addFromUri(secretUri).address
  const writers = resolved.config.writers
  if (!writers.some((writer) => accountHex(writer) === accountHex(relayer))) {
    return { problem: `${chain}: the relayer key is not one of the chain's Veridis writers` }
  }
  return createPolkadotWriter({
    chain,
    rpcUrls: resolved.config.rpcUrls,
    writers,
    secretUri,
    requestTimeoutMs: resolved.config.requestTimeoutMs,
  })
}
