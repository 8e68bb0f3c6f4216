import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../../../core/config/env.ts'
import { RetryableError } from '../../../core/errors.ts'
import { createLogger } from '../../../core/logging/logger.ts'
import { cosmosFamily } from '../../../producers/chains/cosmos/family.ts'
import { CometRpcError, createCometRpc } from '../../../producers/chains/cosmos/rpc/client.ts'
import { executeContractAny } from '../../../producers/chains/cosmos/rpc/proto.ts'
import {
  broadcastSync,
  cosmosKey,
  findTx,
  queryAccount,
  querySmart,
  signTx,
} from '../../../producers/chains/cosmos/rpc/signing.ts'
import { AlreadyPresentError, type NullifierWriter, type PreparedWrite, type WriteStatus } from './writer.ts'

/**
 * The Cosmos propagation writer: `record_relayed { scope, nullifier, merkle_tree_root,
 * origin_chain }` on the Veridis CosmWasm registry (contracts/cosmos/src/lib.rs) from the
 * relayer's account (RELAYER role), a MsgExecuteContract signed locally (SIGN_MODE_DIRECT):
 * the transaction hash is sha256 of the TxRaw bytes, known and recorded before anything is
 * sent, so the driver's crash-safety contract (writer.ts) holds as for EVM chains. The account
 * sequence is the replay protection: a write whose sequence went to another transaction can
 * never land. The registry itself refuses a second use of a (scope, nullifier): a write racing
 * another use is committed as a failed transaction (`reverted`), never a second record.
 */
export interface CosmosWriterOptions {
  readonly chain: string
  /** The chain id CometBFT serves (veridis-local-1, cosmoshub-4). */
  readonly chainId: string
  readonly rpcUrls: readonly string[]
  readonly registry: string
  readonly bech32Prefix: string
  /** The relayer's address; the mnemonic must derive it (checked before the first signature). */
  readonly address: string
  /** The relayer's BIP-39 mnemonic (coin type 118). A secret: held by the wallet only. */
  readonly mnemonic: string
  /** Address index of the key (m/44'/118'/0'/0/<index>); 0 unless configured. */
  readonly hdIndex?: number
  readonly gasPrice: string
  readonly gasLimit: number
  readonly requestTimeoutMs?: number
}

/** CheckTx's words for bytes it has already taken, or a sequence already used (by these bytes or others). */
const ALREADY_ACCEPTED =
  /tx already exists in cache|already in mempool|account sequence mismatch, expected (\d+), got (\d+)/i
/** CometBFT's code for "account sequence mismatch" (sdkerrors.ErrWrongSequence). */
const WRONG_SEQUENCE = 32

export function createCosmosWriter(options: CosmosWriterOptions): NullifierWriter {
  if (options.rpcUrls.length === 0) throw new Error(`no RPC URLs for ${options.chain}`)
  const rpc = createCometRpc({
    chain: options.chain,
    urls: options.rpcUrls,
    timeoutMs: options.requestTimeoutMs ?? 15_000,
    // Failover warnings go to the consumer's stderr like its own logs; never the mnemonic.
    logger: createLogger({ service: 'nullifier-writer-cosmos', level: 'warn' }),
    onError: () => {},
  })
  const keyPromise = cosmosKey(options.mnemonic, options.bech32Prefix, options.hdIndex ?? 0).then((key) => {
    if (key.address !== options.address) {
      throw new Error(
        `${options.chain}: the relayer mnemonic does not derive the configured address ${options.address}`,
      )
    }
    return key
  })
  // An unused writer must not turn a bad mnemonic into an unhandled rejection.
  keyPromise.catch(() => {})
  let accountNumber: bigint | undefined
  let lastSigned: bigint | undefined

  async function account() {
    const key = await keyPromise
    const found = await queryAccount(rpc, key.address)
    if (!found) {
      throw new RetryableError(
        `${options.chain}: the relayer account ${key.address} does not exist on chain (fund it first)`,
        { details: { chain: options.chain } },
      )
    }
    accountNumber = found.accountNumber
    return found
  }

  async function isUsed(scope: string, nullifier: string) {
    const answer = await querySmart(rpc, options.registry, { is_used: { scope, nullifier } })
    if (typeof answer !== 'boolean') throw new Error(`${options.chain}: is_used answered ${typeof answer}`)
    return answer
  }

  const writer: NullifierWriter = {
    chain: options.chain,
    sender: options.address,
    isUsed,

    async nextNonce() {
      const { sequence } = await account()
      return lastSigned === undefined || sequence > lastSigned ? sequence : lastSigned + 1n
    },

    async prepare(use, nonce): Promise<PreparedWrite> {
      // CheckTx does not run the contract: the state is checked here, before signing.
      if (await isUsed(use.scope, use.nullifier)) {
        throw new AlreadyPresentError(`${options.chain} already holds the nullifier`)
      }
      const key = await keyPromise
      if (accountNumber === undefined) await account()
      const signed = await signTx({
        key,
        chainId: options.chainId,
        accountNumber: accountNumber!,
        sequence: nonce,
        messages: [
          executeContractAny(key.address, options.registry, {
            record_relayed: {
              scope: use.scope,
              nullifier: use.nullifier,
              merkle_tree_root: use.merkleTreeRoot ?? '0',
              origin_chain: use.originChain,
            },
          }),
        ],
        gasLimit: options.gasLimit,
        gasPrice: options.gasPrice,
      })
      return {
        txHash: signed.txHash,
        nonce: nonce.toString(),
        signed: `0x${Buffer.from(signed.bytes).toString('hex')}`,
      }
    },

    async broadcast(write) {
      const nonce = BigInt(write.nonce)
      if (lastSigned === undefined || nonce > lastSigned) lastSigned = nonce
      const bytes = Buffer.from(write.signed.slice(2), 'hex')
      let refusal: string
      try {
        const answer = await broadcastSync(rpc, bytes)
        if (answer.code === 0) return
        refusal = `code ${answer.code} (${answer.codespace ?? ''}): ${answer.log ?? ''}`
        if (answer.code === WRONG_SEQUENCE) {
          // expected > got: the sequence is taken already (by these bytes, committed, or by
          // another write): status() tells which. expected < got: an earlier write is missing.
          const match = /expected (\d+), got (\d+)/.exec(answer.log ?? '')
          if (match && BigInt(match[1]!) > BigInt(match[2]!)) return
        }
      } catch (error) {
        if (!(error instanceof CometRpcError)) throw error
        if (ALREADY_ACCEPTED.test(error.data)) return
        refusal = error.data
      }
      throw new RetryableError(
        `${options.chain}: the node refused the relayed write: ${refusal.slice(0, 300)}`,
        {
          details: { chain: options.chain, txHash: write.txHash },
        },
      )
    },

    async status(write): Promise<WriteStatus> {
      const found = await findTx(rpc, write.txHash)
      if (found) {
        return found.tx_result.code === 0
          ? { state: 'confirmed', blockNumber: found.height }
          : { state: 'reverted', blockNumber: found.height }
      }
      const { sequence } = await account()
      if (sequence <= BigInt(write.nonce)) return { state: 'unknown' }
      const late = await findTx(rpc, write.txHash)
      if (!late) return { state: 'dropped' }
      return late.tx_result.code === 0
        ? { state: 'confirmed', blockNumber: late.height }
        : { state: 'reverted', blockNumber: late.height }
    },

    close() {},
  }
  return writer
}

