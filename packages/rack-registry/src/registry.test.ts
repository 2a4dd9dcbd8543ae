import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isOrkError } from '@ork/errors'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openRacksBee, RackRegistry, validateRackRegistration } from './registry.ts'

const keyA = 'a'.repeat(64)
const keyB = 'b'.repeat(64)
const keyC = 'C0ffee'.padEnd(64, '0')

let directory: string
let store: Corestore
let registry: RackRegistry

async function openRegistry(): Promise<void> {
  store = new Corestore(join(directory, 'store'))
  registry = new RackRegistry({ store })
  await registry.ready()
}

async function closeRegistry(): Promise<void> {
  await registry.close()
  await store.close()
}

function codeOf(action: () => unknown): Promise<string | undefined> {
  return Promise.resolve()
    .then(action)
    .then(
      () => undefined,
      (error: unknown) => (isOrkError(error) ? error.code : `not an OrkError: ${String(error)}`),
    )
}

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rack-registry-'))
  await openRegistry()
})

afterEach(async () => {
  await closeRegistry()
  await rm(directory, { recursive: true, force: true })
})

describe('register', () => {
  it('stores the whole request, returns 1 and upserts by id', async () => {
    const request = { id: 'rack-1', type: 'miner-am-s19', info: { rpcPublicKey: keyA, site: 'x' }, extra: [1, 2] }
    expect(await registry.register(request)).toBe(1)
    expect(registry.get('rack-1')).toEqual(request)
    expect(await registry.register({ ...request, type: 'miner-wm-m56' })).toBe(1)
    expect(registry.size).toBe(1)
    expect(registry.get('rack-1')?.type).toBe('miner-wm-m56')
  })

  it('validates in the reference order with the reference codes', async () => {
    expect(await codeOf(() => registry.register({}))).toBe('ERR_RACK_ID_INVALID')
    expect(await codeOf(() => registry.register({ type: 'miner', info: {} }))).toBe('ERR_RACK_ID_INVALID')
    expect(await codeOf(() => registry.register({ id: 'r', info: {} }))).toBe('ERR_RACK_TYPE_INVALID')
    expect(await codeOf(() => registry.register({ id: 'r', type: 'miner', info: {} }))).toBe(
      'ERR_RACK_INFO_RPC_PUBKEY_INVALID',
    )
    // Q14 FIX: the reference crashes with a TypeError here.
    expect(await codeOf(() => registry.register({ id: 'r', type: 'miner' }))).toBe('ERR_RACK_INFO_RPC_PUBKEY_INVALID')
    expect(await codeOf(() => registry.register({ id: 'r', type: 'miner', info: null }))).toBe(
      'ERR_RACK_INFO_RPC_PUBKEY_INVALID',
    )
    expect(await codeOf(() => registry.register(null))).toBe('ERR_RACK_ID_INVALID')
    expect(registry.size).toBe(0)
  })

  it('refuses values the reference accepted but the ork cannot use', async () => {
    expect(await codeOf(() => registry.register({ id: 5, type: 'miner', info: { rpcPublicKey: keyA } }))).toBe(
      'ERR_RACK_ID_INVALID',
    )
    expect(await codeOf(() => registry.register({ id: 'r', type: ['miner'], info: { rpcPublicKey: keyA } }))).toBe(
      'ERR_RACK_TYPE_INVALID',
    )
    for (const rpcPublicKey of ['key', 'a'.repeat(63), 'g'.repeat(64), `${keyA}zz`, ` ${keyA}`, 42, { hex: keyA }]) {
      expect(await codeOf(() => registry.register({ id: 'r', type: 'miner', info: { rpcPublicKey } }))).toBe(
        'ERR_RACK_INFO_RPC_PUBKEY_INVALID',
      )
    }
    expect(validateRackRegistration({ id: 'r', type: 'miner', info: { rpcPublicKey: keyC } }).id).toBe('r')
  })

  it('keeps in-memory records safe from callers', async () => {
    const request = { id: 'rack-1', type: 'miner', info: { rpcPublicKey: keyA } }
    await registry.register(request)
    request.info.rpcPublicKey = keyB
    expect(registry.get('rack-1')?.info.rpcPublicKey).toBe(keyA)
    expect(() => {
      ;(registry.get('rack-1') as { info: { rpcPublicKey: string } }).info.rpcPublicKey = keyB
    }).toThrow(TypeError)
  })
})

