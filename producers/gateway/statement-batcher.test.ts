import { describe, expect, test } from 'vitest'
import { createStatementBatcher } from './statement-batcher.ts'

/** A statement the test finishes by hand: `release()` answers the oldest batch still running. */
function heldStatements() {
  const batches: number[][] = []
  const pending: (() => void)[] = []
  const run = (items: readonly number[]) => {
    batches.push([...items])
    return new Promise<readonly number[]>((resolve, reject) => {
      pending.push(() =>
        items.includes(-1) ? reject(new Error('statement failed')) : resolve(items.map((item) => item * 10)),
      )
    })
  }
  const release = async () => {
    pending.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { batches, run, release }
}

describe('statement batcher', () => {
  test('behavior: one statement at a time; what arrives meanwhile goes as the next batch, each item its own answer', async () => {
    const held = heldStatements()
    const submit = createStatementBatcher(held.run)
    const first = submit(1)
    await new Promise((resolve) => setImmediate(resolve))
    const later = [2, 3, 4].map((item) => submit(item))
    await new Promise((resolve) => setImmediate(resolve))
    expect(held.batches).toEqual([[1]])
    await held.release()
    expect(held.batches).toEqual([[1], [2, 3, 4]])
    await held.release()
    expect(await first).toBe(10)
    expect(await Promise.all(later)).toEqual([20, 30, 40])
  })

  test('behavior: maxBatch splits a long queue; settled() waits for every batch', async () => {
    const held = heldStatements()
    const submit = createStatementBatcher(held.run, { maxBatch: 2 })
    const answers = [1, 2, 3, 4, 5].map((item) => submit(item))
    let settled = false
    const settling = submit.settled().then(() => {
      settled = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    for (let round = 0; round < 2; round++) await held.release()
    expect(settled).toBe(false)
    await held.release()
    await settling
    expect(held.batches).toEqual([[1, 2], [3, 4], [5]])
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50])
  })

  test('error: a failed statement rejects every item of its batch and no other', async () => {
    const held = heldStatements()
    const submit = createStatementBatcher(held.run)
    const first = submit(1)
    await new Promise((resolve) => setImmediate(resolve))
    // Outcomes read as they come, so a rejection is never left unhandled.
    const failing = [submit(-1), submit(2)].map((item) =>
      item.then(
        () => 'answered',
        (error: Error) => error.message,
      ),
    )
    await held.release()
    await held.release()
    expect(await first).toBe(10)
    expect(await Promise.all(failing)).toEqual(['statement failed', 'statement failed'])
    const next = submit(3)
    await new Promise((resolve) => setImmediate(resolve))
    await held.release()
    expect(await next).toBe(30)
  })
})
