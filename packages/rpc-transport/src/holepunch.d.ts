// Type declarations for the CommonJS Holepunch packages this package uses.
// Only the members used here are declared.

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

declare module 'hyperbee' {
  namespace Hyperbee {
    interface Entry<K, V> {
      seq: number
      key: K
      value: V
    }
  }
  class Hyperbee<K = Buffer, V = Buffer> {
    constructor(core: unknown, options?: { keyEncoding?: string; valueEncoding?: string })
    ready(): Promise<void>
    close(): Promise<void>
    get(key: K): Promise<Hyperbee.Entry<K, V> | null>
    put(key: K, value: V): Promise<void>
  }
  export = Hyperbee
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