describe('list', () => {
  beforeEach(async () => {
    await registry.register({ id: 'rack-2', type: 'minerpool-f2pool', info: { rpcPublicKey: keyB } })
    await registry.register({ id: 'rack-1', type: 'miner-am-s19', info: { rpcPublicKey: keyA, note: 'n' } })
    await registry.register({ id: 'rack-3', type: 'container-bd', info: { rpcPublicKey: keyC } })
  })

  it('returns racks in key order, hiding keys without mutating the records', () => {
    const listed = registry.list({})
    expect(listed.map((rack) => rack.id)).toEqual(['rack-1', 'rack-2', 'rack-3'])
    expect(listed[0]).toEqual({ id: 'rack-1', type: 'miner-am-s19', info: { note: 'n' } })
    expect(registry.get('rack-1')?.info.rpcPublicKey).toBe(keyA)
    expect(registry.list({ keys: 1 })[0]?.info.rpcPublicKey).toBe(keyA)
    expect(registry.list().length).toBe(3)
  })

  it('selects with a plain prefix (Q9) and rejects a non-string type', async () => {
    expect(registry.list({ type: 'miner' }).map((rack) => rack.id)).toEqual(['rack-1', 'rack-2'])
    expect(registry.list({ type: 'miner-am' }).map((rack) => rack.id)).toEqual(['rack-1'])
    expect(registry.list({ type: '' }).length).toBe(3)
    expect(await codeOf(() => registry.list({ type: 123 }))).toBe('ERR_TYPE_INVALID')
    expect(await codeOf(() => registry.list({ type: ['miner'] }))).toBe('ERR_TYPE_INVALID')
  })

  it('selects fan-out racks by type family', () => {
    expect(registry.select('miner').map((rack) => rack.id)).toEqual(['rack-1'])
    expect(registry.select('minerpool').map((rack) => rack.id)).toEqual(['rack-2'])
    expect(registry.all().map((rack) => rack.id)).toEqual(['rack-1', 'rack-2', 'rack-3'])
  })

  it('orders ids byte-wise like Hyperbee, not by UTF-16 code units', async () => {
    // JavaScript's `<` puts the surrogate pair of U+1F600 (0xD83D) before U+FF01;
    // UTF-8 bytes (F0 9F .. vs EF BC 81) and therefore Hyperbee put it after.
    await registry.register({ id: 'z\u{1F600}', type: 't', info: { rpcPublicKey: keyA } })
    await registry.register({ id: 'z\uFF01', type: 't', info: { rpcPublicKey: keyA } })
    const ids = registry.all().map((rack) => rack.id)
    expect(ids.slice(-2)).toEqual(['z\uFF01', 'z\u{1F600}'])
    await closeRegistry()
    await openRegistry()
    expect(registry.all().map((rack) => rack.id)).toEqual(ids)
  })
})

describe('forget', () => {
  beforeEach(async () => {
    for (const [index, key] of [keyA, keyB, keyC].entries()) {
      await registry.register({ id: `rack-${index + 1}`, type: 'miner', info: { rpcPublicKey: key } })
    }
  })

  it('deletes listed ids and returns the count', async () => {
    expect(await registry.forget({ ids: ['rack-1', 'nope'] })).toBe(1)
    expect(registry.all().map((rack) => rack.id)).toEqual(['rack-2', 'rack-3'])
  })

  it('deletes nothing for {} or a non-array ids, everything for all', async () => {
    expect(await registry.forget({})).toBe(0)
    expect(await registry.forget({ ids: 'rack-1' })).toBe(0)
    expect(await registry.forget()).toBe(0)
    expect(await registry.forget({ all: true })).toBe(3)
    expect(registry.size).toBe(0)
  })

  it('takes any truthy all, as the reference', async () => {
    expect(await registry.forget({ all: 1 as never })).toBe(3)
    expect(registry.size).toBe(0)
  })

  it('keeps memory and store consistent under concurrent changes', async () => {
    const changes = await Promise.all([
      registry.register({ id: 'rack-4', type: 'miner', info: { rpcPublicKey: keyA } }),
      registry.forget({ all: true }),
      registry.register({ id: 'rack-5', type: 'miner', info: { rpcPublicKey: keyA } }),
    ])
    expect(changes).toEqual([1, 4, 1])
    const inMemory = registry.all().map((rack) => rack.id)
    expect(inMemory).toEqual(['rack-5'])
    await closeRegistry()
    await openRegistry()
    expect(registry.all().map((rack) => rack.id)).toEqual(inMemory)
  })
})

