import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SimulatedRack } from '@ork/rack-simulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './support/harness.ts'

let harness: Harness

/** A wait for `rack` to receive one more `method` request than it has now. */
function nextArrival(rack: SimulatedRack, method: string): () => Promise<void> {
  const before = rack.received.get(method) ?? 0
  return async () => {
    while ((rack.received.get(method) ?? 0) <= before) await sleep(5)
  }
}

beforeAll(async () => {
  harness = await startHarness({ racks: [{ type: 'miner-am-s19xp', count: 3 }] })
})
afterAll(async () => {
  await harness?.close()
})

describe('closing the ork (what SIGTERM and SIGINT run)', () => {
  it('finishes the requests in flight, refuses new ones with ERR_ORK_CLOSING, then closes', async () => {
    const [rack] = harness.site.racks
    rack!.setFaults({ delayMs: 800 })
    try {
      const arrived = nextArrival(rack!, 'listThings')
      const inFlight = harness.call('listThings', { fields: { id: 1 } })
      await arrived() // the request is now waiting on the slow rack
      const started = performance.now()
      const closing = harness.ork.close()
      await expect(harness.call('listRacks', {})).rejects.toEqual(
        expect.objectContaining({ message: '[HRPC_ERR]=ERR_ORK_CLOSING' }),
      )
      expect(await inFlight).toHaveLength(3)
      await closing
      // it waited for the rack's 800 ms delay
      expect(performance.now() - started).toBeGreaterThan(300)
    } finally {
      rack!.setFaults({})
    }
  })

  it('waits for requests in flight no longer than drainTimeoutMs', async () => {
    const ork = await harness.restartOrk({ drainTimeoutMs: 300 })
    // Connected before the request that gets stuck, so that it reaches the ork at once.
    expect(await harness.call('getInstanceId')).toBe(ork.instanceId)
    const [rack] = harness.site.racks
    rack!.setFaults({ neverAnswer: ['listThings'] })
    try {
      const arrived = nextArrival(rack!, 'listThings')
      const stuck = harness.call('listThings', {}).then(
        () => 'answered',
        () => 'failed',
      )
      await arrived()
      const started = performance.now()
      await ork.close()
      const elapsed = performance.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(290)
      expect(elapsed).toBeLessThan(5_000) // far below the rack's 10 s timeout
      expect(await stuck).toBe('failed')
    } finally {
      rack!.setFaults({})
    }
  })
})
