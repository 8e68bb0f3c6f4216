import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import {
  Connection,
  Keypair,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionInstruction,
} from '@solana/web3.js'
import type { Config } from '../../../core/config/env.ts'
import { RetryableError } from '../../../core/errors.ts'
import { solanaFamily } from '../../../producers/chains/solana/family.ts'
import { encodeMemo, MEMO_PROGRAM_ID, nullifierSeed } from '../../../producers/chains/solana/protocol.ts'
import { AlreadyPresentError, type NullifierWriter, type PreparedWrite, type WriteStatus } from './writer.ts'

/**
 * The Solana propagation writer (producers/chains/solana/protocol.ts): one transaction from
 * the registry authority with `createAccountWithSeed(base = authority, seed =
 * nullifierSeed(scope, nullifier), owner = Memo program)` and a `NullifierRelayed` memo. The
 * System program refuses to create an account that exists: a second registration of a
 * nullifier fails on chain.
 *
 * Crash safety as for EVM (writer.ts): the transaction is signed here, its signature (the
 * tx id) known and its bytes recorded by the driver before they are sent. Solana has no
 * account nonce; a transaction's replay protection is its recent blockhash, valid until the
 * chain passes the blockhash's `lastValidBlockHeight`. So the write's `nonce` is that
 * height: `nextNonce` takes the latest blockhash and answers its lastValidBlockHeight (the
 * driver only passes it back to `prepare`, which signs over that blockhash), and a write is
 * `dropped` once the finalized block height is past it and the signature is not on chain —
 * it can never land then, and the driver signs a new one. Writes do not consume a sequence,
 * so concurrent writes never block each other; the driver's sender lock is harmless.
 *
 * Broadcasts skip preflight: a registration that lost a race lands as a failed transaction
 * (`reverted`), which the driver resolves by asking `isUsed`. Only that failure is `reverted`
 * (see lostRace); a transaction that failed for any other reason registered nothing and never
 * will, so it is `dropped` and the driver signs afresh rather than reporting FAILED.
 */
export interface SolanaWriterOptions {
  readonly chain: string
  readonly rpcUrls: readonly string[]
  /** The registry authority's keypair (64 bytes); never logged or put into errors. */
  readonly secretKey: Uint8Array
  readonly requestTimeoutMs?: number
}

const MEMO = new PublicKey(MEMO_PROGRAM_ID)
const ALREADY_SENT = /already been processed|AlreadyProcessed/i

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
/** Base58 (Bitcoin alphabet), as Solana writes signatures. */
export function base58(bytes: Uint8Array): string {
  let value = 0n
  for (const byte of bytes) value = value * 256n + BigInt(byte)
  let text = ''
  while (value > 0n) {
    text = ALPHABET[Number(value % 58n)]! + text
    value /= 58n
  }
  for (const byte of bytes) {
    if (byte !== 0) break
    text = `1${text}`
  }
  return text
}

/** The marker account of a nullifier under an authority. */
export function nullifierAccount(authority: PublicKey, scope: string, nullifier: string): Promise<PublicKey> {
  return PublicKey.createWithSeed(authority, nullifierSeed(scope, nullifier), MEMO)
}

/** The transaction registering a use: marker account + memo, fee paid by the authority. */
export async function registrationTransaction(options: {
  readonly authority: PublicKey
  readonly memo: Parameters<typeof encodeMemo>[0] & { scope: string; nullifier: string }
  readonly lamports: number
  readonly blockhash: string
  readonly lastValidBlockHeight: number
}): Promise<Transaction> {
  const { authority, memo } = options
  const seed = nullifierSeed(memo.scope, memo.nullifier)
  return new Transaction({
    feePayer: authority,
    blockhash: options.blockhash,
    lastValidBlockHeight: options.lastValidBlockHeight,
  }).add(
    SystemProgram.createAccountWithSeed({
      fromPubkey: authority,
      basePubkey: authority,
      seed,
      newAccountPubkey: await PublicKey.createWithSeed(authority, seed, MEMO),
      lamports: options.lamports,
      space: 0,
      programId: MEMO,
    }),
    new TransactionInstruction({ programId: MEMO, keys: [], data: Buffer.from(encodeMemo(memo), 'utf8') }),
  )
}

