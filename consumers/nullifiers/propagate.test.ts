import { describe, expect, test } from 'vitest'
import { advanceAll, type PropagationRow } from './propagate.ts'

const plannedRow = (sourceEventId: string) => ({ source_event_id: sourceEventId }) as PropagationRow

describe('advanceAll', () => {
  const rows = Array.from({ length: 10 }, (_, index) => plannedRow(`source-${index}`))

  test('behavior: heartbeats before advancing each propagation', async () => {
    const events: string[] = []
    const heartbeat = async () => {
      events.push('heartbeat')
    }
    await advanceAll(
      {
        advance: async (row) => {
          events.push(row.source_event_id)
        },
      },
      rows,
      { signal: new AbortController().signal, heartbeat },
      1,
    )
    expect(events).toEqual(rows.flatMap((row) => ['heartbeat', row.source_event_id]))
  })

  test('error: a heartbeat that throws stops the rest and is rethrown', async () => {
    const advanced: string[] = []
    let beats = 0
    const abandoned = new Error('partition taken away')
    const heartbeat = async () => {
      if (++beats > 3) throw abandoned
    }
    await expect(
      advanceAll(
        {
          advance: async (row) => {
            advanced.push(row.source_event_id)
          },
        },
        rows,
        { signal: new AbortController().signal, heartbeat },
        2,
      ),
    ).rejects.toBe(abandoned)
    expect(advanced).toHaveLength(3)
  })
})
