import { randomBytes } from 'node:crypto'
import type Corestore from 'corestore'
import Hyperbee from 'hyperbee'

/** Name of the Hyperbee (on the node's corestore) holding the seeds, as in the reference. */
export const SEED_BEE_NAME = 'storeConf'
/** Seed of the DHT key pair: the identity of outgoing connections. */
export const SEED_DHT = 'seedDht'
/** Seed of the RPC key pair: the key the server listens on. */
export const SEED_RPC = 'seedRpc'

const SEED_BYTES = 32

/**
 * The reference's seed storage: a Hyperbee named `storeConf`, utf-8 keys, raw 32-byte values.
 * One bee session is opened and reused (the reference opens a new one per read and never
 * closes it).
 */
export class SeedStore {
  readonly #bee: Hyperbee<string, Buffer>
  #opened: Promise<void> | null = null

  constructor(store: Corestore) {
    this.#bee = new Hyperbee<string, Buffer>(store.get({ name: SEED_BEE_NAME }), { keyEncoding: 'utf-8' })
  }

  /** Reads a seed, generating and persisting 32 random bytes the first time. */
  async getSeed(name: string): Promise<Buffer> {
    this.#opened ??= this.#bee.ready()
    await this.#opened
    const entry = await this.#bee.get(name)
    if (entry) return Buffer.from(entry.value)
    const seed = randomBytes(SEED_BYTES)
    await this.#bee.put(name, seed)
    return seed
  }

  async close(): Promise<void> {
    await this.#bee.close()
  }
}