export function createSolanaWriter(options: SolanaWriterOptions): NullifierWriter {
  if (options.rpcUrls.length === 0) throw new Error(`no RPC URLs for ${options.chain}`)
  const keypair = Keypair.fromSecretKey(options.secretKey)
  const authority = keypair.publicKey
  const connections = options.rpcUrls.map(
    (url) =>
      new Connection(url, {
        commitment: 'confirmed',
        disableRetryOnRateLimit: true,
        fetch: (input, init) =>
          fetch(input, { ...init, signal: AbortSignal.timeout(options.requestTimeoutMs ?? 15_000) }),
      }),
  )
  let active = 0
  let rent: number | undefined
  /** Blockhashes handed out by nextNonce, by their lastValidBlockHeight. */
  const blockhashes = new Map<number, string>()

  /** One call with failover; errors name the chain and call, never the URL or the key. */
  async function rpc<T>(what: string, call: (connection: Connection) => Promise<T>): Promise<T> {
    let last: unknown
    for (let tried = 0; tried < connections.length; tried++) {
      const index = (active + tried) % connections.length
      try {
        const result = await call(connections[index]!)
        active = index
        return result
      } catch (error) {
        last = error
      }
    }
    throw new RetryableError(`${what} on ${options.chain} failed on every RPC endpoint: ${reason(last)}`, {
      details: { chain: options.chain },
    })
  }

  async function isUsed(scope: string, nullifier: string) {
    const account = await nullifierAccount(authority, scope, nullifier)
    const info = await rpc('getAccountInfo', (connection) => connection.getAccountInfo(account, 'confirmed'))
    return info?.owner.equals(MEMO) === true
  }

  async function signatureStatus(signature: string): Promise<WriteStatus | undefined> {
    const { value } = await rpc('getSignatureStatuses', (connection) =>
      connection.getSignatureStatuses([signature], { searchTransactionHistory: true }),
    )
    const found = value[0]
    if (!found) return undefined
    if (found.confirmationStatus !== 'confirmed' && found.confirmationStatus !== 'finalized')
      return { state: 'pending' }
    if (found.err === null) return { state: 'confirmed', blockNumber: found.slot }
    return lostRace(found.err) ? { state: 'reverted', blockNumber: found.slot } : { state: 'dropped' }
  }

  return {
    chain: options.chain,
    sender: authority.toBase58(),
    isUsed,

    async nextNonce() {
      const latest = await rpc('getLatestBlockhash', (connection) =>
        connection.getLatestBlockhash('confirmed'),
      )
      blockhashes.set(latest.lastValidBlockHeight, latest.blockhash)
      if (blockhashes.size > 64) blockhashes.delete(blockhashes.keys().next().value!)
      return BigInt(latest.lastValidBlockHeight)
    },

    async prepare(use, nonce): Promise<PreparedWrite> {
      if (await isUsed(use.scope, use.nullifier)) {
        throw new AlreadyPresentError(`${options.chain} already holds the nullifier`)
      }
      const lastValidBlockHeight = Number(nonce)
      const blockhash = blockhashes.get(lastValidBlockHeight)
      if (!blockhash) throw new RetryableError(`${options.chain}: no blockhash known for nonce ${nonce}`)
      rent ??= await rpc('getMinimumBalanceForRentExemption', (connection) =>
        connection.getMinimumBalanceForRentExemption(0),
      )
      const tx = await registrationTransaction({
        authority,
        memo: {
          k: 'NullifierRelayed',
          scope: BigInt(use.scope).toString(),
          nullifier: BigInt(use.nullifier).toString(),
          root: use.merkleTreeRoot === null ? null : BigInt(use.merkleTreeRoot).toString(),
          origin: use.originChain,
        },
        lamports: rent,
        blockhash,
        lastValidBlockHeight,
      })
      tx.sign(keypair)
      return {
        txHash: base58(tx.signature!),
        nonce: nonce.toString(),
        signed: `0x${tx.serialize().toString('hex')}`,
      }
    },

    async broadcast(write) {
      const bytes = Buffer.from(write.signed.slice(2), 'hex')
      try {
        await rpc('sendTransaction', (connection) =>
          connection.sendRawTransaction(bytes, { skipPreflight: true, maxRetries: 0 }),
        )
      } catch (error) {
        if (!ALREADY_SENT.test(reason(error))) throw error
      }
    },

    async status(write) {
      const found = await signatureStatus(write.txHash)
      if (found) return found
      const height = await rpc('getBlockHeight', (connection) => connection.getBlockHeight('finalized'))
      if (height <= Number(write.nonce)) return { state: 'unknown' }
      // Past its last valid height at `finalized`: no block can include it any more.
      return (await signatureStatus(write.txHash)) ?? { state: 'dropped' }
    },

    close() {},
  }
}

