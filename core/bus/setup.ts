import type { Common } from '../context.ts'
import { describeError, isTransient } from '../errors.ts'
import type { Bus } from './connect.ts'
import { type ProvisionReport, provisionTopics } from './provision.ts'
import { backoffDelay, sleep } from './retry.ts'

/**
 * Tries to provision, which is idempotent, on a transient failure. On a cluster a topic
 * just created is known to its controller before every broker has its metadata: a broker
 * asked meanwhile answers "does not host this topic-partition" (seen under load on three
 * local nodes), which a later attempt does not meet.
 */
const PROVISION_ATTEMPTS = 6

/** Topics provisioned and schemas registered: what every producer and consumer assumes. */
export async function prepareBus(
  common: Common,
  bus: Bus,
): Promise<{ topics: ProvisionReport; schemas: Map<string, { keyId: number; valueId: number }> }> {
  const admin = bus.kafka.admin()
  await admin.connect()
  try {
    let topics: ProvisionReport | undefined
    for (let attempt = 1; !topics; attempt++) {
      try {
        topics = await provisionTopics(admin, bus.allTopics, common.config.topics, common.logger)
      } catch (error) {
        if (attempt >= PROVISION_ATTEMPTS || !isTransient(error)) throw error
        common.logger.warn({ err: describeError(error), attempt }, 'provisioning topics failed, trying again')
        await sleep(backoffDelay(attempt, 500, 5_000))
      }
    }
    const schemas = await bus.codec.registerAll()
    return { topics, schemas }
  } finally {
    await admin.disconnect()
  }
}
