import { type ErrorDetails, NonRetryableError } from '../../../../core/errors.ts'
import {
  createJsonRpcClient,
  describeRpcFailure,
  type JsonRpcClientOptions,
  type JsonRpcErrorAnswer,
} from '../../common/json-rpc.ts'

/**
 * StarkNet JSON-RPC (spec 0.10) over several endpoints of one chain, through the common
 * transport (common/json-rpc.ts) and failover rule (common/failover.ts). Every answer is
 * validated against its zod schema before anything uses it. Plain HTTP POSTs, as the EVM
 * client does: the listener needs a handful of read methods, and a schema of its own for each
 * answer says exactly what it relies on.
 *
 * StarkNet's own error codes (positive: BLOCK_NOT_FOUND 24, INVALID_CONTINUATION_TOKEN 33,
 * CONTRACT_ERROR 40, ...) are the chain's answer about the request, not a failing endpoint:
 * they surface as StarknetRpcError with the code, and never fail over.
 */
export const StarknetErrorCode = {
  contractNotFound: 20,
  blockNotFound: 24,
  transactionHashNotFound: 29,
  pageSizeTooBig: 31,
  invalidContinuationToken: 33,
  tooManyKeysInFilter: 34,
  contractError: 40,
  transactionExecutionError: 41,
  invalidTransactionNonce: 52,
  duplicateTransaction: 59,
} as const

/** The node answered the request with an error about it: retrying elsewhere will not help. */
export class StarknetRpcError extends NonRetryableError {
  override name = 'StarknetRpcError'
  constructor(
    message: string,
    readonly code: number,
    readonly data: unknown,
    details: ErrorDetails,
  ) {
    super(message, { details })
  }
}

/** Positive codes are StarkNet's answers about the request; -32600..-32602 are JSON-RPC's. */
const isRequestError = (answer: JsonRpcErrorAnswer) =>
  answer.code > 0 || [-32600, -32601, -32602].includes(answer.code)

export function createStarknetRpc(options: JsonRpcClientOptions) {
  // Params by name or position.
  return createJsonRpcClient<unknown>({
    ...options,
    describe: describeStarknetError,
    rejection: (answer, { chain, method, message }) =>
      isRequestError(answer)
        ? new StarknetRpcError(message, answer.code, answer.data, { chain, method, code: answer.code })
        : undefined,
  })
}

export type StarknetRpc = ReturnType<typeof createStarknetRpc>

/** True for a StarkNet error answer with this code. */
export const hasCode = (error: unknown, code: number) =>
  error instanceof StarknetRpcError && error.code === code

/** One line about an RPC failure, every URL in it redacted. */
export function describeStarknetError(error: unknown): string {
  return describeRpcFailure(error, (answer) => {
    const data = typeof answer.data === 'string' ? `: ${answer.data.slice(0, 300)}` : ''
    return `${answer.code} ${answer.message}${data}`
  })
}
