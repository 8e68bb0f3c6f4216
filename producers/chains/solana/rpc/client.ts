import { type ErrorDetails, NonRetryableError } from '../../../../core/errors.ts'
import { createJsonRpcClient, describeRpcFailure, type JsonRpcClientOptions } from '../../common/json-rpc.ts'

/**
 * Solana JSON-RPC over several endpoints of one chain, through the common transport
 * (common/json-rpc.ts) and failover rule (common/failover.ts); every answer validated against
 * its zod schema before anything uses it. Plain HTTP POSTs, as the EVM and StarkNet clients
 * do: web3.js validates with its own structs and hides what it relies on, a schema here says exactly.
 *
 * The server's answers about a slot (-32001 cleaned up, -32004 block not available, -32007 slot skipped,
 * -32009 missing from long-term storage, -32014 status not yet available) and JSON-RPC's
 * request errors are answers about the request, not a failing endpoint: they surface as
 * SolanaRpcError with the code and never fail over.
 */
export const SolanaErrorCode = {
  /** The block is below the node's first available block: its ledger was pruned past it. */
  blockCleanedUp: -32001,
  blockNotAvailable: -32004,
  slotSkipped: -32007,
  longTermStorageSlotSkipped: -32009,
  blockStatusNotAvailableYet: -32014,
  minContextSlotNotReached: -32016,
} as const

const REQUEST_ERRORS = new Set<number>([
  -32600,
  -32601,
  -32602,
  ...Object.values(SolanaErrorCode).filter((code) => code !== SolanaErrorCode.minContextSlotNotReached),
])

export class SolanaRpcError extends NonRetryableError {
  override name = 'SolanaRpcError'
  constructor(
    message: string,
    readonly code: number,
    details: ErrorDetails,
  ) {
    super(message, { details })
  }
}

export function createSolanaRpc(options: JsonRpcClientOptions) {
  // Positional params.
  return createJsonRpcClient<readonly unknown[]>({
    ...options,
    describe: describeSolanaError,
    rejection: (answer, { chain, method, message }) =>
      REQUEST_ERRORS.has(answer.code)
        ? new SolanaRpcError(message, answer.code, { chain, method, code: answer.code })
        : undefined,
  })
}

export type SolanaRpc = ReturnType<typeof createSolanaRpc>

/** True for a Solana error answer with one of these codes. */
export const hasCode = (error: unknown, ...codes: number[]) =>
  error instanceof SolanaRpcError && codes.includes(error.code)

/** One line about an RPC failure, every URL in it redacted. */
export function describeSolanaError(error: unknown): string {
  return describeRpcFailure(error, (answer) => `${answer.code} ${answer.message.slice(0, 300)}`)
}
