import { randomBytes } from 'node:crypto'
import { isOrkError, OrkError } from '@ork/errors'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes, MAX_REPLY_DEPTH, RemoteError, RpcNode, TransportError } from '../src/index.ts'
import { createLoopbackTestnet, type LoopbackTestnet } from '../src/testing.ts'
import { Fixture } from './helpers.ts'

let testnet: LoopbackTestnet
let fixture: Fixture
let server: RpcNode
let client: RpcNode
const calls = { flaky: 0, boom: 0 }

beforeAll(async () => {
  testnet = await createLoopbackTestnet()
  fixture = new Fixture(testnet)
  server = await fixture.node({ maxPayloadBytes: 4096 })
  server.respond('echoJson', (data) => data, { op: 'r' })
  server.respond('big', (data) => 'x'.repeat((data as { size: number }).size), { op: 'r' })
  server.respond('hang', () => new Promise(() => {}), { op: 'r' })
  // What JSON.stringify throws for a reply past V8's longest string (~512 MiB), without building one.
  server.respond(
    'overLongestString',
    () => ({
      toJSON: () => {
        throw new RangeError('Invalid string length')
      },
    }),
    { op: 'r' },
  )
  server.respond('property', (data) => (data as { a: { b: number } }).a.b, { op: 'r' })
  server.respond('throwString', () => {
    throw 'plain string'
  })
  server.respond('boom', () => {
    calls.boom++
    throw new OrkError('ERR_BOOM')
  })
  server.respond('flaky', () => {
    calls.flaky++
    if (calls.flaky < 3) throw new Error('RPC client closed')
    return calls.flaky
  })
  server.respondRaw('notJson', () => Buffer.from('{not json'))
  server.respondRaw('ownToString', () => Buffer.from('[{"id":"a"},{"id":"b","info":{"toString":1}}]'))
  // Nested exactly `levels` deep, inside an ordinary first element (as a rack's list reply).
  server.respondRaw('nested', (body) => {
    const { levels, large } = JSON.parse(body.toString()) as { levels: number; large: boolean }
    const filler = large ? `{"pad":"${'x'.repeat(200_000)}"},` : ''
    return Buffer.from(`[${filler}{"x":${'['.repeat(levels - 2)}${']'.repeat(levels - 2)}}]`)
  })
  server.respondRaw('rawTypeError', () => {
    throw new TypeError('bug in a raw handler')
  })
  server.respondRaw('rawNotBytes', () => 'text' as never)
  await server.listen()
  client = await fixture.node()
})

afterAll(async () => {
  await fixture.close()
  await testnet.destroy()
})

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

