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

describe('decodeReply', () => {
  it("hands each rack's reply bytes to decodeReply with the rack and its index, and fails the rack it throws for", async () => {
    const racks: RackRecord[] = ['r1', 'r2', 'r3'].map((id) => ({ ...rack, id }))
    const transport: RackRequester = {
      request: async (key, _method, _data, options) => {
        if (!options?.decode) throw new Error('no decode given')
        return options.decode(Buffer.from(`reply of ${String(key)}`))
      },
    }
    const decodeReply = (body: Buffer, of: RackRecord, index: number) => {
      if (of.id === 'r2') throw new Error('undecodable')
      return `${of.id}#${index}: ${body.toString()}`
    }
    const results = await new RackFanOut({ transport }).fanOut(racks, 'tailLog', {}, { decodeReply })
    expect(results.map((result) => (result.ok ? result.value : result.error.message))).toEqual([
      `r1#0: reply of ${rack.info.rpcPublicKey}`,
      'undecodable',
      `r3#2: reply of ${rack.info.rpcPublicKey}`,
    ])
  })
})

describe('maxReplyBytes', () => {
  const racks: RackRecord[] = ['r1', 'r2', 'r3', 'r4'].map((id) => ({ ...rack, id }))
  /** Racks answering their reply (JSON text) as the transport does: its bytes first, then the value. */
  function sizedRacks(replies: Record<string, string>) {
    const asked: string[] = []
    const transport: RackRequester = {
      request: async (_key, _method, _data, options) => {
        const id = racks[asked.length]?.id as string
        asked.push(id)
        const text = replies[id] as string
        options?.onReply?.(Buffer.from(text))
        if (text.startsWith('"[HRPC_ERR]=')) throw new Error(JSON.parse(text))
        return JSON.parse(text)
      },
    }
    return { asked, transport }
  }
  const tenBytes = '[12345678]'

  it('stops a fan-out whose replies add up to more, asking no more racks', async () => {
    const { asked, transport } = sizedRacks({ r1: tenBytes, r2: tenBytes, r3: tenBytes, r4: tenBytes })
    const fanOut = new RackFanOut({ transport, concurrency: 1 })
    // Each reply adds 8 bytes (its brackets go): the third takes the total to 24.
    const refused = fanOut.fanOut(racks, 'listThings', {}, { maxReplyBytes: 23 })
    await expect(refused).rejects.toMatchObject({ code: 'ERR_FACS_NET_PAYLOAD_TOO_LARGE' })
    expect(asked).toEqual(['r1', 'r2', 'r3'])
    const { transport: again } = sizedRacks({ r1: tenBytes, r2: tenBytes, r3: tenBytes, r4: tenBytes })
    const fitting = await new RackFanOut({ transport: again }).fanOut(racks, 'listThings', {}, { maxReplyBytes: 32 })
    expect(fitting.map((result) => result.ok)).toEqual([true, true, true, true])
  })

  it('uncounts a reply that fails once parsed (an error reply)', async () => {
    const error = JSON.stringify('[HRPC_ERR]=ERR_X')
    const { transport } = sizedRacks({ r1: error, r2: tenBytes, r3: tenBytes })
    const fanOut = new RackFanOut({ transport, concurrency: 1 })
    const results = await fanOut.fanOut(racks.slice(0, 3), 'listThings', {}, { maxReplyBytes: 16 })
    expect(results.map((result) => result.ok)).toEqual([false, true, true])
  })
})

describe('maxHeldReplySize', () => {
  const racks: RackRecord[] = ['r1', 'r2', 'r3'].map((id) => ({ ...rack, id }))
  /** Every rack answers `[12345678]`; the second request waits for `release`. */
  function tenByteRacks() {
    let release = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let secondAsked = () => {}
    /** Resolves once the second request is sent: the first one's reply is kept by then. */
    const waiting = new Promise<void>((resolve) => {
      secondAsked = resolve
    })
    let requests = 0
    const transport: RackRequester = {
      request: async (_key, _method, _data, options) => {
        if (requests++ === 1) {
          secondAsked()
          await released
        }
        options?.onReply?.(Buffer.from('[12345678]'))
        return [12345678]
      },
    }
    return { transport, release, waiting }
  }

  it('refuses the replies past what all fan-outs may keep at once, until a fan-out keeping some settles', async () => {
    const { transport, release, waiting: secondAsked } = tenByteRacks()
    // `[12345678]` is reckoned 10 + 64 bytes once parsed: two fit, not three.
    const fanOut = new RackFanOut({ transport, maxHeldReplySize: 200 })
    // The first fan-out keeps r1's reply until r2 answers.
    const waiting = fanOut.fanOut(racks.slice(0, 2), 'tailLog', {}, { concurrency: 1 })
    await secondAsked
    const crowded = await fanOut.fanOut(racks, 'tailLog', {})
    expect(crowded.map((result) => result.ok)).toEqual([true, false, false])
    expect(crowded[1]).toMatchObject({ ok: false, error: { code: 'ERR_FACS_NET_PAYLOAD_TOO_LARGE' } })
    release()
    expect((await waiting).map((result) => result.ok)).toEqual([true, true])
    // Both have settled: nothing is kept any more.
    expect((await fanOut.fanOut(racks.slice(0, 2), 'tailLog', {})).map((result) => result.ok)).toEqual([true, true])
  })
})
