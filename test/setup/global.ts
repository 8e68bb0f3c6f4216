import { buildZkNative } from '../../circuits/native.ts'
import { buildRdKafka } from '../../core/bus/rdkafka.ts'
import { loadConfig } from '../../core/config/env.ts'
import { createLogger } from '../../core/logging/logger.ts'
import { solanaValidatorService, validatorBinaryBuilt } from '../../infra/stack/solana-validator.ts'
import { stackContext, stackDown, stackStatus, stackUp } from '../../infra/stack/stack.ts'
import { evmNative } from '../../producers/chains/evm/native.ts'

/**
 * Stack nodes no suite uses, left stopped for the run (installed after the rest): every
 * Solana suite starts a validator of its own (its ledger is halted, copied and rolled back),
 * while the stack's would hold most of a core for the whole run (agave's scheduler polls) on
 * a two-core machine. test/stack/stack.test.ts starts them with `stack up`, and runs last
 * (test/setup/sequencer.ts).
 */
const LEFT_STOPPED = new Set([solanaValidatorService.name])

/**
 * More chain nodes a developer leaves stopped for this run, comma-separated (e.g. while a
 * first build of one runs in the background): only the suites that need them fail.
 */
const developerLeftStopped = (process.env.VERIDIS_TEST_STACK_WITHOUT ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter((name) => name.length > 0)

/**
 * Tests run against the real local stack. Services already running (a developer's `veridis
 * up`, another test run) are used as they are and left running — judged by their process,
 * not their health, since a busy machine can make a running service miss a health check;
 * what this run starts, it stops after.
 */
export default async function setup() {
  const config = loadConfig()
  const progress = (message: string) => process.stderr.write(`[stack] ${message}\n`)
  const context = stackContext(config, progress)
  // The native Groth16 addon (test/zk/native and the consumers' native backend): built once per
  // source and machine (minutes the first time), a cache lookup afterwards. A failed build
  // fails the tests that need the addon (requireZkNative), not the whole run.
  try {
    progress(`native Groth16 addon: ${buildZkNative()}`)
  } catch (error) {
    progress(
      `native Groth16 addon NOT BUILT, its tests will fail: ${(error as Error).message.split('\n')[0]}`,
    )
  }
  // The native secp256k1 addon (the bridge guard's signature recovery): the same, ~30 s.
  try {
    progress(`native secp256k1 addon: ${evmNative.build()}`)
  } catch (error) {
    progress(
      `native secp256k1 addon NOT BUILT, the guard recovers in WebAssembly: ${(error as Error).message.split('\n')[0]}`,
    )
  }
  // librdkafka (the bus producer's optional transport, test/bus/roundtrip): the same, ~5 minutes.
  try {
    progress(`librdkafka (@confluentinc/kafka-javascript): ${buildRdKafka()}`)
  } catch (error) {
    progress(`librdkafka NOT BUILT, its tests will fail: ${(error as Error).message.split('\n')[0]}`)
  }
  const running = (await stackStatus(context)).filter((service) => service.pid !== undefined)
  const wasRunning = new Set(running.map((service) => service.name))
  await stackUp(context, createLogger({ service: 'test-setup', level: 'warn' }), {
    leaveStopped: new Set([...LEFT_STOPPED, ...developerLeftStopped]),
  })
  // Installed for the stack test's `stack up` only when the machine has built it: a first
  // build takes longer than a CI run may (vitest.config.ts leaves that test out until then).
  if (
    !developerLeftStopped.includes(solanaValidatorService.name) &&
    validatorBinaryBuilt(context.layout.cacheDir)
  )
    await solanaValidatorService.install(context)
  return async () => {
    const started = (await stackStatus(context)).filter((service) => !wasRunning.has(service.name))
    if (started.length > 0) await stackDown(context, new Set(started.map((service) => service.name)))
  }
}