describe('bad input', () => {
  it('answers malformed JSON with [HRPC_ERR]=ERR_FACS_NET_DATA_FORMAT', async () => {
    for (const body of [Buffer.from('{"a":'), Buffer.from([0xff, 0xfe, 0x00]), Buffer.alloc(0)]) {
      const reply = await client.requestRaw(server.rpcPublicKey, 'echoJson', body)
      expect(reply.toString()).toBe('"[HRPC_ERR]=ERR_FACS_NET_DATA_FORMAT"')
    }
  })

  it('rejects a reply that is not JSON with ERR_FACS_NET_DATA_FORMAT', async () => {
    const error = await rejection(client.request(server.rpcPublicKey, 'notJson', {}))
    expect(isOrkError(error, ErrorCodes.DATA_FORMAT)).toBe(true)
  })

  it('rejects a reply nested deeper than MAX_REPLY_DEPTH with ERR_FACS_NET_DATA_FORMAT', async () => {
    // 20,000 levels parse, but re-encoding them overflows the stack; MAX_REPLY_DEPTH levels pass.
    for (const large of [false, true]) {
      const deepest = await client.request(server.rpcPublicKey, 'nested', { levels: MAX_REPLY_DEPTH, large })
      expect(JSON.stringify(deepest)).toContain(`${'['.repeat(MAX_REPLY_DEPTH - 2)}]`)
      for (const levels of [MAX_REPLY_DEPTH + 1, 20_000]) {
        const error = await rejection(client.request(server.rpcPublicKey, 'nested', { levels, large }))
        expect(isOrkError(error, ErrorCodes.DATA_FORMAT), `${levels} levels`).toBe(true)
        expect((error as OrkError).details).toEqual({ reason: `reply nested deeper than ${MAX_REPLY_DEPTH} levels` })
      }
    }
  })

  it('rejects a reply holding an object with its own toString key with ERR_FACS_NET_DATA_FORMAT', async () => {
    const error = await rejection(client.request(server.rpcPublicKey, 'ownToString', {}))
    expect(isOrkError(error, ErrorCodes.DATA_FORMAT)).toBe(true)
    expect((error as OrkError).details).toEqual({ reason: 'reply holds an object with its own "toString" key' })
  })

  it('frames a handler crash on a non-object payload, and a thrown non-Error', async () => {
    const crash = (await rejection(client.request(server.rpcPublicKey, 'property', null))) as RemoteError
    expect(crash).toBeInstanceOf(RemoteError)
    expect(crash.remoteMessage).toMatch(/^Cannot read properties of null/)
    const thrown = (await rejection(client.request(server.rpcPublicKey, 'throwString', {}))) as RemoteError
    expect(thrown.message).toBe('[HRPC_ERR]=plain string')
  })

  it('refuses data JSON cannot encode before sending it', async () => {
    const error = await rejection(client.request(server.rpcPublicKey, 'echoJson', undefined))
    expect(isOrkError(error, ErrorCodes.DATA_FORMAT)).toBe(true)
  })

  it('refuses malformed public keys', async () => {
    for (const key of ['abc', 'zz'.repeat(32), Buffer.alloc(31)]) {
      expect(isOrkError(await rejection(client.request(key, 'echoJson', {})), ErrorCodes.PUBLIC_KEY_INVALID)).toBe(true)
    }
  })
})

