/**
 * One lock per key: operations on the same action run one after another, while
 * operations on different actions run concurrently. Entries are dropped when the
 * last holder releases, so the map only holds actions currently in use.
 */
export class KeyedMutex<K> {
  readonly #tails = new Map<K, Promise<void>>()

  async run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const current = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => current)
    this.#tails.set(key, tail)
    await previous
    try {
      return await task()
    } finally {
      release()
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }
}
