import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger } from '@ork/logger'
import { SimulatedRack } from '@ork/rack-simulator'
import { afterEach, describe, expect, it } from 'vitest'
import { loadWorkerConfig } from '../src/config/load-config.ts'
import { createServiceRoot, type Harness, SMALL_SITE, startHarness } from './support/harness.ts'

/**
 * What the ork writes at the default level while a problem lasts: the first line of each
 * problem and every state change, not one line per request (README "Logs").
 */
interface LogLine {
  level: string
  ns: string
  msg: string
  rackId?: string
  method?: string
  repeated?: number
  error?: { code?: string; message?: string }
  peer?: string
}

let harness: Harness | undefined
let lines: LogLine[] = []

async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  lines = []
  const logger = createLogger('ork:worker', {
    write: (line) => lines.push(JSON.parse(line) as LogLine),
    level: 'info',
    debug: '',
  })
  harness = await startHarness({ racks: SMALL_SITE, ...options, orkOptions: { logger, ...options.orkOptions } })
  return harness
}

afterEach(async () => {
  await harness?.close()
  harness = undefined
})

const ofRack = (rackId: string, msg: string) => lines.filter((line) => line.rackId === rackId && line.msg === msg)

describe('log volume while a problem lasts', () => {
  it("writes a rack's failure once per method and reason, then its count at close", async () => {
    const site = await start()
    const rack = site.site.racks.find((candidate) => candidate.type.startsWith('miner')) as SimulatedRack
    rack.setFaults({ garbage: true })
    const dashboardRefreshes = 25
    for (let refresh = 0; refresh < dashboardRefreshes; refresh++) {
      await site.call('listThings', { query: {}, fields: { id: 1 } })
      await site.call('getThingsCount', { query: {} })
    }
    const failures = ofRack(rack.id, 'rack request failed')
    expect(failures.map((line) => `${line.method} ${line.error?.code}`)).toEqual([
      'listThings ERR_FACS_NET_DATA_FORMAT',
      'getThingsCount ERR_FACS_NET_DATA_FORMAT',
    ])
    await site.ork.close()
    // Closing writes what was counted and not written: nothing is lost, it is only summarised.
    expect(ofRack(rack.id, 'rack request failed').map((line) => `${line.method} ${line.repeated}`)).toEqual([
      'listThings undefined',
      'getThingsCount undefined',
      `listThings ${dashboardRefreshes - 1}`,
      `getThingsCount ${dashboardRefreshes - 1}`,
    ])
  })

  it('writes a rack going down and coming back up, each once, however many requests it failed', async () => {
    const site = await start()
    const storeDir = join(site.root, 'flapping-rack')
    const rackOptions = {
      type: 'powermeter-abb',
      count: 1,
      seed: 3,
      rackNumber: 9,
      storeDir,
      dhtOpts: site.testnet.dhtOpts,
    }
    let rack = new SimulatedRack(rackOptions)
    await rack.ready()
    await site.call('registerRack', rack.registration())
    await site.call('listThings', { query: {} })
    await rack.close()
    for (let refresh = 0; refresh < 8; refresh++) await site.call('listThings', { query: {} })

    // Back on the same keys (a restarted rack): the ork's probes and requests see it answer again.
    rack = new SimulatedRack(rackOptions)
    try {
      await rack.ready()
      let answered = false
      for (let attempt = 0; attempt < 100 && !answered; attempt++) {
        const things = (await site.call('listThings', { query: {} })) as { rack?: string }[]
        answered = things.some((thing) => thing.rack === rack.id)
        if (!answered) await new Promise((resolve) => setTimeout(resolve, 200))
      }
      expect(answered).toBe(true)
    } finally {
      await rack.close()
    }
    const stateChanges = lines.filter(
      (line) => line.rackId === rack.id && (line.msg === 'rack marked down' || line.msg === 'rack answers again'),
    )
    expect(stateChanges).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'rack marked down', lastFailure: expect.any(String) }),
      expect.objectContaining({
        level: 'info',
        msg: 'rack answers again',
        downSince: expect.stringMatching(/^\d{4}-/),
      }),
    ])
    // Each reason its rack gave is written once, not once per request.
    const failures = ofRack(rack.id, 'rack request failed').map((line) => line.error?.message)
    expect(failures.length).toBeGreaterThan(0)
    expect(new Set(failures).size).toBe(failures.length)
  })

  it('writes a peer refused by the firewall once, however often it retries', async () => {
    const site = await start({ net: { allow: [randomBytes(32).toString('hex')] }, register: false })
    const outsider = await site.newClient()
    for (let attempt = 0; attempt < 5; attempt++) {
      await expect(outsider.request(site.ork.rpcPublicKey, 'listRacks', {}, { timeout: 2000 })).rejects.toThrow()
    }
    const refused = lines.filter((line) => line.msg === 'peer refused: its key is not in allow or allowReadOnly')
    expect(refused).toEqual([
      expect.objectContaining({ level: 'warn', peer: outsider.clientPublicKey.toString('hex') }),
    ])
  })

  it("writes the automation's rack failures as its own, once", async () => {
    const configRoot = createServiceRoot()
    const config = loadWorkerConfig(configRoot, 'production')
    rmSync(configRoot, { recursive: true, force: true })
    config.crossAggrAction = {
      ...(config.crossAggrAction as NonNullable<typeof config.crossAggrAction>),
      agrrListThingsIntvlMs: 100,
    }
    config.globalConfig = { ...config.globalConfig, isAutoSleepAllowed: true }
    const site = await start({ orkOptions: { config } })
    const rack = site.site.racks.find((candidate) => candidate.type.startsWith('container')) as SimulatedRack
    rack.setFaults({ garbage: true })
    const automationFailures = () =>
      lines.filter((line) => line.ns === 'ork:worker:automation' && line.msg === 'rack request failed')
    for (let wait = 0; wait < 100 && automationFailures().length === 0; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // Ten more runs of the automation, with the rack still failing.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(automationFailures()).toEqual([
      expect.objectContaining({ level: 'warn', method: 'listThings', rackId: rack.id }),
    ])
  })
})