describe('payload size limits', () => {
  it('server answers an oversized request with [HRPC_ERR]=ERR_FACS_NET_PAYLOAD_TOO_LARGE', async () => {
    const error = (await rejection(client.request(server.rpcPublicKey, 'echoJson', 'y'.repeat(5000)))) as RemoteError
    expect(error).toBeInstanceOf(RemoteError)
    expect(error.remoteMessage).toBe(ErrorCodes.PAYLOAD_TOO_LARGE)
  })

  it('server replaces an oversized reply with [HRPC_ERR]=ERR_FACS_NET_PAYLOAD_TOO_LARGE', async () => {
    const error = (await rejection(client.request(server.rpcPublicKey, 'big', { size: 5000 }))) as RemoteError
    expect(error.remoteMessage).toBe(ErrorCodes.PAYLOAD_TOO_LARGE)
    await expect(client.request(server.rpcPublicKey, 'big', { size: 10 })).resolves.toBe('x'.repeat(10))
  })

  it('server answers a reply too long for a string with [HRPC_ERR]=ERR_FACS_NET_PAYLOAD_TOO_LARGE, not an uncoded error', async () => {
    const error = (await rejection(client.request(server.rpcPublicKey, 'overLongestString', {}))) as RemoteError
    expect(error.remoteMessage).toBe(ErrorCodes.PAYLOAD_TOO_LARGE)
  })

  it("shows onReply a reply's bytes before parsing them, and refuses the reply when it throws", async () => {
    const bodies: string[] = []
    const onReply = (body: Buffer) => bodies.push(body.toString())
    expect(await client.request(server.rpcPublicKey, 'big', { size: 10 }, { onReply })).toBe('x'.repeat(10))
    expect(bodies).toEqual([`"${'x'.repeat(10)}"`])
    const refusal = new OrkError('ERR_NO_ROOM')
    const refuse = () => {
      throw refusal
    }
    expect(await rejection(client.request(server.rpcPublicKey, 'big', { size: 10 }, { onReply: refuse }))).toBe(refusal)
  })

  it('resolves with what decode makes of the bytes, after onReply and the size check', async () => {
    const seen: string[] = []
    const onReply = () => seen.push('onReply')
    const decode = (body: Buffer) => {
      seen.push('decode')
      return { bytes: body.byteLength }
    }
    expect(await client.request(server.rpcPublicKey, 'big', { size: 10 }, { onReply, decode })).toEqual({ bytes: 12 })
    expect(seen).toEqual(['onReply', 'decode'])
    const refusal = new OrkError('ERR_UNDECODABLE')
    const refuse = () => {
      throw refusal
    }
    expect(await rejection(client.request(server.rpcPublicKey, 'big', { size: 10 }, { decode: refuse }))).toBe(refusal)
    const small = await fixture.node({ maxPayloadBytes: 100 })
    const tooLarge = await rejection(small.request(server.rpcPublicKey, 'big', { size: 500 }, { decode }))
    expect(isOrkError(tooLarge, ErrorCodes.PAYLOAD_TOO_LARGE)).toBe(true)
  })

  it('takes a request of exactly maxPayloadBytes and refuses one byte more', async () => {
    // A small reply ('property' answers `a.b`), so only the request is at the limit.
    const padded = (bytes: number) => {
      const request = { a: { b: 1 }, pad: '' }
      request.pad = 'p'.repeat(bytes - JSON.stringify(request).length)
      return request
    }
    await expect(client.request(server.rpcPublicKey, 'property', padded(4096))).resolves.toBe(1)
    const error = (await rejection(client.request(server.rpcPublicKey, 'property', padded(4097)))) as RemoteError
    expect(error.remoteMessage).toBe(ErrorCodes.PAYLOAD_TOO_LARGE)
  })

  it('client refuses an oversized request and an oversized reply, and says which', async () => {
    const small = await fixture.node({ maxPayloadBytes: 100 })
    // Refused before sending: `stage: 'request'` tells callers the peer never saw it.
    const request = await rejection(small.request(server.rpcPublicKey, 'echoJson', 'z'.repeat(200)))
    expect(isOrkError(request, ErrorCodes.PAYLOAD_TOO_LARGE)).toBe(true)
    expect((request as OrkError).details).toMatchObject({ stage: 'request' })
    const reply = await rejection(small.request(server.rpcPublicKey, 'big', { size: 500 }))
    expect(isOrkError(reply, ErrorCodes.PAYLOAD_TOO_LARGE)).toBe(true)
    expect((reply as OrkError).details?.stage).toBeUndefined()
  })

  it('never sends more than the transport can carry, so the pooled connection survives', async () => {
    const huge = 'h'.repeat(17 * 1024 * 1024)
    expect(
      isOrkError(await rejection(client.request(server.rpcPublicKey, 'echoJson', huge)), ErrorCodes.PAYLOAD_TOO_LARGE),
    ).toBe(true)
    await expect(client.request(server.rpcPublicKey, 'echoJson', { still: 'alive' })).resolves.toEqual({
      still: 'alive',
    })
  })
})

describe('peers that fail', () => {
  it('times out on a peer that never answers, with the reference message', async () => {
    const started = Date.now()
    const error = (await rejection(client.request(server.rpcPublicKey, 'hang', {}, { timeout: 300 }))) as TransportError
    expect(error).toBeInstanceOf(TransportError)
    expect(error.code).toBe('TIMEOUT_EXCEEDED')
    expect(error.message).toBe('TIMEOUT_EXCEEDED: timeout of 300ms exceeded')
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    await expect(client.request(server.rpcPublicKey, 'echoJson', 1)).resolves.toBe(1)
  })

  it('fails fast with CHANNEL_CLOSED when nobody serves the key', async () => {
    const error = (await rejection(
      client.request(randomBytes(32), 'echoJson', {}, { timeout: 5000 }),
    )) as TransportError
    expect(error.code).toBe('CHANNEL_CLOSED')
  })

  it('reports CHANNEL_CLOSED when the peer goes away mid-request', async () => {
    const leaving = await fixture.node()
    let closing: Promise<void> | undefined
    leaving.respond(
      'leave',
      () => {
        closing = leaving.close()
        return new Promise(() => {})
      },
      { op: 'r' },
    )
    await leaving.listen()
    const error = (await rejection(
      client.request(leaving.rpcPublicKey, 'leave', {}, { timeout: 10_000 }),
    )) as TransportError
    expect(error).toBeInstanceOf(TransportError)
    expect(['CHANNEL_CLOSED', 'CHANNEL_DESTROYED']).toContain(error.code)
    await closing
  })
})

