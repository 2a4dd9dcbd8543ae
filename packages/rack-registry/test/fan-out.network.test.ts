import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FanOutResult, RackFanOut, type RackRecord, RackRegistry } from '../src/index.ts'
import { type LoopbackClient, type LoopbackNetwork, startLoopbackNetwork } from './support/loopback-network.ts'

const HEALTHY_RACKS = 17
// Wide enough for cold dials and probes on a loaded CI machine; PROBE_TIMEOUT stays well under TIMEOUT / 2.
const TIMEOUT = 4000
const PROBE_TIMEOUT = 500

let directory: string
let network: LoopbackNetwork
let ork: LoopbackClient
let registryStore: Corestore
let registry: RackRegistry
const silentRackIds = ['rack-silent-1', 'rack-silent-2']
const garbageRackId = 'rack-garbage'
/** While true the silent racks accept requests and never answer them. */
let silent = true
let inFlight = 0
let maxInFlight = 0

function healthyHandlers(id: string) {
  return {
    json: {
      listThings: () => [{ id: `${id}-thing`, rack: id }],
      slow: async (data: unknown) => {
        inFlight += 1
        maxInFlight = Math.max(maxInFlight, inFlight)
        // long enough for every request the concurrency limit allows to overlap, even on a loaded machine
        await new Promise((resolve) => setTimeout(resolve, 100))
        inFlight -= 1
        return data
      },
      failing: () => {
        throw new Error('ERR_THING_NOTFOUND')
      },
    },
  }
}

async function startRack(id: string, handlers: Parameters<LoopbackNetwork['startRack']>[0]): Promise<void> {
  const rpcPublicKey = await network.startRack(handlers)
  await registry.register({ id, type: 'miner-am-s19xp', info: { rpcPublicKey } })
}

function byId(results: FanOutResult[], id: string): FanOutResult {
  const result = results.find((entry) => entry.rack.id === id)
  if (!result) throw new Error(`no result for ${id}`)
  return result
}

function codeOf(result: FanOutResult | undefined): unknown {
  return result && !result.ok ? (result.error as { code?: unknown }).code : undefined
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rack-fan-out-'))
  network = await startLoopbackNetwork()
  registryStore = new Corestore(join(directory, 'ork-db'))
  registry = new RackRegistry({ store: registryStore })
  await registry.ready()
  const starts: Promise<void>[] = []
  for (let index = 0; index < HEALTHY_RACKS; index++) {
    const id = `rack-${String(index).padStart(2, '0')}`
    starts.push(startRack(id, healthyHandlers(id)))
  }
  for (const id of silentRackIds) {
    starts.push(
      startRack(id, {
        json: { listThings: () => (silent ? new Promise<never>(() => {}) : [{ id: `${id}-thing`, rack: id }]) },
      }),
    )
  }
  starts.push(startRack(garbageRackId, { raw: { listThings: () => Buffer.from('{"not json') } }))
  await Promise.all(starts)
  ork = await network.createClient()
})

afterAll(async () => {
  await ork?.close()
  await network?.destroy()
  await registry?.close()
  await registryStore?.close()
  await rm(directory, { recursive: true, force: true })
})

