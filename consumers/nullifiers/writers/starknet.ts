import {
  Account,
  byteArray,
  type Call,
  CallData,
  cairo,
  hash,
  RpcProvider,
  Signer,
  stark,
  transaction,
} from 'starknet'
import { RetryableError } from '../../../core/errors.ts'
import { AlreadyPresentError, type NullifierWriter, type PreparedWrite, type WriteStatus } from './writer.ts'

/**
 * The StarkNet propagation writer: `NullifierRegistry.record_relayed(scope, nullifier, root,
 * origin_chain)` (contracts/starknet/src/nullifier_registry.cairo) from the relayer's account
 * contract (RELAYER role), as an INVOKE v3 transaction signed locally with starknet.js: the
 * transaction hash is computed here and the signed transaction recorded before it is sent,
 * so the driver's crash-safety contract (writer.ts) holds as it does for EVM chains. The
 * account nonce is the replay protection: a write whose nonce went to another transaction
 * can never land.
 */
export interface StarknetWriterOptions {
  readonly chain: string
  /** The chain id felt as starknet_chainId answers it (0x-hex of the short string). */
  readonly chainId: string
  readonly rpcUrls: readonly string[]
  readonly registry: string
  /** The relayer's account contract address. */
  readonly account: string
  /** The account's signing key. Held by the Signer only; never logged or put into errors. */
  readonly privateKey: string
  readonly requestTimeoutMs?: number
}

// The registry's refusal, as text or as the short string's felt (starknet.js quotes either).
const ALREADY_USED = new RegExp(
  `nullifier already used|${Buffer.from('nullifier already used').toString('hex')}`,
  'i',
)
/** Nodes answer a re-sent transaction in their own words; none of these is a failure. */
const ALREADY_ACCEPTED =
  /duplicate|already exists|already known|nonce.*(too low|invalid|lower)|invalid transaction nonce/i
// Estimates are exact on a quiet chain; a margin covers state changing before inclusion.
const MARGIN_PERCENT = 150n

interface SignedInvoke {
  readonly type: 'INVOKE'
  readonly version: '0x3'
  readonly sender_address: string
  readonly calldata: string[]
  readonly signature: string[]
  readonly nonce: string
  readonly resource_bounds: Record<
    'l1_gas' | 'l2_gas' | 'l1_data_gas',
    { max_amount: string; max_price_per_unit: string }
  >
  readonly tip: string
  readonly paymaster_data: string[]
  readonly account_deployment_data: string[]
  readonly nonce_data_availability_mode: 'L1'
  readonly fee_data_availability_mode: 'L1'
}

const hex = (value: bigint) => `0x${value.toString(16)}`
const u256 = (decimal: string) => {
  const value = cairo.uint256(decimal)
  return [hex(BigInt(value.low)), hex(BigInt(value.high))]
}