describe('callers that leave', () => {
  it('a caller closing mid-request does not disturb the server', async () => {
    let finish: (value: unknown) => void = () => {}
    const answered = new Promise((resolve) => {
      finish = resolve
    })
    let arrive: (value: unknown) => void = () => {}
    const reached = new Promise((resolve) => {
      arrive = resolve
    })
    const slowServer = await fixture.node()
    slowServer.respond(
      'slow',
      () => {
        arrive(null)
        return new Promise((resolve) => setTimeout(() => resolve('late'), 200)).finally(() => finish(null))
      },
      { op: 'r' },
    )
    slowServer.respond('fast', () => 'fast', { op: 'r' })
    await slowServer.listen()
    const leaver = await fixture.node()
    const pending = leaver.request(slowServer.rpcPublicKey, 'slow', {}).catch((error: unknown) => error)
    // the request is at the server (dialling a fresh node can take long on a loaded machine)
    await reached
    await leaver.close()
    expect(await pending).toBeInstanceOf(TransportError)
    await answered
    await expect(client.request(slowServer.rpcPublicKey, 'fast', {})).resolves.toBe('fast')
  })
})

describe('raw handlers', () => {
  it('a throwing raw handler fails the request, not the process', async () => {
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      for (const method of ['rawTypeError', 'rawNotBytes']) {
        const error = await rejection(
          client.requestRaw(server.rpcPublicKey, method, Buffer.from('x'), { timeout: 5000 }),
        )
        expect(error).toBeInstanceOf(TransportError)
        expect((error as TransportError).code).toBe('REQUEST_ERROR')
      }
      expect(uncaught).toEqual([])
      await expect(client.request(server.rpcPublicKey, 'echoJson', { still: 'serving' })).resolves.toEqual({
        still: 'serving',
      })
    } finally {
      process.off('uncaughtException', onUncaught)
    }
  })
})

