// The Holepunch packages are CommonJS without type declarations; these cover what this package uses.

declare module 'hyperbee' {
  export interface HyperbeeEntry<K = Buffer, V = Buffer> {
    seq: number
    key: K
    value: V
  }

  export interface HyperbeeEncodingOptions {
    keyEncoding?: string
    valueEncoding?: string
  }

  export interface HyperbeeRangeOptions extends HyperbeeEncodingOptions {
    gt?: Buffer
    gte?: Buffer
    lt?: Buffer
    lte?: Buffer
    limit?: number
    reverse?: boolean
  }

  export interface HyperbeeBatch {
    put(key: Buffer, value: Buffer, options?: HyperbeeEncodingOptions): Promise<void>
    del(key: Buffer, options?: HyperbeeEncodingOptions): Promise<void>
    get(key: Buffer, options?: HyperbeeEncodingOptions): Promise<HyperbeeEntry | null>
    flush(): Promise<void>
    close(): Promise<void>
  }

  export default class Hyperbee {
    constructor(core: unknown, options?: HyperbeeEncodingOptions & Record<string, unknown>)
    readonly version: number
    readonly closed: boolean
    readonly prefix: Buffer | null
    readonly sep: Buffer
    ready(): Promise<void>
    close(): Promise<void>
    get(key: Buffer | string, options?: HyperbeeEncodingOptions): Promise<HyperbeeEntry | null>
    put(key: Buffer | string, value?: unknown, options?: HyperbeeEncodingOptions): Promise<void>
    del(key: Buffer | string, options?: HyperbeeEncodingOptions): Promise<void>
    batch(options?: HyperbeeEncodingOptions): HyperbeeBatch
    sub(prefix: string, options?: HyperbeeEncodingOptions & { sep?: Buffer }): Hyperbee
    createReadStream(range?: HyperbeeRangeOptions, options?: HyperbeeRangeOptions): AsyncIterable<HyperbeeEntry>
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