describe('persistence', () => {
  it('finds every change again after reopening', async () => {
    await registry.register({ id: 'rack-1', type: 'miner', info: { rpcPublicKey: keyA } })
    await registry.register({ id: 'rack-2', type: 'container', info: { rpcPublicKey: keyB } })
    await registry.forget({ ids: ['rack-1'] })
    await closeRegistry()
    await openRegistry()
    expect(registry.list({ keys: true })).toEqual([{ id: 'rack-2', type: 'container', info: { rpcPublicKey: keyB } }])
  })

  it('opens a store written in the reference layout and writes the same layout back', async () => {
    await closeRegistry()
    // What the reference does: store_s1.getBee({ name: 'racks' }, { keyEncoding: 'utf-8' }) and
    // racks.put(req.id, Buffer.from(JSON.stringify(req))), with requests it accepted unchecked.
    const referenceStore = new Corestore(join(directory, 'store'))
    const referenceBee = new Hyperbee(referenceStore.get({ name: 'racks' }), { keyEncoding: 'utf-8' })
    await referenceBee.ready()
    const written = [
      { id: 'miner-am-s19xp-rack-1', type: 'miner-am-s19xp', info: { rpcPublicKey: keyA }, extra: { a: 1 } },
      { id: 'container-bd-rack-1', type: 'container-bd', info: { rpcPublicKey: keyB } },
      { id: 'odd-rack', type: 'sensor', info: { rpcPublicKey: 'not-hex' } },
    ]
    for (const request of written) await referenceBee.put(request.id, Buffer.from(JSON.stringify(request)))
    await referenceBee.put('broken', Buffer.from('{not json'))
    await referenceBee.close()
    await referenceStore.close()

    await openRegistry()
    expect(registry.list({ keys: true })).toEqual([written[1], written[0], written[2]])
    expect(registry.list().map((rack) => rack.info)).toEqual([{}, {}, {}])
    await registry.register({ id: 'new-rack', type: 'powermeter', info: { rpcPublicKey: keyC } })
    await closeRegistry()

    store = new Corestore(join(directory, 'store'))
    // openRacksBee's type shows only what the registry uses; the bee itself is a full Hyperbee.
    const bee = openRacksBee(store) as unknown as Hyperbee
    await bee.ready()
    const entry = await bee.get('new-rack')
    expect(Buffer.isBuffer(entry?.value)).toBe(true)
    expect(entry?.value.toString('utf-8')).toBe(
      JSON.stringify({ id: 'new-rack', type: 'powermeter', info: { rpcPublicKey: keyC } }),
    )
    await bee.close()
    registry = new RackRegistry({ bee: await readyBee(store) })
    await registry.ready()
    expect(registry.size).toBe(4)
  })

  it('accepts a caller-owned bee and leaves it open on close', async () => {
    await closeRegistry()
    store = new Corestore(join(directory, 'store'))
    const bee = await readyBee(store)
    registry = new RackRegistry({ bee })
    await registry.register({ id: 'rack-1', type: 'miner', info: { rpcPublicKey: keyA } })
    await registry.close()
    await registry.close()
    expect(bee.closed).toBe(false)
    expect((await bee.get('rack-1'))?.key).toBe('rack-1')
    await bee.close()
    registry = new RackRegistry({ store })
    await registry.ready()
  })
})

describe('a store that refuses writes (disk full)', () => {
  it('rejects register and forget with ERR_STORE_WRITE_FAILED and changes nothing', async () => {
    await registry.register({ id: 'rack-1', type: 'miner', info: { rpcPublicKey: keyA } })
    await closeRegistry()
    store = new Corestore(join(directory, 'store'))
    const bee = await readyBee(store)
    // the error RocksDB gives when its log cannot grow
    const refusal = () => {
      const cause = Object.assign(new Error('While appending to file: db/000004.log: File too large'), { code: 'EIO' })
      return Promise.reject(new Error('Batch was not applied', { cause }))
    }
    const openBatch = bee.batch.bind(bee)
    Object.assign(bee, {
      put: refusal,
      batch: () => Object.assign(openBatch(), { flush: refusal }),
    })
    registry = new RackRegistry({ bee })
    await registry.ready()
    const register = registry.register({ id: 'rack-2', type: 'miner', info: { rpcPublicKey: keyB } })
    await expect(register).rejects.toMatchObject({
      message: 'ERR_STORE_WRITE_FAILED',
      details: { code: 'EIO', reason: 'While appending to file: db/000004.log: File too large' },
    })
    expect(await codeOf(() => registry.forget({ ids: ['rack-1'] }))).toBe('ERR_STORE_WRITE_FAILED')
    expect(registry.list().map((rack) => rack.id)).toEqual(['rack-1'])
    await registry.close()
    await bee.close()
    await store.close()
    await openRegistry()
    expect(registry.list().map((rack) => rack.id)).toEqual(['rack-1'])
  })
})

describe('lifecycle', () => {
  it('refuses reads before ready and changes after close', async () => {
    const early = new RackRegistry({ store })
    expect(await codeOf(() => early.list())).toBe('ERR_RACK_REGISTRY_NOT_READY')
    await early.ready()
    await early.ready()
    await early.close()
    expect(await codeOf(() => early.register({ id: 'r', type: 't', info: { rpcPublicKey: keyA } }))).toBe(
      'ERR_RACK_REGISTRY_CLOSED',
    )
    expect(await codeOf(() => early.all())).toBe('ERR_RACK_REGISTRY_CLOSED')
  })

  it('needs a bee or a store', async () => {
    expect(await codeOf(() => new RackRegistry({}))).toBe('ERR_RACK_REGISTRY_STORE_INVALID')
  })
})

async function readyBee(corestore: Corestore): Promise<Hyperbee> {
  const bee = openRacksBee(corestore) as unknown as Hyperbee
  await bee.ready()
  return bee
}
