import {
  Contract,
  type ErrorDescription,
  Interface,
  isError,
  JsonRpcProvider,
  keccak256,
  type TransactionRequest,
  Wallet,
} from 'ethers'
import { jsonRpcRequest } from '../../../contracts/evm/provider.ts'
import { RetryableError } from '../../../core/errors.ts'
import { AlreadyPresentError, type NullifierWriter, type PreparedWrite, type RelayedUse } from './writer.ts'

/**
 * The EVM propagation writer: `NullifierRegistry.recordRelayed(scope, nullifier, root,
 * originChain)` from the relayer account (RELAYER role), signed locally with ethers 6 so
 * the exact bytes can be recorded before they are sent.
 */
const REGISTRY_ABI = [
  'function isUsed(uint256 scope, uint256 nullifier) view returns (bool)',
  'function recordRelayed(uint256 scope, uint256 nullifier, uint256 merkleTreeRoot, string originChain)',
  'error NullifierAlreadyUsed(uint256 scope, uint256 nullifier)',
]
const registryInterface = new Interface(REGISTRY_ABI)

// Estimates are exact on a quiet chain; a margin covers state changing before inclusion.
const GAS_MARGIN_PERCENT = 130n

export interface EvmWriterOptions {
  readonly chain: string
  readonly chainId: bigint
  readonly rpcUrls: readonly string[]
  readonly registry: string
  /** The relayer's key. Held by the Wallet only; never logged or put into errors. */
  readonly privateKey: string
  /** Per RPC request; unset, ethers' own (5 minutes) applies. The sender lock is held meanwhile. */
  readonly requestTimeoutMs?: number
}

/** The registry's own refusal, when the node returned revert data for it. */
function registryRevert(error: unknown): ErrorDescription | undefined {
  const data = (error as { data?: unknown } | undefined)?.data
  if (typeof data !== 'string' || data.length < 10) return undefined
  try {
    return registryInterface.parseError(data) ?? undefined
  } catch {
    return undefined
  }
}

/** Nodes answer a re-sent transaction in their own words; none of these is a failure. */
function alreadyAccepted(error: unknown): boolean {
  if (isError(error, 'NONCE_EXPIRED')) return true
  const message = String((error as { message?: unknown })?.message ?? '').toLowerCase()
  return /already known|already imported|known transaction|nonce too low/.test(message)
}

