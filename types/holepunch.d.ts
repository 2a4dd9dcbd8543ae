// Type declarations for the CommonJS Holepunch packages the workspace uses; they ship none.
// One file for every package (each tsconfig includes ../../types), so all packages see the
// same shapes. Only the members the code uses are declared.

declare module 'hyperdht' {
  import type { EventEmitter } from 'node:events'

  namespace HyperDHT {
    interface KeyPair {
      publicKey: Buffer
      secretKey: Buffer
    }
    interface BootstrapNode {
      host: string
      port: number
    }
    interface Options {
      bootstrap?: (string | BootstrapNode)[] | false
      host?: string
      port?: number
      keyPair?: KeyPair
      firewalled?: boolean
      ephemeral?: boolean
      [option: string]: unknown
    }
    interface NoiseStream extends EventEmitter {
      remotePublicKey: Buffer
      publicKey: Buffer
      opened: Promise<boolean>
      rawStream: unknown
      write(data: Buffer): boolean
      end(): void
      destroy(error?: Error): void
    }
    interface Server extends EventEmitter {
      publicKey: Buffer
      listen(keyPair?: KeyPair): Promise<void>
      close(): Promise<void>
    }
  }

  class HyperDHT extends EventEmitter {
    constructor(options?: HyperDHT.Options)
    static keyPair(seed?: Buffer): HyperDHT.KeyPair
    defaultKeyPair: HyperDHT.KeyPair
    destroyed: boolean
    ready(): Promise<void>
    fullyBootstrapped(): Promise<void>
    address(): { host: string; port: number }
    /** The DHT nodes this node knows (its routing table), newest first. */
    toArray(options?: { limit?: number }): HyperDHT.BootstrapNode[]
    connect(remotePublicKey: Buffer, options?: { keyPair?: HyperDHT.KeyPair }): HyperDHT.NoiseStream
    createServer(
      options?: { firewall?: (remotePublicKey: Buffer, payload: unknown) => boolean },
      onconnection?: (stream: HyperDHT.NoiseStream) => void,
    ): HyperDHT.Server
    destroy(options?: { force?: boolean }): Promise<void>
  }

  export = HyperDHT
}

declare module 'hyperdht/testnet' {
  import type HyperDHT from 'hyperdht'

  namespace createTestnet {
    interface Testnet {
      nodes: HyperDHT[]
      bootstrap: HyperDHT.BootstrapNode[]
      createNode(options?: HyperDHT.Options): HyperDHT
      destroy(): Promise<void>
    }
  }
  function createTestnet(size?: number, options?: { host?: string; port?: number }): Promise<createTestnet.Testnet>
  export = createTestnet
}

declare module '@hyperswarm/testnet' {
  import createTestnet from 'hyperdht/testnet'
  export = createTestnet
}

declare module '@hyperswarm/rpc' {
  import type { EventEmitter } from 'node:events'
  import type HyperDHT from 'hyperdht'

  namespace HyperswarmRPC {
    interface RequestOptions {
      timeout?: number
      [option: string]: unknown
    }
    /** The protomux-rpc channel of one incoming connection, passed to responders. */
    interface Connection extends EventEmitter {
      stream: HyperDHT.NoiseStream
      closed: boolean
      destroy(error?: Error): void
    }
    type Responder = (request: Buffer | null, connection: Connection) => unknown
    interface Server extends EventEmitter {
      publicKey: Buffer
      closed: boolean
      connections: Set<Connection>
      respond(method: string, handler: Responder): Server
      listen(keyPair?: HyperDHT.KeyPair): Promise<void>
      close(): Promise<void>
    }
    interface Options {
      dht?: HyperDHT
      keyPair?: HyperDHT.KeyPair
      seed?: Buffer
      poolLinger?: number
      bootstrap?: unknown
    }
  }