/**
 * The relayer's Cosmos key: VERIDIS_RELAYER_COSMOS_ADDRESS with VERIDIS_RELAYER_COSMOS_MNEMONIC
 * (and VERIDIS_RELAYER_COSMOS_HD_INDEX, default 0), or — outside production — the local wasmd's
 * dev relayer, which `veridis up` writes among the local secrets.
 */
function cosmosRelayer(
  chain: string,
  config: Config,
  env: NodeJS.ProcessEnv,
): { address: string; mnemonic: string; hdIndex: number } | { problem: string } {
  const address = env.VERIDIS_RELAYER_COSMOS_ADDRESS
  const mnemonic = env.VERIDIS_RELAYER_COSMOS_MNEMONIC
  if (address && mnemonic) {
    const hdIndex = Number(env.VERIDIS_RELAYER_COSMOS_HD_INDEX ?? '0')
    if (!Number.isSafeInteger(hdIndex) || hdIndex < 0)
      return { problem: 'VERIDIS_RELAYER_COSMOS_HD_INDEX: must be a non-negative integer' }
    return { address, mnemonic, hdIndex }
  }
  if (config.env === 'production') {
    return {
      problem:
        'VERIDIS_RELAYER_COSMOS_ADDRESS and VERIDIS_RELAYER_COSMOS_MNEMONIC: required in production (the relayer signs with them)',
    }
  }
  const file = path.join(config.home, 'secrets', 'cosmos-relayer.json')
  const local = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as {
        chain?: string
        address?: string
        mnemonic?: string
        hdIndex?: number
      })
    : undefined
  if (local?.chain !== chain || !local.address || !local.mnemonic) {
    return {
      problem: `${chain}: no relayer key; set VERIDIS_RELAYER_COSMOS_ADDRESS and VERIDIS_RELAYER_COSMOS_MNEMONIC (the local wasmd: bin/veridis up writes its dev relayer)`,
    }
  }
  return { address: local.address, mnemonic: local.mnemonic, hdIndex: local.hdIndex ?? 0 }
}

/** The family's entry of writers/index.ts: its writable chains and a writer per chain. */
export const cosmosWriters = {
  writableChains: (config: Config) =>
    [...cosmosFamily.loadChains(config.home).values()]
      .filter(({ enabled, resolved }) => enabled && 'config' in resolved)
      .map(({ chain }) => chain),

  create(
    chain: string,
    config: Config,
    env: NodeJS.ProcessEnv = process.env,
  ): NullifierWriter | { problem: string } {
    const resolved = cosmosFamily.loadChains(config.home).get(chain)?.resolved
    if (!resolved) return { problem: `${chain} is not a configured Cosmos chain (VERIDIS_COSMOS_CONFIG)` }
    if ('problem' in resolved) return resolved
    const relayer = cosmosRelayer(chain, config, env)
    if ('problem' in relayer) return relayer
    return createCosmosWriter({
      chain,
      chainId: resolved.config.chainId,
      rpcUrls: resolved.config.rpcUrls,
      registry: resolved.config.contracts.registry,
      bech32Prefix: resolved.config.bech32Prefix,
      address: relayer.address,
      mnemonic: relayer.mnemonic,
      hdIndex: relayer.hdIndex,
      gasPrice: resolved.config.gasPrice,
      gasLimit: resolved.config.writeGasLimit,
      requestTimeoutMs: resolved.config.requestTimeoutMs,
    })
  },
}