describe('retry', () => {
  it('retries only on the reference retryable errors, autoRetry times', async () => {
    await expect(client.request(server.rpcPublicKey, 'flaky', {}, { autoRetry: 2, autoRetryDelay: 10 })).resolves.toBe(
      3,
    )
    calls.boom = 0
    await expect(client.request(server.rpcPublicKey, 'boom', {}, { autoRetry: 3, autoRetryDelay: 10 })).rejects.toThrow(
      '[HRPC_ERR]=ERR_BOOM',
    )
    expect(calls.boom).toBe(1)
  })

  it('takes a per-request autoRetryDelay of 0 as no pause', async () => {
    calls.flaky = 0
    // two retries at this client's default pause would take 20 s
    const patient = await fixture.node({ autoRetryDelay: 10_000 })
    const started = performance.now()
    await expect(patient.request(server.rpcPublicKey, 'flaky', {}, { autoRetry: 2, autoRetryDelay: 0 })).resolves.toBe(
      3,
    )
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('does not retry by default', async () => {
    calls.flaky = 0
    await expect(client.request(server.rpcPublicKey, 'flaky', {})).rejects.toThrow('[HRPC_ERR]=RPC client closed')
    expect(calls.flaky).toBe(1)
  })

  it('reaches a server that starts listening between attempts', async () => {
    const late = await fixture.node()
    late.respond('hello', () => 'hi', { op: 'r' })
    const pending = client.request(late.rpcPublicKey, 'hello', {}, { autoRetry: 40, autoRetryDelay: 50, timeout: 5000 })
    await new Promise((resolve) => setTimeout(resolve, 150))
    await late.listen()
    await expect(pending).resolves.toBe('hi')
  })
})

describe('requestAll', () => {
  it('returns settled tuples in input order', async () => {
    const nobody = randomBytes(32).toString('hex')
    const keys = [server.rpcPublicKey.toString('hex'), nobody, server.rpcPublicKey.toString('hex')]
    const results = await client.requestAll(keys, 'echoJson', { n: 1 }, { concurrency: 2, timeout: 5000 })
    expect(results.map(([, , key]) => key)).toEqual(keys)
    expect(results[0]).toEqual([null, { n: 1 }, keys[0]])
    expect(results[1]?.[0]).toBeInstanceOf(TransportError)
    expect(results[2]?.[1]).toEqual({ n: 1 })
  })

  it('needs no options: every key at once', async () => {
    const keys = [server.rpcPublicKey.toString('hex'), server.rpcPublicKey.toString('hex')]
    expect(await client.requestAll(keys, 'echoJson', { n: 2 })).toEqual([
      [null, { n: 2 }, keys[0]],
      [null, { n: 2 }, keys[1]],
    ])
  })
})

describe('a garbage burst', () => {
  it('from one peer does not disturb the service of another', async () => {
    const vandal = await fixture.node()
    const rawPeer = new (await import('hyperdht')).default({ ...testnet.dhtOpts })
    const garbage: Promise<unknown>[] = []
    for (let i = 0; i < 100; i++) {
      garbage.push(vandal.requestRaw(server.rpcPublicKey, 'echoJson', randomBytes(64)).catch(() => null))
      garbage.push(vandal.request(server.rpcPublicKey, `unknown${i}`, {}).catch(() => null))
      garbage.push(vandal.request(server.rpcPublicKey, 'property', i).catch(() => null))
      garbage.push(vandal.request(server.rpcPublicKey, 'echoJson', 'q'.repeat(5000)).catch(() => null))
    }
    // Bytes that are not even protomux frames, on a fresh encrypted stream.
    const stream = rawPeer.connect(server.rpcPublicKey)
    stream.on('error', () => {})
    const rawWritten = stream.opened.then((opened) => {
      expect(opened).toBe(true)
      for (let i = 0; i < 20; i++) stream.write(randomBytes(256))
    })

    const good = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.request(server.rpcPublicKey, 'echoJson', { i })),
    )
    expect(good).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })))
    await Promise.all(garbage)
    // The server may keep a stream that sent a partial frame open (it waits for the rest);
    // what matters is that it keeps serving, so the raw peer is simply torn down.
    await rawWritten
    await rawPeer.destroy()
    await expect(client.request(server.rpcPublicKey, 'echoJson', 'after')).resolves.toBe('after')
    await expect(vandal.request(server.rpcPublicKey, 'echoJson', 'vandal too')).resolves.toBe('vandal too')
  })
})

describe('lifecycle errors', () => {
  it('refuses requests before ready and after close, and handlers after listen', async () => {
    const node = new RpcNode({ storeDir: `${await fixture.tempDir()}/store`, dhtOpts: testnet.dhtOpts })
    expect(
      isOrkError(await rejection(node.request(server.rpcPublicKey, 'echoJson', 1)), ErrorCodes.RPC_NOT_FOUND),
    ).toBe(true)
    expect(() => node.rpcPublicKey).toThrow(ErrorCodes.RPC_NOT_FOUND)
    await node.ready()
    await node.ready()
    await node.listen()
    expect(() => node.respond('late', () => 1)).toThrow(ErrorCodes.RESPONDER_INVALID)
    await node.close()
    await node.close()
    const error = (await rejection(node.request(server.rpcPublicKey, 'echoJson', 1))) as TransportError
    expect(error.code).toBe('CLIENT_CLOSED')
    expect(error.message).toBe('RPC client closed')
  })

  it('refuses a duplicate method name', () => {
    const node = new RpcNode({ storeDir: '/nonexistent/never-opened' })
    node.respond('m', () => 1)
    expect(() => node.respondRaw('m', (b) => b)).toThrow(ErrorCodes.RESPONDER_INVALID)
  })
})

describe('options', () => {
  it('replaces a timeout of 0, below 0 or not finite by the 30 s default, as the reference replaces falsy ones', () => {
    for (const timeout of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(new RpcNode({ storeDir: '/nonexistent', timeout }).timeout).toBe(30_000)
    }
    expect(new RpcNode({ storeDir: '/nonexistent', timeout: 1234 }).timeout).toBe(1234)
  })
})
