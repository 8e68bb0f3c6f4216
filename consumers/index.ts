import type { ConsumerModule } from '../core/service/consumer-process.ts'
import { ledgerConsumer } from './ledger/index.ts'

/** Every consumer `veridis consume <name>` can run, and the ops port each uses by default. */
export const CONSUMERS: Record<string, { module: ConsumerModule<never>; opsPort: number }> = {
  ledger: { module: ledgerConsumer as ConsumerModule<never>, opsPort: 9471 },
}
