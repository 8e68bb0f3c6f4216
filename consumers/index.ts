import type { ConsumerModule } from '../core/service/consumer-process.ts'
import { ledgerConsumer } from './ledger/index.ts'
import { projectorConsumer } from './projector/index.ts'
import { proverConsumer } from './prover/index.ts'
import { verifierConsumer } from './verifier/index.ts'

/** Every consumer `veridis consume <name>` can run, and the ops port each uses by default. */
export const CONSUMERS: Record<string, { module: ConsumerModule<never>; opsPort: number }> = {
  ledger: { module: ledgerConsumer as ConsumerModule<never>, opsPort: 9471 },
  projector: { module: projectorConsumer as ConsumerModule<never>, opsPort: 9475 },
  prover: { module: proverConsumer as ConsumerModule<never>, opsPort: 9473 },
  verifier: { module: verifierConsumer as ConsumerModule<never>, opsPort: 9474 },
}
