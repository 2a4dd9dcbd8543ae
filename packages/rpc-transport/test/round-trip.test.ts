import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HRPC_ERR_PREFIX, RemoteError, type RpcNode, TransportError } from '../src/index.ts'
import { createLoopbackTestnet, type LoopbackTestnet } from '../src/testing.ts'
import { Fixture } from './helpers.ts'

let testnet: LoopbackTestnet
let fixture: Fixture
let server: RpcNode
let client: RpcNode

beforeAll(async () => {
  testnet = await createLoopbackTestnet()
  fixture = new Fixture(testnet)
  server = await fixture.node()
  server.respond(
    'add',
    (data) => {
      const { a, b } = data as { a: number; b: number }
      return { sum: a + b }
    },
    { op: 'r' },
  )
  server.respond('boom', () => {
    throw new Error('ERR_BOOM')
  })
  server.respond('whoami', (_data, context) => context.remotePublicKey.toString('hex'), { op: 'r' })
  server.respond('nothing', () => undefined, { op: 'r' })
  server.respond('echoJson', (data) => data, { op: 'r' })
  server.respondRaw('echo', (request) => request)
  await server.listen()
  client = await fixture.node()
})

afterAll(async () => {
  await fixture.close()
  await testnet.destroy()
})

describe('round trip', () => {
  it('sends JSON and gets the parsed JSON reply', async () => {
    await expect(client.request(server.rpcPublicKey, 'add', { a: 2, b: 3 })).resolves.toEqual({ sum: 5 })
    await expect(client.request(server.rpcPublicKey.toString('hex'), 'add', { a: 1, b: 1 })).resolves.toEqual({
      sum: 2,
    })
  })

  it('shows the caller its DHT key (clientPublicKey), not its server key', async () => {
    const seen = await client.request(server.rpcPublicKey, 'whoami', {})
    expect(seen).toBe(client.clientPublicKey.toString('hex'))
    expect(client.clientPublicKey.equals(client.rpcPublicKey)).toBe(false)
  })

  it('echoes raw bytes', async () => {
    const reply = await client.requestRaw(server.rpcPublicKey, 'echo', Buffer.from('hello'))
    expect(reply.toString()).toBe('hello')
    expect((await client.requestRaw(server.rpcPublicKey, 'echo', Buffer.alloc(0))).byteLength).toBe(0)
  })

  it('turns a thrown handler error into an [HRPC_ERR]= reply and a RemoteError', async () => {
    const error = await client.request(server.rpcPublicKey, 'boom', {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RemoteError)
    expect((error as RemoteError).message).toBe(`${HRPC_ERR_PREFIX}ERR_BOOM`)
    expect((error as RemoteError).remoteMessage).toBe('ERR_BOOM')
  })

  it('reports an unknown method as a TransportError UNKNOWN_METHOD', async () => {
    const error = await client.request(server.rpcPublicKey, 'nope', {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect((error as TransportError).code).toBe('UNKNOWN_METHOD')
    expect((error as TransportError).message).toBe("UNKNOWN_METHOD: Unknown method 'nope'")
  })

  it('replies to a handler returning undefined with the reference TypeError text', async () => {
    const error = (await client.request(server.rpcPublicKey, 'nothing', {}).catch((e: unknown) => e)) as RemoteError
    expect(error).toBeInstanceOf(RemoteError)
    expect(error.remoteMessage).toMatch(/^The first argument must be of type string/)
  })

  it('passes non-object JSON values through unchanged', async () => {
    for (const value of [5, 'text', null, [1, 2], true]) {
      await expect(client.request(server.rpcPublicKey, 'echoJson', value)).resolves.toEqual(value)
    }
  })
})
