// Test-only declarations for the raw Holepunch networking packages (CommonJS, untyped).

declare module 'hyperdht' {
  export default class HyperDHT {
    constructor(options?: { bootstrap?: unknown; host?: string; firewalled?: boolean; keyPair?: unknown })
    ready(): Promise<void>
    destroy(): Promise<void>
  }
}

declare module '@hyperswarm/testnet' {
  export interface Testnet {
    bootstrap: { host: string; port: number }[]
    destroy(): Promise<void>
  }
  export default function createTestnet(size?: number, options?: { host?: string }): Promise<Testnet>
}

declare module '@hyperswarm/rpc' {
  import type HyperDHT from 'hyperdht'

  export interface RpcServer {
    readonly publicKey: Buffer
    respond(method: string, handler: (request: Buffer) => Buffer | Promise<Buffer>): void
    listen(): Promise<void>
    close(): Promise<void>
  }

  export default class RPC {
    constructor(options: { dht: HyperDHT; poolLinger?: number })
    createServer(): RpcServer
    request(publicKey: Buffer, method: string, value: Buffer, options?: { timeout?: number }): Promise<Buffer>
    destroy(): Promise<void>
  }
}
