import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import HyperDHT from 'hyperdht'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RpcNode, SEED_BEE_NAME, SEED_DHT, SEED_RPC } from '../src/index.ts'
import { createLoopbackTestnet, type LoopbackTestnet } from '../src/testing.ts'
import { Fixture } from './helpers.ts'

let testnet: LoopbackTestnet
let fixture: Fixture

beforeAll(async () => {
  testnet = await createLoopbackTestnet()
  fixture = new Fixture(testnet)
})

afterAll(async () => {
  await fixture.close()
  await testnet.destroy()
})

async function readSeeds(storeDir: string): Promise<Record<string, Buffer | undefined>> {
  const store = new Corestore(storeDir)
  const bee = new Hyperbee<string, Buffer>(store.get({ name: SEED_BEE_NAME }), { keyEncoding: 'utf-8' })
  await bee.ready()
  const seeds = { [SEED_DHT]: (await bee.get(SEED_DHT))?.value, [SEED_RPC]: (await bee.get(SEED_RPC))?.value }
  await bee.close()
  await store.close()
  return seeds
}

describe('identity', () => {
  it('keeps both public keys across a restart on the same store', async () => {
    const storeDir = join(await fixture.tempDir(), 'store')
    const first = new RpcNode({ storeDir, dhtOpts: testnet.dhtOpts })
    await first.ready()
    const keys = [first.rpcPublicKey.toString('hex'), first.clientPublicKey.toString('hex')]
    await first.close()

    const seeds = await readSeeds(storeDir)
    expect(seeds[SEED_DHT]?.byteLength).toBe(32)
    expect(seeds[SEED_RPC]?.byteLength).toBe(32)
    expect(HyperDHT.keyPair(seeds[SEED_RPC]).publicKey.toString('hex')).toBe(keys[0])
    expect(HyperDHT.keyPair(seeds[SEED_DHT]).publicKey.toString('hex')).toBe(keys[1])

    const second = new RpcNode({ storeDir, dhtOpts: testnet.dhtOpts })
    await second.ready()
    expect([second.rpcPublicKey.toString('hex'), second.clientPublicKey.toString('hex')]).toEqual(keys)
    await second.close()
  })

  it('derives the keys of a store laid out by the reference, on a caller-owned corestore', async () => {
    const storeDir = join(await fixture.tempDir(), 'store')
    const seedDht = randomBytes(32)
    const seedRpc = randomBytes(32)
    const store = new Corestore(storeDir)
    const bee = new Hyperbee<string, Buffer>(store.get({ name: 'storeConf' }), { keyEncoding: 'utf-8' })
    await bee.ready()
    await bee.put('seedDht', seedDht)
    await bee.put('seedRpc', seedRpc)
    await bee.close()

    const node = new RpcNode({ store, dhtOpts: testnet.dhtOpts })
    await node.ready()
    expect(node.clientPublicKey.equals(HyperDHT.keyPair(seedDht).publicKey)).toBe(true)
    expect(node.rpcPublicKey.equals(HyperDHT.keyPair(seedRpc).publicKey)).toBe(true)
    await node.close()

    // The node did not close the caller's store.
    const again = new Hyperbee<string, Buffer>(store.get({ name: 'storeConf' }), { keyEncoding: 'utf-8' })
    await again.ready()
    expect((await again.get('seedRpc'))?.value.equals(seedRpc)).toBe(true)
    await again.close()
    await store.close()
  })

  it('listens on the seedRpc key and dials from the seedDht key, with "host:port" bootstrap strings', async () => {
    const dhtOpts = { host: '127.0.0.1', bootstrap: testnet.bootstrap.map(({ host, port }) => `${host}:${port}`) }
    const server = await fixture.node({ dhtOpts })
    server.respond('who', (_data, context) => context.remotePublicKey.toString('hex'), { op: 'r' })
    await server.listen()
    const client = await fixture.node({ dhtOpts })
    await expect(client.request(server.rpcPublicKey, 'who', {})).resolves.toBe(client.clientPublicKey.toString('hex'))
  })
})
