import { randomInt } from 'node:crypto'
import { cpSync, lstatSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Connection, Keypair, PublicKey, Transaction, TransactionInstruction } from '@solana/web3.js'
import { nullifierAccount, registrationTransaction } from '../../consumers/nullifiers/writers/solana.ts'
import {
  ensureValidatorBinary,
  fundFromMint,
  solanaEntry,
  startValidator,
  type ValidatorOptions,
} from '../../infra/stack/solana-validator.ts'
import { type SolanaChainEntry, solanaChainOf } from '../../producers/chains/solana/config.ts'
import { encodeMemo, MEMO_PROGRAM_ID, type VeridisMemo } from '../../producers/chains/solana/protocol.ts'
import { expectRejection, type FamilyPeer } from '../nullifiers/family-peer.ts'
import { type ChainListenerOptions, startChainListener, writeChainConfig } from '../support/chain-listener.ts'
import { eventually } from '../support/harness.ts'

/**
 * A real solana-test-validator per test file (its own temporary ledger and ports), the two
 * Veridis authorities generated and funded from the validator's mint, and `veridis listen
 * solana` as a child process.
 */
export interface TestValidator {
  readonly chain: string
  readonly url: string
  readonly wsUrl: string
  readonly ledger: string
  readonly connection: Connection
  /** Registry authority and relayer: base key of the nullifier marker accounts. */
  readonly authority: Keypair
  readonly attester: Keypair
  /** Slot to start listening at (the chain's finalized slot once funded). */
  readonly startSlot: number
  /** A use of a nullifier written by the authority: marker account + memo. */
  use(scope: bigint, nullifier: bigint, options?: { relayedFrom?: string; root?: bigint }): Promise<Sent>
  /** A memo signed by `signer` (the attester unless given). */
  memo(memo: VeridisMemo | string, signer?: Keypair): Promise<Sent>
  isUsed(scope: bigint, nullifier: bigint): Promise<boolean>
  /** Stops the validator, keeping its ledger. */
  halt(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on its ledger (same ports, same genesis). */
  resume(): Promise<void>
  /** A copy of the ledger as it is now (halt first: RocksDB is copied as files). */
  copyLedger(): string
  /** Replaces the ledger with a copy made earlier: the chain goes back to that point. */
  restoreLedger(copy: string): void
  stop(signal?: NodeJS.Signals): Promise<void>
}

export interface Sent {
  readonly signature: string
  readonly slot: number
  readonly blockhash: string
  /** Index of the transaction in its block. */
  readonly index: number
}

/** The ledger's admin RPC socket cannot be copied (and belongs to the running process). */
const notSocket = (source: string) => !lstatSync(source).isSocket()

/** Ports below the kernel's ephemeral range, so nothing the OS hands out collides with them. */
function randomPorts() {
  const base = randomInt(20_000, 31_000)
  return {
    rpcPort: base,
    faucetPort: base + 2,
    gossipPort: base + 3,
    dynamicPortRange: [base + 10, base + 70] as const,
  }
}

/** Preflight refusals a just-restarted validator gives for a while (see sendFresh). */
const RESTART_REFUSALS = /blockhash not found|unsupported program id/i

export async function startTestValidator(
  settings: Pick<ValidatorOptions, 'ticksPerSlot' | 'ledgerShreds'> = {},
): Promise<TestValidator> {
  const binary = await ensureValidatorBinary(path.join(os.homedir(), '.cache', 'veridis'), () => {})
  const ledger = mkdtempSync(path.join(os.tmpdir(), 'veridis-solana-ledger-'))
  const options = { ledger, ...randomPorts(), ...settings }
  let node = await startValidator(binary, options)
  const connection = new Connection(node.url, 'confirmed')
  const copies: string[] = []
  const chain = solanaChainOf(await connection.getGenesisHash())
  const authority = Keypair.generate()
  const attester = Keypair.generate()
  await fundFromMint(node.url, ledger, [authority.publicKey, attester.publicKey], 100)
  const startSlot = await connection.getSlot('finalized')
  const rent = await connection.getMinimumBalanceForRentExemption(0)

  /**
   * Signs `build`'s transaction over a blockhash asked for now, sends it and waits for
   * `confirmed`. Not web3.js's sendAndConfirmTransaction: that replaces the blockhash with one
   * it caches for 30 s, which after a ledger rollback names a block the chain no longer has.
   * Two preflight refusals of a validator that just restarted are asked again: a blockhash
   * "not found" (or far behind on a loaded machine), and "Unsupported program id" for the
   * Memo program while the restarted node reloads its program cache. Refused in preflight
   * means never landed, so this cannot make a second use. Every other error is the test's.
   */
  async function sendFresh(
    build: (latest: { blockhash: string; lastValidBlockHeight: number }) => Promise<Transaction>,
    signers: readonly Keypair[],
  ): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const latest = await connection.getLatestBlockhash('confirmed')
      const tx = await build(latest)
      tx.sign(...signers)
      try {
        const signature = await connection.sendRawTransaction(tx.serialize(), {
          preflightCommitment: 'confirmed',
        })
        const { value } = await connection.confirmTransaction({ signature, ...latest }, 'confirmed')
        if (value.err) throw new Error(`transaction ${signature} failed: ${JSON.stringify(value.err)}`)
        return signature
      } catch (error) {
        if (attempt >= 8 || !RESTART_REFUSALS.test(String(error))) throw error
        await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt))
      }
    }
  }

  async function rawBlock(slot: number) {
    const response = await fetch(node.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'getBlock',
        params: [
          slot,
          {
            commitment: 'confirmed',
            transactionDetails: 'signatures',
            rewards: false,
            maxSupportedTransactionVersion: 0,
          },
        ],
      }),
    })
    return ((await response.json()) as { result?: { blockhash: string; signatures: string[] } | null }).result
  }

  async function sent(signature: string): Promise<Sent> {
    // confirmTransaction answers from the signature-status cache; the transaction itself can
    // reach the node's blockstore later under load (CI saw `null` right after confirmation),
    // so it is asked again for a while, like the block below.
    const tx = await eventually(
      async () =>
        (await connection.getTransaction(signature, {
          commitment: 'confirmed',
          maxSupportedTransactionVersion: 0,
        })) ?? undefined,
      30_000,
      `transaction ${signature} at confirmed`,
    )
    // Raw JSON-RPC: web3.js 1.98's getBlock validates a `signatures` block against the full
    // block's schema and refuses it. A block just confirmed can lag in the node's blockstore
    // under load ("block not available"), so it is asked again for a while.
    const { block, index } = await eventually(
      async () => {
        const found = await rawBlock(tx.slot)
        const position = found?.signatures.indexOf(signature) ?? -1
        return found && position >= 0 ? { block: found, index: position } : undefined
      },
      30_000,
      `transaction ${signature} in block ${tx.slot}`,
    )
    return { signature, slot: tx.slot, blockhash: block.blockhash, index }
  }

  return {
    chain,
    url: node.url,
    wsUrl: node.wsUrl,
    ledger,
    connection,
    authority,
    attester,
    startSlot,
    async use(scope, nullifier, options = {}) {
      const root = (options.root ?? 9n).toString()
      const memo =
        options.relayedFrom === undefined
          ? { k: 'NullifierUsed' as const, scope: scope.toString(), nullifier: nullifier.toString(), root }
          : {
              k: 'NullifierRelayed' as const,
              scope: scope.toString(),
              nullifier: nullifier.toString(),
              root,
              origin: options.relayedFrom,
            }
      const signature = await sendFresh(
        (latest) =>
          registrationTransaction({ authority: authority.publicKey, memo, lamports: rent, ...latest }),
        [authority],
      )
      return sent(signature)
    },
    async memo(memo, signer = attester) {
      const text = typeof memo === 'string' ? memo : encodeMemo(memo)
      const signature = await sendFresh(
        async (latest) =>
          new Transaction({ feePayer: signer.publicKey, ...latest }).add(
            new TransactionInstruction({
              programId: new PublicKey(MEMO_PROGRAM_ID),
              keys: [{ pubkey: signer.publicKey, isSigner: true, isWritable: false }],
              data: Buffer.from(text, 'utf8'),
            }),
          ),
        [signer],
      )
      return sent(signature)
    },
    async isUsed(scope, nullifier) {
      const account = await nullifierAccount(authority.publicKey, scope.toString(), nullifier.toString())
      const info = await connection.getAccountInfo(account, 'confirmed')
      return info !== null && info.owner.toBase58() === MEMO_PROGRAM_ID
    },
    halt: (signal) => node.stop(signal),
    async resume() {
      node = await startValidator(binary, options)
    },
    copyLedger() {
      const copy = mkdtempSync(path.join(os.tmpdir(), 'veridis-solana-ledger-copy-'))
      cpSync(ledger, copy, { recursive: true, filter: notSocket })
      copies.push(copy)
      return copy
    },
    restoreLedger(copy) {
      rmSync(ledger, { recursive: true, force: true })
      cpSync(copy, ledger, { recursive: true, filter: notSocket })
    },
    async stop(signal) {
      await node.stop(signal)
      for (const dir of [ledger, ...copies]) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A listener configuration entry for a test validator. */
export function validatorEntry(
  validator: TestValidator,
  overrides: Partial<SolanaChainEntry> = {},
): SolanaChainEntry {
  return {
    ...solanaEntry({
      chain: validator.chain,
      rpcUrl: validator.url,
      wsUrl: validator.wsUrl,
      attestation: validator.attester.publicKey.toBase58(),
      nullifier: validator.authority.publicKey.toBase58(),
      startBlock: validator.startSlot,
    }),
    pollIntervalMs: 200,
    ...overrides,
  }
}

export const writeSolanaConfig = (entries: readonly SolanaChainEntry[]) => writeChainConfig('solana', entries)

/** The relayer key as VERIDIS_RELAYER_SOLANA_SECRET_KEY takes it. */
export const relayerKeyEnv = (validator: TestValidator) => JSON.stringify([...validator.authority.secretKey])

/** `veridis listen solana` as a real child process, in the test's namespace. */
export const startSolanaListener = (options: ChainListenerOptions) => startChainListener('solana', options)

/**
 * The validator as a peer for nullifier propagation (test/nullifiers/family-peer.ts): the
 * consumer writes with the registry authority. A use is an account derived from (scope,
 * nullifier), so a second one fails to create it on-chain. The listener starts at
 * `startBlock` (the validator's finalized slot once funded unless given).
 */
export function validatorPeer(
  validator: TestValidator,
  options: { readonly startBlock?: number } = {},
): FamilyPeer {
  const configFile = writeSolanaConfig([
    validatorEntry(validator, options.startBlock === undefined ? {} : { startBlock: options.startBlock }),
  ])
  return {
    chain: validator.chain,
    consumerEnv: {
      VERIDIS_SOLANA_CONFIG: configFile,
      VERIDIS_RELAYER_SOLANA_SECRET_KEY: relayerKeyEnv(validator),
    },
    startListener: (namespace) => startSolanaListener({ namespace, configFile, chains: [validator.chain] }),
    use: async (scope, nullifier) => (await validator.use(scope, nullifier)).signature,
    isUsed: (scope, nullifier) => validator.isUsed(scope, nullifier),
    async expectSecondUseRefused(scope, nullifier) {
      await expectRejection(validator.use(scope, nullifier), /already in use|custom program error: 0x0/i)
    },
    stop: () => validator.stop(),
  }
}
