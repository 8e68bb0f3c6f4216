import { describe, expect, test } from 'vitest'
import { type CommandFacts, commandLife } from './command-status.ts'

const issuedAt = new Date('2026-11-22T10:00:00Z')
const at = (seconds: number) => new Date(issuedAt.getTime() + seconds * 1000)

function facts(audit: { action: string; seconds: number }[], overrides: Partial<CommandFacts> = {}) {
  return {
    command: {
      command_id: 'c-1',
      command_type: 'RequestErasureCommand',
      actor_kind: 'API_KEY',
      actor_id: 'k-1',
      summary: {},
      issued_at: issuedAt,
      projected_at: at(0.1),
    },
    proofs: [],
    propagations: [],
    alerts: [],
    audit: audit.map((record, n) => ({
      audit_id: `a-${n}`,
      action: record.action,
      occurred_at: at(record.seconds),
    })),
    ...overrides,
  } satisfies CommandFacts
}

describe('command life', () => {
  test('behavior: records of the command arriving leave it accepted', () => {
    const life = commandLife(
      facts([
        { action: 'command.received', seconds: 1 },
        { action: 'command.accepted', seconds: 1 },
      ]),
      [],
    )
    expect(life.status).toBe('accepted')
  })

  test('behavior: a consumer reporting work makes it processing, its ending record done or failed', () => {
    const working = [
      { action: 'command.received', seconds: 1 },
      { action: 'erasure.started', seconds: 2 },
    ]
    expect(commandLife(facts(working), []).status).toBe('processing')
    const done = commandLife(facts([...working, { action: 'erasure.completed', seconds: 3 }]), [])
    expect(done.history.map((step) => step.status)).toEqual(['accepted', 'processing', 'done'])
    expect(commandLife(facts([...working, { action: 'erasure.failed', seconds: 3 }]), []).status).toBe(
      'failed',
    )
  })
})