export function createEvmWriter(options: EvmWriterOptions): NullifierWriter {
  const providers = options.rpcUrls.map((url) => {
    // A hanging endpoint must fail over (and let go of the sender lock) in bounded time.
    const request = jsonRpcRequest(url, options.requestTimeoutMs)
    // cacheTimeout -1: ethers otherwise answers a repeated call (the pending nonce!) from a
    // 250 ms cache, and a second write would be signed with the first one's nonce.
    const provider = new JsonRpcProvider(request, options.chainId, {
      staticNetwork: true,
      batchMaxCount: 1,
      cacheTimeout: -1,
    })
    provider.pollingInterval = 250
    return provider
  })
  if (providers.length === 0) throw new Error(`no RPC URLs for ${options.chain}`)
  const wallet = new Wallet(options.privateKey)
  let active = 0
  // The highest nonce of a write this process has recorded: a node that has not indexed (or,
  // after a failed broadcast, never received) such a transaction must not hand its nonce out
  // again. Only nonces of recorded transactions count (the driver calls `broadcast` only for
  // those, and the follower re-sends them until they land), so no gap can open.
  let lastSigned: bigint | undefined

  /**
   * One RPC call with failover across the chain's URLs. The error names the chain and the
   * call, never the URL (URLs often carry API keys) and never the cause's text, which
   * ethers fills with the request, URL included.
   */
  async function rpc<T>(what: string, call: (provider: JsonRpcProvider) => Promise<T>): Promise<T> {
    let last: unknown
    for (let tried = 0; tried < providers.length; tried++) {
      const index = (active + tried) % providers.length
      try {
        const result = await call(providers[index]!)
        active = index
        return result
      } catch (error) {
        // An answer from the chain (a revert, a refused nonce) is not the endpoint's fault.
        if (
          isError(error, 'CALL_EXCEPTION') ||
          isError(error, 'REPLACEMENT_UNDERPRICED') ||
          registryRevert(error) ||
          alreadyAccepted(error)
        )
          throw error
        last = error
      }
    }
    const code = (last as { code?: unknown } | undefined)?.code
    const short = (last as { shortMessage?: unknown } | undefined)?.shortMessage
    throw new RetryableError(
      `${what} on ${options.chain} failed on every RPC endpoint: ${String(code ?? 'error')}${typeof short === 'string' ? ` (${short})` : ''}`,
      { details: { chain: options.chain } },
    )
  }

  const registry = (provider: JsonRpcProvider) => new Contract(options.registry, registryInterface, provider)

  return {
    chain: options.chain,
    sender: wallet.address,

    isUsed: (scope, nullifier) =>
      rpc(
        'isUsed',
        (provider) => registry(provider).getFunction('isUsed')(scope, nullifier) as Promise<boolean>,
      ),

    async nextNonce() {
      const pending = BigInt(
        await rpc('nonce', (provider) => provider.getTransactionCount(wallet.address, 'pending')),
      )
      return lastSigned === undefined || pending > lastSigned ? pending : lastSigned + 1n
    },

    async prepare(use: RelayedUse, nonce: bigint): Promise<PreparedWrite> {
      const args = [use.scope, use.nullifier, use.merkleTreeRoot ?? '0', use.originChain] as const
      const data = registryInterface.encodeFunctionData('recordRelayed', args)
      let gas: bigint
      try {
        gas = await rpc('estimateGas', (provider) =>
          provider.estimateGas({ from: wallet.address, to: options.registry, data }),
        )
      } catch (error) {
        if (registryRevert(error)?.name === 'NullifierAlreadyUsed')
          throw new AlreadyPresentError(`${options.chain} already holds the nullifier`)
        throw error
      }
      const fees = await rpc('feeData', (provider) => provider.getFeeData())
      const request: TransactionRequest = {
        chainId: options.chainId,
        to: options.registry,
        data,
        nonce: Number(nonce),
        gasLimit: (gas * GAS_MARGIN_PERCENT) / 100n,
        ...(fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null
          ? { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }
          : { type: 0, gasPrice: fees.gasPrice ?? 0n }),
      }
      const signed = await wallet.signTransaction(request)
      return { txHash: keccak256(signed), nonce: nonce.toString(), signed }
    },

    async broadcast(write) {
      // Counted before sending: the write is recorded, so its nonce is taken even when this
      // broadcast fails (the follower sends the same bytes again).
      const nonce = BigInt(write.nonce)
      if (lastSigned === undefined || nonce > lastSigned) lastSigned = nonce
      try {
        await rpc('broadcast', (provider) => provider.broadcastTransaction(write.signed))
      } catch (error) {
        if (!alreadyAccepted(error)) throw error
      }
    },

    async status(write) {
      const receipt = await rpc('receipt', (provider) => provider.getTransactionReceipt(write.txHash))
      if (receipt) {
        return receipt.status === 1
          ? { state: 'confirmed', blockNumber: receipt.blockNumber }
          : { state: 'reverted', blockNumber: receipt.blockNumber }
      }
      const known = await rpc('getTransaction', (provider) => provider.getTransaction(write.txHash))
      if (known) return { state: 'pending' }
      const mined = await rpc('nonce', (provider) => provider.getTransactionCount(wallet.address, 'latest'))
      if (BigInt(mined) <= BigInt(write.nonce)) return { state: 'unknown' }
      // The nonce is used: by this write if it was mined since the receipt was asked for.
      const late = await rpc('receipt', (provider) => provider.getTransactionReceipt(write.txHash))
      if (late) {
        return late.status === 1
          ? { state: 'confirmed', blockNumber: late.blockNumber }
          : { state: 'reverted', blockNumber: late.blockNumber }
      }
      return { state: 'dropped' }
    },

    close() {
      for (const provider of providers) provider.destroy()
    },
  }
}
