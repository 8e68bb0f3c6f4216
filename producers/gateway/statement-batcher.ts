/**
 * Runs one statement for many concurrent requests: while a batch is with the database, the
 * next one collects, so a burst of N requests costs a few round trips instead of N, and a
 * lone request still goes at once. `run` answers each item in order; if it throws, every
 * item of that batch gets the error.
 */
export function createStatementBatcher<Item, Result>(
  run: (items: readonly Item[]) => Promise<readonly Result[]>,
  options: { maxBatch?: number } = {},
) {
  const maxBatch = options.maxBatch ?? 500
  let queue: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = []
  let running = false

  const drain = async () => {
    running = true
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
    running = false
  }

  return (item: Item): Promise<Result> =>
    new Promise<Result>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      if (!running) void drain()
    })
}