export function createStarknetWriter(options: StarknetWriterOptions): NullifierWriter {
  if (options.rpcUrls.length === 0) throw new Error(`no RPC URLs for ${options.chain}`)
  const providers = options.rpcUrls.map((nodeUrl) => new RpcProvider({ nodeUrl }))
  const signer = new Signer(options.privateKey)
  let active = 0
  let lastSigned: bigint | undefined

  /** One call with failover; errors name the chain and call, never the URL or the key. */
  async function rpc<T>(what: string, call: (provider: RpcProvider) => Promise<T>): Promise<T> {
    let last: unknown
    for (let tried = 0; tried < providers.length; tried++) {
      const index = (active + tried) % providers.length
      try {
        const result = await call(providers[index]!)
        active = index
        return result
      } catch (error) {
        // An answer from the chain (a revert, a refused nonce) is not the endpoint's fault.
        if (isChainAnswer(error)) throw error
        last = error
      }
    }
    throw new RetryableError(
      `${what} on ${options.chain} failed on every RPC endpoint: ${shortReason(last)}`,
      {
        details: { chain: options.chain },
      },
    )
  }

  const relayCall = (use: {
    scope: string
    nullifier: string
    merkleTreeRoot: string | null
    originChain: string
  }): Call => ({
    contractAddress: options.registry,
    entrypoint: 'record_relayed',
    calldata: CallData.compile({
      scope: cairo.uint256(use.scope),
      nullifier: cairo.uint256(use.nullifier),
      merkleTreeRoot: cairo.uint256(use.merkleTreeRoot ?? '0'),
      originChain: byteArray.byteArrayFromString(use.originChain),
    }),
  })

  async function nonceAt(blockId: 'latest' | 'pre_confirmed'): Promise<bigint> {
    return BigInt(await rpc('nonce', (provider) => provider.getNonceForAddress(options.account, blockId)))
  }

  async function receipt(txHash: string): Promise<WriteStatus | undefined> {
    try {
      const found = (await rpc('receipt', (provider) =>
        provider.getTransactionReceipt(txHash),
      )) as unknown as {
        execution_status?: string
        block_number?: number
      }
      if (found.block_number === undefined) return { state: 'pending' }
      return found.execution_status === 'SUCCEEDED'
        ? { state: 'confirmed', blockNumber: found.block_number }
        : { state: 'reverted', blockNumber: found.block_number }
    } catch (error) {
      if (/transaction hash not found|\b29\b/i.test(fullReason(error))) return undefined
      throw error
    }
  }

  return {
    chain: options.chain,
    sender: options.account,

    async isUsed(scope, nullifier) {
      const result = await rpc('is_used', (provider) =>
        provider.callContract({
          contractAddress: options.registry,
          entrypoint: 'is_used',
          calldata: [...u256(scope), ...u256(nullifier)],
        }),
      )
      return BigInt(result[0] ?? '0x0') === 1n
    },

    async nextNonce() {
      const pending = await nonceAt('pre_confirmed')
      return lastSigned === undefined || pending > lastSigned ? pending : lastSigned + 1n
    },

    async prepare(use, nonce): Promise<PreparedWrite> {
      const call = relayCall(use)
      const account = new Account({ provider: providers[active]!, address: options.account, signer })
      let estimate: Awaited<ReturnType<Account['estimateInvokeFee']>>
      try {
        estimate = await rpc('estimateFee', () => account.estimateInvokeFee(call, { nonce, tip: 0 }))
      } catch (error) {
        if (ALREADY_USED.test(fullReason(error))) {
          throw new AlreadyPresentError(`${options.chain} already holds the nullifier`)
        }
        throw error
      }
      const bounds = estimate.resourceBounds
      const margin = (value: bigint) => (value * MARGIN_PERCENT) / 100n
      const resourceBounds = {
        l1_gas: {
          max_amount: margin(bounds.l1_gas.max_amount),
          max_price_per_unit: margin(bounds.l1_gas.max_price_per_unit),
        },
        l2_gas: {
          max_amount: margin(bounds.l2_gas.max_amount),
          max_price_per_unit: margin(bounds.l2_gas.max_price_per_unit),
        },
        l1_data_gas: {
          max_amount: margin(bounds.l1_data_gas.max_amount),
          max_price_per_unit: margin(bounds.l1_data_gas.max_price_per_unit),
        },
      }
      const details = {
        walletAddress: options.account,
        chainId: options.chainId as never,
        cairoVersion: '1' as const,
        version: '0x3' as const,
        nonce,
        resourceBounds,
        tip: 0,
        paymasterData: [],
        accountDeploymentData: [],
        nonceDataAvailabilityMode: 'L1' as never,
        feeDataAvailabilityMode: 'L1' as never,
      }
      const compiledCalldata = transaction.getExecuteCalldata([call], '1')
      const txHash = hash.calculateInvokeTransactionHash({
        senderAddress: options.account,
        version: '0x3',
        compiledCalldata,
        chainId: options.chainId as never,
        nonce,
        accountDeploymentData: [],
        nonceDataAvailabilityMode: 0 as never,
        feeDataAvailabilityMode: 0 as never,
        resourceBounds,
        tip: 0,
        paymasterData: [],
      })
      const signature = stark.signatureToHexArray(await signer.signTransaction([call], details))
      const invoke: SignedInvoke = {
        type: 'INVOKE',
        version: '0x3',
        sender_address: options.account,
        calldata: compiledCalldata.map((value) => hex(BigInt(value))),
        signature,
        nonce: hex(nonce),
        resource_bounds: {
          l1_gas: {
            max_amount: hex(resourceBounds.l1_gas.max_amount),
            max_price_per_unit: hex(resourceBounds.l1_gas.max_price_per_unit),
          },
          l2_gas: {
            max_amount: hex(resourceBounds.l2_gas.max_amount),
            max_price_per_unit: hex(resourceBounds.l2_gas.max_price_per_unit),
          },
          l1_data_gas: {
            max_amount: hex(resourceBounds.l1_data_gas.max_amount),
            max_price_per_unit: hex(resourceBounds.l1_data_gas.max_price_per_unit),
          },
        },
        tip: '0x0',
        paymaster_data: [],
        account_deployment_data: [],
        nonce_data_availability_mode: 'L1',
        fee_data_availability_mode: 'L1',
      }
      return {
        txHash: hex(BigInt(txHash)),
        nonce: nonce.toString(),
        signed: `0x${Buffer.from(JSON.stringify(invoke)).toString('hex')}`,
      }
    },

    async broadcast(write) {
      const nonce = BigInt(write.nonce)
      if (lastSigned === undefined || nonce > lastSigned) lastSigned = nonce
      const invoke = JSON.parse(Buffer.from(write.signed.slice(2), 'hex').toString('utf8')) as SignedInvoke
      try {
        await rpc('broadcast', (provider) =>
          rawCall(provider.channel.nodeUrl, 'starknet_addInvokeTransaction', { invoke_transaction: invoke }),
        )
      } catch (error) {
        if (!ALREADY_ACCEPTED.test(fullReason(error))) throw error
      }
    },

    async status(write) {
      const found = await receipt(write.txHash)
      if (found) return found
      const mined = await nonceAt('latest')
      if (mined <= BigInt(write.nonce)) return { state: 'unknown' }
      return (await receipt(write.txHash)) ?? { state: 'dropped' }
    },

    close() {},
  }
}

/** One JSON-RPC request as is: the signed transaction goes out byte for byte as recorded. */
async function rawCall(url: string, method: string, params: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(15_000),
  })
  const payload = (await response.json()) as {
    result?: unknown
    error?: { code?: number; message?: string; data?: unknown }
  }
  if (payload.error) {
    const data = typeof payload.error.data === 'string' ? `: ${payload.error.data}` : ''
    throw new Error(`${payload.error.code ?? ''} ${payload.error.message ?? 'error'}${data}`)
  }
  return payload.result
}

function isChainAnswer(error: unknown): boolean {
  return /execution|revert|nullifier already used|duplicate|nonce|contract error|transaction hash not found/i.test(
    fullReason(error),
  )
}

/** The whole message, URLs hidden: what the checks above match against (a reason can come late). */
function fullReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return error.message.replace(/https?:\/\/\S+/g, '<rpc>')
}

/** The start of it, for errors we raise: starknet.js quotes the whole request first. */
const shortReason = (error: unknown) => fullReason(error).slice(0, 400)
