import { loadConfig } from '../../core/config/env.ts'
import { createLogger } from '../../core/logging/logger.ts'
import { stackContext, stackDown, stackStatus, stackUp } from '../../infra/stack/stack.ts'

/**
 * Tests run against the real local stack. If it is already up (a developer's `veridis up`)
 * it is used as it is and left running; otherwise it is started here and stopped after.
 */
export default async function setup() {
  const config = loadConfig()
  const progress = (message: string) => process.stderr.write(`[stack] ${message}\n`)
  const context = stackContext(config, progress)
  const wasUp = (await stackStatus(context)).every((service) => service.healthy)
  await stackUp(context, createLogger({ service: 'test-setup', level: 'warn' }))
  return async () => {
    if (!wasUp) await stackDown(context)
  }
}
