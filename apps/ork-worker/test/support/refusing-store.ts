import type Corestore from 'corestore'

/** The error RocksDB rejects a write with when its log cannot grow: a full disk, or `ulimit -f`. */
export function rocksDbRefusal(): Error {
  const cause = Object.assign(new Error('While appending to file: db/000004.log: File too large'), { code: 'EIO' })
  return new Error('Batch was not applied', { cause })
}

/**
 * A view of `store` whose cores refuse every append once `refuse()` was called, as the store of a
 * full disk does (RocksDB refuses every write after its first failed one). Reads go on.
 */
export function refusingStore(store: Corestore): {
  store: { get(options: { name: string }): unknown }
  refuse(): void
} {
  let refusing = false
  return {
    store: {
      get(options) {
        // The declared Core type lists only what the ork reads; hypercore has `append`.
        const core = store.get(options) as unknown as { append: (...args: unknown[]) => Promise<unknown> }
        const append = core.append.bind(core)
        core.append = (...args) => (refusing ? Promise.reject(rocksDbRefusal()) : append(...args))
        return core
      },
    },
    refuse() {
      refusing = true
    },
  }
}
