// The Holepunch packages are CommonJS without type declarations; these cover what this package uses.

declare module 'hyperbee' {
  import type { Readable } from 'node:stream'

  export interface HyperbeeEntry<K = Buffer | string, V = Buffer> {
    seq: number
    key: K
    value: V
  }

  export interface HyperbeeOptions {
    keyEncoding?: 'utf-8' | 'binary' | 'json' | string
    valueEncoding?: 'utf-8' | 'binary' | 'json' | string
  }

  export interface HyperbeeBatch {
    put(key: string | Buffer, value?: Buffer | string | unknown): Promise<void>
    del(key: string | Buffer): Promise<void>
    flush(): Promise<void>
    close(): Promise<void>
  }

  export default class Hyperbee {
    constructor(core: unknown, options?: HyperbeeOptions)
    readonly version: number
    readonly closed: boolean
    ready(): Promise<void>
    close(): Promise<void>
    get(key: string | Buffer): Promise<HyperbeeEntry | null>
    put(key: string | Buffer, value?: Buffer | string | unknown): Promise<void>
    del(key: string | Buffer): Promise<void>
    batch(): HyperbeeBatch
    createReadStream(range?: Record<string, unknown>): Readable & AsyncIterable<HyperbeeEntry>
  }
}

declare module 'corestore' {
  export default class Corestore {
    constructor(storage: string, options?: Record<string, unknown>)
    ready(): Promise<void>
    close(): Promise<void>
    get(options: { name: string } | Record<string, unknown>): unknown
  }
}

declare module 'rache' {
  /** The entry cache Hypercore and Hyperbee share (`globalCache`): evicts at random past `maxSize`. */
  export default class Rache {
    constructor(options?: { maxSize?: number })
    readonly globalSize: number
  }
}
