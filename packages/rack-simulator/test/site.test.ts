import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type RackNodeOptions, type RackServerNode, startSimulatedSite } from '../src/index.ts'

type RawHandler = (request: Buffer, context: { remotePublicKey: Buffer }) => Promise<Buffer>

/**
 * An in-process stand-in for the RPC node (dispatches to the registered raw
 * handlers): it exercises the rack wiring without a DHT, which the loopback
 * network test covers.
 */
class InProcessNode implements RackServerNode {
  static readonly nodes = new Map<string, InProcessNode>()
  readonly handlers = new Map<string, RawHandler>()
  rpcPublicKey = Buffer.alloc(32)
  clientPublicKey = Buffer.alloc(32)
  listening = false
  closed = false

  constructor(readonly options: RackNodeOptions) {}

  async ready(): Promise<void> {
    this.rpcPublicKey = Buffer.from(this.options.storeDir.padEnd(32, '#').slice(-32))
    this.clientPublicKey = Buffer.from(this.rpcPublicKey).reverse()
    InProcessNode.nodes.set(this.rpcPublicKey.toString('hex'), this)
  }

  respondRaw(method: string, handler: RawHandler): void {
    this.handlers.set(method, handler)
  }

  async listen(): Promise<void> {
    this.listening = true
  }

  async close(): Promise<void> {
    this.closed = true
  }

  async request(method: string, body: unknown): Promise<unknown> {
    const handler = this.handlers.get(method)
    if (!handler) throw new Error(`UNKNOWN_METHOD: Unknown method '${method}'`)
    const reply = await handler(Buffer.from(JSON.stringify(body)), { remotePublicKey: Buffer.alloc(32) })
    return JSON.parse(reply.toString())
  }
}

describe('startSimulatedSite', () => {
  let rootDir: string
  beforeEach(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'rack-simulator-'))
  })
  afterEach(async () => {
    await rm(rootDir, { recursive: true, force: true })
  })

  it('starts containers first, numbers racks per type and places miners in the site containers', async () => {
    const site = await startSimulatedSite({
      dhtOpts: {},
      seed: 'site-a',
      rootDir,
      now: 1_700_000_000_000,
      racks: [
        { type: 'miner-am-s19xp', count: 20, racks: 2 },
        { type: 'container-bd-d40', count: 2 },
        { type: 'powermeter-abb', count: 2, faults: { failMethods: ['tailLog'] } },
      ],
      createNode: (options) => new InProcessNode(options),
    })
    try {
      expect(site.racks.map((rack) => rack.id)).toEqual([
        'container-bd-d40-rack-1',
        'miner-am-s19xp-rack-1',
        'miner-am-s19xp-rack-2',
        'powermeter-abb-rack-1',
      ])
      const registration = site.registrations[1]
      expect(registration).toEqual({
        id: 'miner-am-s19xp-rack-1',
        type: 'miner-am-s19xp',
        info: { rpcPublicKey: site.racks[1]?.rpcPublicKey },
      })
      const minerNode = InProcessNode.nodes.get(registration?.info.rpcPublicKey ?? '') as InProcessNode
      expect(minerNode.listening).toBe(true)
      expect(minerNode.options.storeDir).toBe(join(rootDir, 'miner-am-s19xp-rack-1', 'store'))
      expect([...minerNode.handlers.keys()]).toEqual(
        expect.arrayContaining(['listThings', 'getWriteCalls', 'echo', 'ping']),
      )
      const containerNames = site.racks[0]?.model.containerNames() ?? []
      const things = (await minerNode.request('listThings', { fields: { info: 1 } })) as Array<{
        info: { container: string }
      }>
      for (const thing of things) expect([...containerNames, 'maintenance']).toContain(thing.info.container)
      expect(await minerNode.request('getRack', {})).toEqual({
        id: 'miner-am-s19xp-rack-1',
        rpcPubKey: registration?.info.rpcPublicKey,
      })
      const meterNode = InProcessNode.nodes.get(site.registrations[3]?.info.rpcPublicKey ?? '') as InProcessNode
      expect(await meterNode.request('tailLog', { key: 'stat-5m', tag: 't-powermeter' })).toBe(
        '[HRPC_ERR]=ERR_SIMULATED_FAILURE',
      )
      await minerNode.request('queryThing', { id: 'am-s19xp-r1-0001', method: 'reboot', params: [{ actionId: 1 }] })
      expect(site.executedCalls().map((call) => [call.rackId, call.action])).toEqual([
        ['miner-am-s19xp-rack-1', 'reboot'],
      ])
    } finally {
      await site.close()
    }
    expect([...InProcessNode.nodes.values()].every((node) => node.closed)).toBe(true)
  })

  it('releases requests parked by neverAnswer when the rack closes', async () => {
    const site = await startSimulatedSite({
      dhtOpts: {},
      seed: 1,
      rootDir,
      racks: [{ type: 'sensor-temp', count: 1, faults: { neverAnswer: ['listThings'] } }],
      createNode: (options) => new InProcessNode(options),
    })
    const node = InProcessNode.nodes.get(site.registrations[0]?.info.rpcPublicKey ?? '') as InProcessNode
    const pending = node.request('listThings', {})
    expect(await node.request('getThingsCount', {})).toBe(1)
    await site.close()
    await expect(pending).rejects.toThrow('ERR_RACK_CLOSED')
  })
})
