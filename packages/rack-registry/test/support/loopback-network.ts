import RPC from '@hyperswarm/rpc'
import createTestnet from '@hyperswarm/testnet'
import { OrkError } from '@ork/errors'
import HyperDHT from 'hyperdht'
import type { RackRequester } from '../../src/index.ts'

/** A rack's handlers: JSON in and out (thrown errors become `[HRPC_ERR]=` replies), or raw bytes. */
export interface RackHandlers {
  json?: Record<string, (data: unknown) => unknown>
  raw?: Record<string, (request: Buffer) => Buffer | Promise<Buffer>>
}

export interface LoopbackClient extends RackRequester {
  close(): Promise<void>
}

export interface LoopbackNetwork {
  /** Starts a rack server; resolves with its RPC public key (hex). */
  startRack(handlers: RackHandlers): Promise<string>
  /** A client speaking the MiningOS JSON framing, with pooled connections. */
  createClient(): Promise<LoopbackClient>
  destroy(): Promise<void>
}

const REMOTE_ERROR_PREFIX = '[HRPC_ERR]='

/**
 * Racks and clients on a @hyperswarm/testnet bound to 127.0.0.1, speaking the wire format of
 * the reference's net facility (libraries.md 4.5-4.6): JSON bodies, application errors as the
 * JSON string `"[HRPC_ERR]=<message>"`, which the client turns into a `RemoteError`.
 */
export async function startLoopbackNetwork(): Promise<LoopbackNetwork> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const closers: (() => Promise<void>)[] = []

  const node = () => {
    const dht = new HyperDHT({ bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false })
    return { dht, rpc: new RPC({ dht }) }
  }

  return {
    async startRack(handlers) {
      const { dht, rpc } = node()
      const server = rpc.createServer()
      for (const [method, handler] of Object.entries(handlers.json ?? {})) {
        server.respond(method, async (request) => {
          let reply: unknown
          try {
            reply = await handler(JSON.parse(String(request)))
          } catch (error) {
            reply = `${REMOTE_ERROR_PREFIX}${(error as Error).message}`
          }
          return Buffer.from(JSON.stringify(reply))
        })
      }
      for (const [method, handler] of Object.entries(handlers.raw ?? {})) {
        server.respond(method, (request) => handler(request ?? Buffer.alloc(0)))
      }
      await server.listen()
      closers.push(async () => {
        await server.close()
        await rpc.destroy()
        await dht.destroy()
      })
      return server.publicKey.toString('hex')
    },

    async createClient() {
      const { dht, rpc } = node()
      // Bootstrapped before use, so a first request times dialling the rack, not joining the DHT.
      await dht.ready()
      let closing: Promise<void> | null = null
      const close = () => {
        closing ??= rpc.destroy().then(() => dht.destroy())
        return closing
      }
      closers.push(close)
      return {
        async request(key, method, data, options = {}) {
          const publicKey = typeof key === 'string' ? Buffer.from(key, 'hex') : key
          const reply = await rpc.request(publicKey, method, Buffer.from(JSON.stringify(data)), options)
          let value: unknown
          try {
            value = JSON.parse(String(reply ?? ''))
          } catch {
            throw new OrkError('ERR_FACS_NET_DATA_FORMAT')
          }
          if (typeof value === 'string' && value.slice(0, 15).includes(REMOTE_ERROR_PREFIX)) {
            throw Object.assign(new Error(value), { name: 'RemoteError' })
          }
          return value
        },
        close,
      }
    },

    async destroy() {
      for (const close of closers.reverse()) await close()
      await testnet.destroy()
    },
  }
}
