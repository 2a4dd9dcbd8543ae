import { describe, expect, it } from 'vitest'
import { RackFanOut, type RackRequester } from './fan-out.ts'
import type { RackRecord } from './registry.ts'

const rack: RackRecord = { id: 'rack-1', type: 'miner-x', info: { rpcPublicKey: 'a'.repeat(64) } }
const timeout = (ms: number) =>
  Object.assign(new Error(`TIMEOUT_EXCEEDED: timeout of ${ms}ms exceeded`), {
    name: 'TransportError',
    code: 'TIMEOUT_EXCEEDED',
  })

/**
 * A rack behind a scripted transport: `listThings` takes `answerMs` (or never answers while
 * `silent`), `echo` answers at once unless silent. Deadlines are honoured as the real one does.
 */
function scriptedRack() {
  /** `echoesSent`: every echo asked; `echoes`: those answered. */
  const state = { silent: true, answerMs: 150, echoes: 0, echoesSent: 0 }
  const transport: RackRequester = {
    request: (_key, method, data, options = {}) =>
      new Promise((resolve, reject) => {
        const deadline = options.timeout ?? 10_000
        if (method === 'echo') state.echoesSent++
        if (method === 'echo' && !state.silent) {
          state.echoes++
          resolve(data)
          return
        }
        const cost = state.silent ? Number.POSITIVE_INFINITY : state.answerMs
        if (cost <= deadline) setTimeout(() => resolve([{ id: 'thing-1' }]), cost)
        else setTimeout(() => reject(timeout(deadline)), deadline)
      }),
  }
  return { state, transport }
}

describe('a down rack that is back but slower than the probe deadline', () => {
  it('is brought up by a background echo, so its replies count again within one probe period', async () => {
    const { state, transport } = scriptedRack()
    const fanOut = new RackFanOut({
      transport,
      timeout: 1000,
      probeTimeout: 50,
      downAfterFailures: 1,
      fullDeadlineEvery: 60_000,
      livenessProbeEvery: 100,
    })
    const ask = async () => (await fanOut.fanOut([rack], 'listThings', {}))[0]!
    expect((await ask()).ok).toBe(false)
    expect(fanOut.health()[0]?.state).toBe('down')

    // Back, but listThings takes 150 ms: more than the 50 ms a down rack gets.
    state.silent = false
    const cut = await ask()
    expect(!cut.ok && cut.error.message).toBe('TIMEOUT_EXCEEDED: timeout of 50ms exceeded')
    // The echo sent alongside has answered: the rack is up and gets its full deadline again.
    expect(state.echoes).toBe(1)
    expect(fanOut.health()[0]?.state).toBe('up')
    expect(await ask()).toMatchObject({ ok: true, value: [{ id: 'thing-1' }] })
  })

  // A period longer than the test, and one much shorter than the echo's 200 ms deadline: a probe
  // still in flight is never doubled.
  it.each([10_000, 10])(
    'probes a silent rack once per probe period (%i ms), never twice at once, and keeps it down',
    async (livenessProbeEvery) => {
      const { state, transport } = scriptedRack()
      const fanOut = new RackFanOut({
        transport,
        timeout: 200,
        probeTimeout: 20,
        downAfterFailures: 1,
        livenessProbeEvery,
      })
      for (let round = 0; round < 5; round++) await fanOut.fanOut([rack], 'listThings', {})
      expect(fanOut.health()[0]?.state).toBe('down')
      expect(state.echoesSent).toBe(1)
      // The echo times out at the full 200 ms deadline: no answer, so the rack stays down.
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(fanOut.health()[0]?.state).toBe('down')
    },
  )

  it('gives a write the full deadline even when the rack is down: the rack may still carry it out', async () => {
    const { state, transport } = scriptedRack()
    const deadlines: number[] = []
    const recording: RackRequester = {
      request: (key, method, data, options) => {
        if (method !== 'echo') deadlines.push(options?.timeout ?? -1)
        return transport.request(key, method, data, options)
      },
    }
    const fanOut = new RackFanOut({ transport: recording, timeout: 1000, probeTimeout: 50, downAfterFailures: 1 })
    expect((await fanOut.fanOut([rack], 'listThings', {}, { timeout: 100 }))[0]?.ok).toBe(false)
    expect(fanOut.health()[0]?.state).toBe('down')
    state.silent = false
    expect(await fanOut.fanOut([rack], 'applyThings', {}, { write: true })).toMatchObject([{ ok: true }])
    expect(await fanOut.call(rack, 'applyThings', {}, { write: true })).toEqual([{ id: 'thing-1' }])
    expect(deadlines).toEqual([100, 1000, 1000])
  })
})
