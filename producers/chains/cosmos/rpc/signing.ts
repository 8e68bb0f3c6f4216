import { createHash } from 'node:crypto'
import {
  DirectSecp256k1HdWallet,
  encodePubkey,
  makeAuthInfoBytes,
  makeCosmoshubPath,
  makeSignDoc,
} from '@cosmjs/proto-signing'
import { calculateFee, GasPrice } from '@cosmjs/stargate'
import type { CometRpc } from './client.ts'
import { CometRpcError, isTxNotFound } from './client.ts'
import { accountOf, accountRequest, smartQueryRequest, smartQueryResult, txBody, txRaw } from './proto.ts'
import { abciQuerySchema, broadcastSyncSchema, type TxResult, txResultSchema } from './schemas.ts'

/**
 * Signing and the account/contract queries around it, shared by the Cosmos nullifier writer,
 * the local stack's deployment and the tests: SIGN_MODE_DIRECT with cosmjs's secp256k1 HD
 * wallet (BIP-44 coin type 118), the TxRaw bytes built here, so the transaction hash
 * (sha256 of those bytes) is known before anything is sent and the same bytes can be broadcast
 * again after a crash. Keys stay inside the wallet object; nothing here logs them.
 */
export interface CosmosKey {
  readonly address: string
  readonly wallet: DirectSecp256k1HdWallet
  readonly pubkey: Uint8Array
}

/** The key at m/44'/118'/0'/0/<index> of a mnemonic. */
export async function cosmosKey(mnemonic: string, prefix: string, index = 0): Promise<CosmosKey> {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, {
    prefix,
    hdPaths: [makeCosmoshubPath(index)],
  })
  const [account] = await wallet.getAccounts()
  if (!account) throw new Error('the mnemonic gave no account')
  return { address: account.address, wallet, pubkey: account.pubkey }
}

export interface SignedTx {
  /** sha256 of the bytes, upper-case hex: what CometBFT's `tx` and `tx_search` name it by. */
  readonly txHash: string
  readonly bytes: Uint8Array
}

export const txHashOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').toUpperCase()

export async function signTx(options: {
  readonly key: CosmosKey
  readonly chainId: string
  readonly accountNumber: bigint
  readonly sequence: bigint
  /** Messages packed as google.protobuf.Any. */
  readonly messages: readonly Uint8Array[]
  readonly memo?: string
  readonly gasLimit: number
  /** `<amount><denom>`, e.g. 0stake or 0.025uatom. */
  readonly gasPrice: string
}): Promise<SignedTx> {
  const bodyBytes = txBody(options.messages, options.memo ?? '')
  const fee = calculateFee(options.gasLimit, GasPrice.fromString(options.gasPrice))
  const pubkey = encodePubkey({
    type: 'tendermint/PubKeySecp256k1',
    value: Buffer.from(options.key.pubkey).toString('base64'),
  })
  const authInfoBytes = makeAuthInfoBytes(
    [{ pubkey, sequence: options.sequence }],
    fee.amount.filter((coin) => coin.amount !== '0'),
    options.gasLimit,
    undefined,
    undefined,
  )
  const signDoc = makeSignDoc(bodyBytes, authInfoBytes, options.chainId, options.accountNumber)
  const { signature } = await options.key.wallet.signDirect(options.key.address, signDoc)
  const bytes = txRaw(bodyBytes, authInfoBytes, Buffer.from(signature.signature, 'base64'))
  return { txHash: txHashOf(bytes), bytes }
}

/** Account number and committed sequence; undefined for an account the chain has never seen. */
export async function queryAccount(
  rpc: CometRpc,
  address: string,
): Promise<{ accountNumber: bigint; sequence: bigint } | undefined> {
  const answer = await rpc.call(
    'abci_query',
    {
      path: '/cosmos.auth.v1beta1.Query/Account',
      data: Buffer.from(accountRequest(address)).toString('hex'),
      prove: false,
    },
    abciQuerySchema,
  )
  if (answer.response.code !== 0 || !answer.response.value) return undefined
  return accountOf(Buffer.from(answer.response.value, 'base64'))
}

/** A CosmWasm smart query against the committed state. */
export async function querySmart(rpc: CometRpc, contract: string, query: unknown): Promise<unknown> {
  const answer = await rpc.call(
    'abci_query',
    {
      path: '/cosmwasm.wasm.v1.Query/SmartContractState',
      data: Buffer.from(smartQueryRequest(contract, query)).toString('hex'),
      prove: false,
    },
    abciQuerySchema,
  )
  if (answer.response.code !== 0 || !answer.response.value) {
    throw new CometRpcError(
      `smart query of ${contract} failed: ${answer.response.log ?? `code ${answer.response.code}`}`,
      answer.response.code,
      answer.response.log ?? '',
      { contract },
    )
  }
  return smartQueryResult(Buffer.from(answer.response.value, 'base64'))
}

/**
 * Hands the bytes to the node's mempool (CheckTx). Returns CheckTx's code and log: 0 accepted;
 * otherwise the chain's refusal (a wrong sequence, too little gas), which the caller judges.
 */
export async function broadcastSync(rpc: CometRpc, bytes: Uint8Array) {
  return rpc.call('broadcast_tx_sync', { tx: Buffer.from(bytes).toString('base64') }, broadcastSyncSchema)
}

/** The transaction as committed, or undefined when the node does not know it (yet). */
export async function findTx(rpc: CometRpc, txHash: string): Promise<TxResult | undefined> {
  try {
    return await rpc.call(
      'tx',
      { hash: Buffer.from(txHash, 'hex').toString('base64'), prove: false },
      txResultSchema,
    )
  } catch (error) {
    if (isTxNotFound(error)) return undefined
    throw error
  }
}

/** Waits until the node has committed the transaction (CometBFT makes a block a second locally). */
export async function waitForTx(rpc: CometRpc, txHash: string, timeoutMs = 30_000): Promise<TxResult> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await findTx(rpc, txHash)
    if (found) return found
    if (Date.now() > deadline) throw new Error(`transaction ${txHash} not committed within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
