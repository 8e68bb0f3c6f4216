import type { z } from 'zod'
import { findChain, isCaip2, KNOWN_CHAINS } from '../chains.ts'
import { commaList } from './fields.ts'

const chainList = commaList.superRefine((ids, ctx) => {
  for (const id of ids) {
    if (!isCaip2(id))
      ctx.addIssue({ code: 'custom', message: `'${id}' is not a CAIP-2 chain id (e.g. eip155:1)` })
    else if (!findChain(id)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown chain '${id}'; known: ${KNOWN_CHAINS.map((chain) => chain.id).join(', ')}`,
      })
    }
  }
})

export const chainsVariables = {
  VERIDIS_CHAINS: chainList.default(['eip155:31337', 'eip155:31338']),
}

type ChainsEnvironment = z.infer<z.ZodObject<typeof chainsVariables>>

export function chainsConfig(env: ChainsEnvironment): readonly string[] {
  return env.VERIDIS_CHAINS
}
