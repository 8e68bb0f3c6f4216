/**
 * Runs one statement for many concurrent requests: while batches are with the database, the
 * next one collects, so a burst of N requests costs a few round trips instead of N, and a
 * lone request still goes at once. Up to `maxInFlight` batches run at once: each statement
 * commits on its own, and a commit waits for the WAL flush, which Postgres shares between
 * concurrent commits — one batch at a time would make every request wait for a whole flush
 * queue. `run` answers each item in order; if it throws, every item of that batch gets the
 * error.
 */
export function createStatementBatcher<Item, Result>(
  run: (items: readonly Item[]) => Promise<readonly Result[]>,
  options: { maxBatch?: number; maxInFlight?: number } = {},
) {
  const maxBatch = options.maxBatch ?? 500
  const maxInFlight = options.maxInFlight ?? 2
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

  return (item: Item): Promise<Result> =>
    new Promise<Result>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      // A new batch only when a slot is free; otherwise the item waits for the next round.
      if (inFlight < maxInFlight)
        queueMicrotask(() => void (queue.length > 0 && inFlight < maxInFlight ? next() : undefined))
    })
}
