import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Runs one statement for many concurrent requests: while a batch is with the database, the
 * next one collects, so a burst of N requests costs a few statements instead of N, and a lone
 * request still goes at once. `run` answers each item in order; if it throws, every item of
 * that batch gets the error.
 *
 * One batch in flight by default (`maxInFlight`): every statement is a socket write and a
 * result to parse, and on one host with Postgres the kernel's loopback delivery is charged to
 * the writer, so fewer, larger statements cost the gateway less CPU per request. Two in flight
 * made batches half as large for little gain in latency: statements on a busy key's row wait
 * for each other's commit anyway. Measured in `bin/veridis bench gateway` (docs/benchmarks.md,
 * "Gateway: idempotency keys").
 */
export function createStatementBatcher<Item, Result>(
  run: (items: readonly Item[]) => Promise<readonly Result[]>,
  options: { maxBatch?: number; maxInFlight?: number } = {},
) {
  const maxBatch = options.maxBatch ?? 2_000
  const maxInFlight = options.maxInFlight ?? 1
  let queue: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = []
  let inFlight = 0

  const next = async () => {
    inFlight += 1
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch)
      queue = queue.slice(batch.length)
      try {
        const results = await run(batch.map((entry) => entry.item))
        batch.forEach((entry, index) => {
          entry.resolve(results[index] as Result)
        })
      } catch (error) {
        for (const entry of batch) entry.reject(error)
      }
    }
    inFlight -= 1
  }

  const submit = (item: Item): Promise<Result> =>
    new Promise<Result>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      // A new batch only when a slot is free; otherwise the item waits for the next round.
      if (inFlight < maxInFlight)
        queueMicrotask(() => void (queue.length > 0 && inFlight < maxInFlight ? next() : undefined))
    })

  return Object.assign(submit, {
    /** Resolves once nothing is queued or running (shutdown, before the pool closes). */
    async settled(): Promise<void> {
      while (queue.length > 0 || inFlight > 0) await sleep(5)
    },
  })
}
