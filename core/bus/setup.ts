import type { Common } from '../context.ts'
import type { Bus } from './connect.ts'
import { type ProvisionReport, provisionTopics } from './provision.ts'

/** Topics provisioned and schemas registered: what every producer and consumer assumes. */
export async function prepareBus(
  common: Common,
  bus: Bus,
): Promise<{ topics: ProvisionReport; schemas: Map<string, { keyId: number; valueId: number }> }> {
  const admin = bus.kafka.admin()
  await admin.connect()
  try {
    const topics = await provisionTopics(admin, bus.allTopics, common.config.topics, common.logger)
    const schemas = await bus.codec.registerAll()
    return { topics, schemas }
  } finally {
    await admin.disconnect()
  }
}