  class HyperswarmRPC {
    constructor(options?: HyperswarmRPC.Options)
    dht: HyperDHT
    defaultKeyPair: HyperDHT.KeyPair
    createServer(options?: { firewall?: (remotePublicKey: Buffer, payload: unknown) => boolean }): HyperswarmRPC.Server
    request(
      publicKey: Buffer,
      method: string,
      value: Buffer,
      options?: HyperswarmRPC.RequestOptions,
    ): Promise<Buffer | null>
    event(publicKey: Buffer, method: string, value: Buffer, options?: HyperswarmRPC.RequestOptions): void
    destroy(options?: { force?: boolean }): Promise<void>
  }

  export = HyperswarmRPC
}

declare module 'corestore' {
  namespace Corestore {
    interface Core {
      /** Blocks appended so far (every Hyperbee put appends). */
      readonly length: number
      ready(): Promise<void>
      close(): Promise<void>
    }
  }
  class Corestore {
    constructor(storage: string, options?: Record<string, unknown>)
    ready(): Promise<void>
    close(): Promise<void>
    get(options: { name: string } | Record<string, unknown>): Corestore.Core
  }
  export = Corestore
}

declare module 'fs-native-extensions' {
  /** Takes an open-file-description lock on `fd` (exclusive unless `shared`); false when another holds it. */
  function tryLock(fd: number, options?: { shared?: boolean }): boolean
  const fsx: { tryLock: typeof tryLock }
  export default fsx
}

declare module 'hyperbee' {
  import type { Readable } from 'node:stream'

  namespace Hyperbee {
    interface Entry<K = Buffer, V = Buffer> {
      seq: number
      key: K
      value: V
    }
    interface EncodingOptions {
      keyEncoding?: 'utf-8' | 'binary' | 'json' | string
      valueEncoding?: 'utf-8' | 'binary' | 'json' | string
    }
    interface RangeOptions extends EncodingOptions {
      gt?: Buffer | string
      gte?: Buffer | string
      lt?: Buffer | string
      lte?: Buffer | string
      limit?: number
      reverse?: boolean
    }
    interface Batch<K = Buffer, V = Buffer> {
      put(key: K | Buffer | string, value?: unknown, options?: EncodingOptions): Promise<void>
      del(key: K | Buffer | string, options?: EncodingOptions): Promise<void>
      get(key: K | Buffer | string, options?: EncodingOptions): Promise<Entry<K, V> | null>
      flush(): Promise<void>
      close(): Promise<void>
    }
  }

  /** K and V are what `get` and the read streams return under the bee's encodings. */
  class Hyperbee<K = Buffer, V = Buffer> {
    constructor(core: unknown, options?: Hyperbee.EncodingOptions & Record<string, unknown>)
    readonly version: number
    readonly closed: boolean
    readonly prefix: Buffer | null
    readonly sep: Buffer
    ready(): Promise<void>
    close(): Promise<void>
    get(key: K | Buffer | string, options?: Hyperbee.EncodingOptions): Promise<Hyperbee.Entry<K, V> | null>
    put(key: K | Buffer | string, value?: unknown, options?: Hyperbee.EncodingOptions): Promise<void>
    del(key: K | Buffer | string, options?: Hyperbee.EncodingOptions): Promise<void>
    batch(options?: Hyperbee.EncodingOptions): Hyperbee.Batch<K, V>
    sub(prefix: string, options?: Hyperbee.EncodingOptions & { sep?: Buffer }): Hyperbee<K, V>
    createReadStream(
      range?: Hyperbee.RangeOptions,
      options?: Hyperbee.RangeOptions,
    ): Readable & AsyncIterable<Hyperbee.Entry<K, V>>
  }
  export = Hyperbee
}

declare module 'rache' {
  /** The entry cache Hypercore and Hyperbee share (`globalCache`): evicts at random past `maxSize`. */
  class Rache {
    constructor(options?: { maxSize?: number })
    readonly globalSize: number
  }
  export = Rache
}
declare module 'udx-native' {
  import type { EventEmitter } from 'node:events'

  namespace UDX {
    interface Socket extends EventEmitter {
      setRecvBufferSize(size: number): number
      getRecvBufferSize(): number
      bind(port?: number, host?: string): void
      close(): Promise<void>
    }
  }

  class UDX {
    constructor()
    createSocket(options?: unknown): UDX.Socket
  }

  export = UDX
}
