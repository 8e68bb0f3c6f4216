import { createHmac, randomBytes } from 'node:crypto'

/**
 * A bounded least-recently-used map of finished proofs.
 *
 * The key covers the circuit, its public inputs and a keyed digest of the private ones:
 * keyed on public inputs alone, a second holder asking with the same public inputs would
 * be handed the first holder's proof (and outputs such as the nullifier). The HMAC key is
 * random per process, so the cache keys reveal nothing about low-entropy private inputs.
 */
export class ProofCache<V> {
  readonly #entries = new Map<string, V>()
  readonly #secret = randomBytes(32)

  constructor(readonly capacity: number) {}

  key(circuit: string, inputs: Readonly<Record<string, readonly string[]>>): string {
    const mac = createHmac('sha256', this.#secret).update(circuit)
    for (const name of Object.keys(inputs).sort()) mac.update(`\0${name}=${inputs[name]!.join(',')}`)
    return mac.digest('hex')
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key)
    if (value === undefined) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, value)
    return value
  }

  set(key: string, value: V): void {
    if (this.capacity === 0) return
    this.#entries.delete(key)
    this.#entries.set(key, value)
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }

  get size(): number {
    return this.#entries.size
  }
}
