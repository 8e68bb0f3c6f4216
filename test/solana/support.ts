import { type ChildProcess, spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { cpSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  Connection,
  Keypair,
  PublicKey,
  sendAndConfirmTransaction,
  Transaction,
  TransactionInstruction,
} from '@solana/web3.js'
import { nullifierAccount, registrationTransaction } from '../../consumers/nullifiers/writers/solana.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { cliCommand } from '../../infra/stack/pipeline.ts'
import {
  ensureValidatorBinary,
  fundFromMint,
  solanaEntry,
  startValidator,
} from '../../infra/stack/solana-validator.ts'
import { type SolanaChainEntry, solanaChainOf } from '../../producers/chains/solana/config.ts'
import { encodeMemo, MEMO_PROGRAM_ID, type VeridisMemo } from '../../producers/chains/solana/protocol.ts'
import { freePort, type ListenerProcess } from '../evm/support.ts'
import { eventually, testEnv } from '../support/harness.ts'

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

export async function startTestValidator(settings: { ticksPerSlot?: number } = {}): Promise<TestValidator> {
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
    const tx = await connection.getTransaction(signature, {
      commitment: 'confirmed',
      maxSupportedTransactionVersion: 0,
    })
    if (!tx) throw new Error(`transaction ${signature} not found at confirmed`)
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
      const latest = await connection.getLatestBlockhash('confirmed')
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
      const tx = await registrationTransaction({
        authority: authority.publicKey,
        memo,
        lamports: rent,
        ...latest,
      })
      const signature = await sendAndConfirmTransaction(connection, tx, [authority], {
        commitment: 'confirmed',
      })
      return sent(signature)
    },
    async memo(memo, signer = attester) {
      const text = typeof memo === 'string' ? memo : encodeMemo(memo)
      const tx = new Transaction().add(
        new TransactionInstruction({
          programId: new PublicKey(MEMO_PROGRAM_ID),
          keys: [{ pubkey: signer.publicKey, isSigner: true, isWritable: false }],
          data: Buffer.from(text, 'utf8'),
        }),
      )
      const signature = await sendAndConfirmTransaction(connection, tx, [signer], { commitment: 'confirmed' })
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

const configDirs: string[] = []
process.once('exit', () => {
  for (const dir of configDirs) rmSync(dir, { recursive: true, force: true })
})

export function writeSolanaConfig(entries: readonly SolanaChainEntry[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veridis-solana-config-'))
  configDirs.push(dir)
  const file = path.join(dir, 'chains.json')
  writeFileSync(file, JSON.stringify(entries, null, 2))
  return file
}

/** The relayer key as VERIDIS_RELAYER_SOLANA_SECRET_KEY takes it. */
export const relayerKeyEnv = (validator: TestValidator) => JSON.stringify([...validator.authority.secretKey])

/** `veridis listen solana` as a real child process, in the test's namespace. */
export async function startSolanaListener(options: {
  namespace: string
  configFile: string
  chains: readonly string[]
  env?: NodeJS.ProcessEnv
}): Promise<ListenerProcess> {
  const opsPort = await freePort()
  const command = cliCommand([
    'listen',
    'solana',
    '--ops-port',
    String(opsPort),
    '--chain',
    ...options.chains,
  ])
  const child: ChildProcess = spawn(command.command, command.args, {
    cwd: PROJECT_ROOT,
    env: {
      ...testEnv(options.namespace),
      VERIDIS_LOG_LEVEL: 'info',
      VERIDIS_SOLANA_CONFIG: options.configFile,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    opsPort,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      await exited
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()
    },
    async ready() {
      try {
        return (await fetch(`http://127.0.0.1:${opsPort}/ready`)).ok
      } catch {
        return false
      }
    },
  }
}
