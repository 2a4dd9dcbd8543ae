import createTestnet from '@hyperswarm/testnet'
import type { DhtOptions } from './rpc-node.ts'

/** A DHT testnet on 127.0.0.1 and the options that make an {@link RpcNode} use it. */
export interface LoopbackTestnet {
  bootstrap: { host: string; port: number }[]
  /** Pass as `dhtOpts`: bootstrap on this testnet, bind to 127.0.0.1, no holepunching. */
  dhtOpts: DhtOptions & { bootstrap: { host: string; port: number }[]; host: '127.0.0.1' }
  destroy(): Promise<void>
}

/**
 * Starts a `@hyperswarm/testnet` of `size` DHT nodes (default 3), all bound to 127.0.0.1.
 *
 * The returned `dhtOpts` also set `firewalled: false`: every node is directly reachable on
 * loopback, and skipping the holepunch makes many simultaneous connects steady (otherwise
 * they fail now and then with HOLEPUNCH_ABORTED). Close every node using it before `destroy()`.
 */
export async function createLoopbackTestnet(size = 3): Promise<LoopbackTestnet> {
  const testnet = await createTestnet(size, { host: '127.0.0.1' })
  const bootstrap = testnet.bootstrap.map(({ host, port }) => ({ host, port }))
  let destroying: Promise<void> | null = null
  return {
    bootstrap,
    dhtOpts: { bootstrap, host: '127.0.0.1', firewalled: false },
    destroy() {
      destroying ??= testnet.destroy()
      return destroying
    },
  }
}