describe('fan-out over a loopback testnet', () => {
  it('returns every healthy reply in rack order and stops waiting for dead racks once they are down', async () => {
    const fanOut = new RackFanOut({
      transport: ork,
      timeout: TIMEOUT,
      downAfterFailures: 2,
      probeTimeout: PROBE_TIMEOUT,
    })
    const racks = registry.all()
    expect(racks).toHaveLength(20)

    for (let round = 1; round <= 2; round++) {
      const started = performance.now()
      const results = await fanOut.fanOut(racks, 'listThings', { status: 1 })
      const elapsed = performance.now() - started
      expect(results.map((result) => result.rack.id)).toEqual(racks.map((rack) => rack.id))
      const healthy = results.filter((result) => result.ok)
      expect(healthy).toHaveLength(HEALTHY_RACKS)
      for (const result of healthy) {
        expect(result.ok && result.value).toEqual([{ id: `${result.rack.id}-thing`, rack: result.rack.id }])
      }
      expect(codeOf(byId(results, garbageRackId))).toBe('ERR_FACS_NET_DATA_FORMAT')
      for (const id of silentRackIds) expect(codeOf(byId(results, id))).toBe('TIMEOUT_EXCEEDED')
      // Until they are marked down, the silent racks cost the whole timeout.
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - 50)
      const silentHealth = fanOut.health().filter((entry) => silentRackIds.includes(entry.rackId))
      expect(silentHealth.map((entry) => [entry.state, entry.consecutiveFailures])).toEqual([
        [round === 2 ? 'down' : 'up', round],
        [round === 2 ? 'down' : 'up', round],
      ])
    }

    const health = new Map(fanOut.health().map((entry) => [entry.rackId, entry]))
    // A rack answering garbage is alive: waiting for it costs nothing, so it is never marked down.
    expect(health.get(garbageRackId)).toMatchObject({ state: 'up', consecutiveFailures: 0 })
    expect(health.get('rack-00')).toMatchObject({ state: 'up', lastFailureAt: null })
    expect(health.get('rack-00')?.lastSuccessAt).toBeTypeOf('number')

    const started = performance.now()
    const results = await fanOut.fanOut(racks, 'listThings', { status: 1 })
    const elapsed = performance.now() - started
    expect(results.filter((result) => result.ok)).toHaveLength(HEALTHY_RACKS)
    expect(elapsed).toBeLessThan(TIMEOUT / 2)
    for (const id of silentRackIds) {
      const result = byId(results, id)
      expect(!result.ok && result.error.message).toBe(`TIMEOUT_EXCEEDED: timeout of ${PROBE_TIMEOUT}ms exceeded`)
    }

    // A write to a down rack keeps its full deadline: cut short, a write the rack still
    // carries out would be reported as failed.
    const [silentRack] = racks.filter((rack) => rack.id === silentRackIds[0])
    const writeStarted = performance.now()
    const [write] = await fanOut.fanOut([silentRack as RackRecord], 'listThings', {}, { write: true })
    expect(performance.now() - writeStarted).toBeGreaterThanOrEqual(TIMEOUT - 50)
    expect(write && !write.ok && write.error.message).toBe(`TIMEOUT_EXCEEDED: timeout of ${TIMEOUT}ms exceeded`)

    // A down rack that answers again comes back by itself.
    silent = false
    const recovered = await fanOut.fanOut(racks, 'listThings', {})
    expect(recovered.filter((result) => !result.ok).map((result) => result.rack.id)).toEqual([garbageRackId])
    for (const id of silentRackIds) {
      expect(fanOut.health().find((entry) => entry.rackId === id)).toMatchObject({ state: 'up', downSince: null })
    }
    silent = true
  })

  it('limits concurrency and sends per-rack payloads', async () => {
    const fanOut = new RackFanOut({ transport: ork, timeout: TIMEOUT })
    const healthyRacks = registry.all().filter((rack) => /^rack-\d+$/.test(rack.id))
    maxInFlight = 0
    const limited = await fanOut.fanOut(healthyRacks, 'slow', (rack: RackRecord) => ({ rackActionId: rack.id }), {
      concurrency: 3,
    })
    expect(maxInFlight).toBe(3)
    expect(limited.map((result) => result.ok && result.value)).toEqual(
      healthyRacks.map((rack) => ({ rackActionId: rack.id })),
    )
    maxInFlight = 0
    await fanOut.fanOut(healthyRacks, 'slow', {})
    expect(maxInFlight).toBeGreaterThan(3)
  })

  it('keeps racks that answer with errors up, and fails fast for a key nobody serves', async () => {
    const fanOut = new RackFanOut({ transport: ork, timeout: TIMEOUT, downAfterFailures: 1 })
    const healthyRacks = registry.select('miner').filter((rack) => /^rack-\d+$/.test(rack.id))
    const remoteErrors = await fanOut.fanOut(healthyRacks, 'failing', {}, { concurrency: 4 })
    expect(remoteErrors.map((result) => !result.ok && result.error.message)).toEqual(
      healthyRacks.map(() => '[HRPC_ERR]=ERR_THING_NOTFOUND'),
    )
    const unknownMethod = await fanOut.fanOut(healthyRacks.slice(0, 2), 'noSuchMethod', {})
    expect(unknownMethod.map(codeOf)).toEqual(['UNKNOWN_METHOD', 'UNKNOWN_METHOD'])
    expect(fanOut.health().every((entry) => entry.state === 'up')).toBe(true)

    const ghost: RackRecord = { id: 'ghost', type: 'miner', info: { rpcPublicKey: 'ab'.repeat(32) } }
    const keyless = { id: 'keyless', type: 'miner', info: {} } as unknown as RackRecord
    const started = performance.now()
    const [ghostResult, keylessResult] = await fanOut.fanOut([ghost, keyless], 'listThings', {})
    expect(ghostResult?.ok).toBe(false)
    expect(performance.now() - started).toBeLessThan(TIMEOUT)
    expect(fanOut.health().find((entry) => entry.rackId === 'ghost')?.state).toBe('down')
    expect(codeOf(keylessResult)).toBe('ERR_RACK_INFO_RPC_PUBKEY_INVALID')
    expect(fanOut.health().some((entry) => entry.rackId === 'keyless')).toBe(false)
  })
})
