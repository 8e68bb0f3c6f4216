import type { ConsumerModule } from '../core/service/consumer-process.ts'
import { auditConsumer } from './audit/index.ts'
import { bridgeGuardConsumer } from './bridge-guard/index.ts'
import { ledgerConsumer } from './ledger/index.ts'
import { nullifiersConsumer } from './nullifiers/index.ts'
import { projectorConsumer } from './projector/index.ts'
import { proverConsumer } from './prover/index.ts'
import { verifierConsumer } from './verifier/index.ts'

/** Every consumer `veridis consume <name>` can run, and the ops port each uses by default. */
export const CONSUMERS: Record<string, { module: ConsumerModule<never>; opsPort: number }> = {
  audit: { module: auditConsumer as ConsumerModule<never>, opsPort: 9477 },
  'bridge-guard': { module: bridgeGuardConsumer as ConsumerModule<never>, opsPort: 9470 },
  ledger: { module: ledgerConsumer as ConsumerModule<never>, opsPort: 9471 },
  nullifiers: { module: nullifiersConsumer as ConsumerModule<never>, opsPort: 9476 },
  projector: { module: projectorConsumer as ConsumerModule<never>, opsPort: 9475 },
  prover: { module: proverConsumer as ConsumerModule<never>, opsPort: 9473 },
  verifier: { module: verifierConsumer as ConsumerModule<never>, opsPort: 9474 },
}