/**
 * The System program's refusal of the marker account, which exists already: error 0
 * (`AccountAlreadyInUse`) of instruction 0, createAccountWithSeed — a registration that lost
 * the race. Other failures, such as the Memo program answering "Unsupported program id" while
 * a restarted validator reloads its program cache, are not about the nullifier at all.
 */
function lostRace(err: unknown): boolean {
  const failure = (err as { InstructionError?: unknown } | null)?.InstructionError
  if (!Array.isArray(failure) || failure[0] !== 0) return false
  return (failure[1] as { Custom?: unknown } | null)?.Custom === 0
}

/** The message, URLs hidden. */
function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.replace(/https?:\/\/\S+/g, '<rpc>').slice(0, 400)
}

/** A keypair as solana-keygen writes it: a JSON array of 64 bytes. */
function keypairBytes(text: string): Uint8Array | undefined {
  try {
    const bytes = JSON.parse(text) as unknown
    if (
      Array.isArray(bytes) &&
      bytes.length === 64 &&
      bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256)
    )
      return Uint8Array.from(bytes as number[])
  } catch {}
  return undefined
}

/** Where `veridis up` keeps the local validator's registry authority (development keys). */
export const solanaRelayerFile = (home: string) => path.join(home, 'secrets', 'solana-relayer.json')

/**
 * The relayer's key for a chain: VERIDIS_RELAYER_SOLANA_SECRET_KEY (a solana-keygen JSON
 * array), or — outside production — the local validator's authority that `veridis up` writes
 * among the local secrets. It must be the chain's nullifier authority: the marker accounts
 * are derived from it and only it can create them.
 */
export function solanaWriterFor(chain: string, config: Config): NullifierWriter | { problem: string } {
  const resolved = solanaFamily.loadChains(config.home).get(chain)?.resolved
  if (!resolved) return { problem: `${chain} is not a configured Solana chain (VERIDIS_SOLANA_CONFIG)` }
  if ('problem' in resolved) return resolved
  const authority = resolved.config.authorities.nullifier
  if (!authority) return { problem: `${chain} has no nullifier authority` }
  let secretKey: Uint8Array | undefined
  const configured = process.env.VERIDIS_RELAYER_SOLANA_SECRET_KEY
  if (configured) {
    secretKey = keypairBytes(configured)
    if (!secretKey)
      return {
        problem: 'VERIDIS_RELAYER_SOLANA_SECRET_KEY: must be a JSON array of 64 bytes (solana-keygen)',
      }
  } else if (config.env === 'production') {
    return {
      problem: 'VERIDIS_RELAYER_SOLANA_SECRET_KEY: required in production (the relayer signs with it)',
    }
  } else {
    const file = solanaRelayerFile(config.home)
    const local = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { chain?: string; secretKey?: unknown })
      : undefined
    secretKey = local?.chain === chain ? keypairBytes(JSON.stringify(local.secretKey)) : undefined
    if (!secretKey) {
      return {
        problem: `${chain}: no relayer key; set VERIDIS_RELAYER_SOLANA_SECRET_KEY (the local validator: bin/veridis up writes its authority)`,
      }
    }
  }
  if (Keypair.fromSecretKey(secretKey).publicKey.toBase58() !== authority) {
    return { problem: `${chain}: the relayer key is not the chain's nullifier authority ${authority}` }
  }
  return createSolanaWriter({
    chain,
    rpcUrls: resolved.config.rpcUrls,
    secretKey,
    requestTimeoutMs: resolved.config.requestTimeoutMs,
  })
}

/** The family's chains that can take writes: enabled, with a nullifier authority. */
export const solanaWritableChains = (config: Config) =>
  [...solanaFamily.loadChains(config.home).values()]
    .filter(
      ({ enabled, resolved }) => enabled && 'config' in resolved && resolved.config.authorities.nullifier,
    )
    .map(({ chain }) => chain)
