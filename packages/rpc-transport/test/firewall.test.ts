import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { createLogger } from '@ork/logger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes, type RpcNode, TransportError } from '../src/index.ts'
import { createLoopbackTestnet, type LoopbackTestnet } from '../src/testing.ts'
import { Fixture } from './helpers.ts'

let testnet: LoopbackTestnet
let fixture: Fixture
let friend: RpcNode
let reader: RpcNode
let stranger: RpcNode

function registerMethods(server: RpcNode): RpcNode {
  server.respond('read', () => 'read ok', { op: 'r' })
  server.respond('write', () => 'write ok', { op: 'w' })
  server.respond('untagged', () => 'untagged ok')
  server.respondRaw('ping', (request) => request)
  return server
}

beforeAll(async () => {
  testnet = await createLoopbackTestnet()
  fixture = new Fixture(testnet)
  friend = await fixture.node()
  reader = await fixture.node()
  stranger = await fixture.node()
})

afterAll(async () => {
  await fixture.close()
  await testnet.destroy()
})

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TransportError)
  return error as TransportError
}

describe('firewall', () => {
  it('lets everyone in when neither allow nor allowReadOnly is configured', async () => {
    const server = registerMethods(await fixture.node())
    await server.listen()
    await expect(stranger.request(server.rpcPublicKey, 'write', {})).resolves.toBe('write ok')
  })

  it('admits listed client keys and refuses others (and an empty list refuses everyone)', async () => {
    const lines: string[] = []
    const logger = createLogger('test', { write: (line) => lines.push(line), level: 'warn' })
    const guarded = registerMethods(
      await fixture.node({
        allow: [friend.clientPublicKey.toString('hex').toUpperCase()],
        allowReadOnly: [reader.clientPublicKey.toString('hex')],
        allowLocal: true,
        logger,
      }),
    )
    await guarded.listen()
    const closed = registerMethods(await fixture.node({ allow: [] }))
    await closed.listen()

    await expect(friend.request(guarded.rpcPublicKey, 'write', {})).resolves.toBe('write ok')
    expect(lines.some((line) => line.includes('allowLocal was removed and is ignored'))).toBe(true)

    // A refused peer only learns it when the connect attempt gives up (~4 s here): run both in parallel.
    const [refusedStranger, refusedFriend] = await Promise.all([
      failure(stranger.request(guarded.rpcPublicKey, 'read', {}, { timeout: 20_000 })),
      failure(friend.request(closed.rpcPublicKey, 'read', {}, { timeout: 20_000 })),
    ])
    for (const error of [refusedStranger, refusedFriend]) {
      expect(error.code).toBe('CHANNEL_CLOSED')
      expect(error.message).toBe('CHANNEL_CLOSED: channel closed')
    }
  })
})

describe('read-only peers', () => {
  let server: RpcNode

  beforeAll(async () => {
    server = registerMethods(
      await fixture.node({
        // Upper case: the firewall decodes keys as hex, so the read-only check must match them the same way.
        allowReadOnly: [reader.clientPublicKey.toString('hex').toUpperCase()],
        allow: [friend.clientPublicKey.toString('hex')],
      }),
    )
    await server.listen()
  })

  it('may call read methods and raw methods', async () => {
    await expect(reader.request(server.rpcPublicKey, 'read', {})).resolves.toBe('read ok')
    expect((await reader.requestRaw(server.rpcPublicKey, 'ping', Buffer.from('p'))).toString()).toBe('p')
  })

  it('gets ERR_MISSING_WRITE_PERMISSIONS as a transport REQUEST_ERROR on write methods, as the reference', async () => {
    for (const method of ['write', 'untagged']) {
      const error = await failure(reader.request(server.rpcPublicKey, method, {}))
      expect(error.code).toBe('REQUEST_ERROR')
      expect(error.message).toBe('REQUEST_ERROR: Request failed')
      expect(error.causeMessage).toBe(ErrorCodes.MISSING_WRITE_PERMISSIONS)
      expect(error.causeCode).toBeUndefined()
    }
  })

  it('does not affect fully allowed peers', async () => {
    await expect(friend.request(server.rpcPublicKey, 'write', {})).resolves.toBe('write ok')
  })
})

const capturingLogger = () => {
  const lines: string[] = []
  return { lines, logger: createLogger('test', { write: (line) => lines.push(line), level: 'warn' }) }
}

describe('a server no DHT node can find', () => {
  it('warns when it listens but no DHT node answered, and not on a working DHT', async () => {
    // A bootstrap address where nothing answers: a UDP port bound here and left silent.
    const silent = createSocket('udp4')
    silent.bind(0, '127.0.0.1')
    await once(silent, 'listening')
    try {
      const bootstrap = [`127.0.0.1:${silent.address().port}`]
      const lost = capturingLogger()
      const server = await fixture.node({ dhtOpts: { bootstrap, host: '127.0.0.1' }, logger: lost.logger })
      server.respond('x', () => 1)
      await server.listen()
      expect(lost.lines.map((line) => JSON.parse(line))).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: expect.stringContaining('no DHT node answered'), bootstrap }),
      )

      const found = capturingLogger()
      const reachable = await fixture.node({ logger: found.logger })
      reachable.respond('x', () => 1)
      await reachable.listen()
      expect(found.lines).toEqual([])
    } finally {
      silent.close()
    }
  }, 60_000)
})
