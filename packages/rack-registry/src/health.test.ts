import { OrkError } from '@ork/errors'
import { describe, expect, it } from 'vitest'
import { classifyRackFailure, FORGOTTEN_IDS_KEPT, RackHealth } from './health.ts'

function transportError(code: string, message = `${code}: failed`): Error {
  return Object.assign(new Error(message), { name: 'TransportError', code })
}

const rack = { id: 'rack-1', rpcPublicKey: 'a'.repeat(64) }

describe('classifyRackFailure', () => {
  it('treats any reply as proof of life', () => {
    expect(classifyRackFailure(new Error('[HRPC_ERR]=ERR_THING_NOTFOUND'))).toBe('answered')
    expect(classifyRackFailure(Object.assign(new Error('x'), { name: 'RemoteError' }))).toBe('answered')
    expect(classifyRackFailure(transportError('UNKNOWN_METHOD'))).toBe('answered')
    expect(classifyRackFailure(transportError('REQUEST_ERROR'))).toBe('answered')
    expect(classifyRackFailure(new OrkError('ERR_FACS_NET_DATA_FORMAT'))).toBe('answered')
    // a reply too large to accept, or one the transport could not decode, is still a reply
    expect(classifyRackFailure(new OrkError('ERR_FACS_NET_PAYLOAD_TOO_LARGE'))).toBe('answered')
    expect(classifyRackFailure(transportError('DECODE_ERROR'))).toBe('answered')
  })

  it('counts silence and broken channels, and anything unknown, as unreachable', () => {
    expect(classifyRackFailure(transportError('TIMEOUT_EXCEEDED'))).toBe('unreachable')
    expect(classifyRackFailure(transportError('CHANNEL_CLOSED'))).toBe('unreachable')
    expect(classifyRackFailure(new Error('something else'))).toBe('unreachable')
    expect(classifyRackFailure('a string')).toBe('unreachable')
    // The remote-error prefix only counts at the start, as in the reference's client.
    expect(classifyRackFailure(new Error('CHANNEL_CLOSED: while sending [HRPC_ERR]=x'))).toBe('unreachable')
  })

  it('does not blame the rack for local failures', () => {
    expect(classifyRackFailure(transportError('CLIENT_CLOSED'))).toBe('local')
    expect(classifyRackFailure(new Error('RPC client closed'))).toBe('local')
    expect(classifyRackFailure(new OrkError('ERR_RACK_INFO_RPC_PUBKEY_INVALID'))).toBe('local')
    expect(classifyRackFailure(new OrkError('ERR_FACS_NET_PUBLIC_KEY_INVALID'))).toBe('local')
    expect(classifyRackFailure(new OrkError('ERR_FACS_NET_RPC_NOTFOUND'))).toBe('local')
    expect(classifyRackFailure(transportError('CHANNEL_DESTROYED'))).toBe('local')
    // codes that mean "the rack's reply was bad", raised while encoding the request: it never left the ork
    expect(classifyRackFailure(new OrkError('ERR_FACS_NET_DATA_FORMAT', { stage: 'request' }))).toBe('local')
    expect(classifyRackFailure(new OrkError('ERR_FACS_NET_PAYLOAD_TOO_LARGE', { stage: 'request' }))).toBe('local')
  })
})

describe('RackHealth', () => {
  it('gives a down rack its full deadline once every fullDeadlineEvery, so a slow rack can come back', () => {
    let now = 0
    const health = new RackHealth({
      downAfterFailures: 1,
      probeTimeout: 500,
      fullDeadlineEvery: 30_000,
      now: () => now,
      monotonicNow: () => now,
    })
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'))
    expect(health.isDown(rack)).toBe(true)
    now = 29_999
    expect(health.deadlineFor(rack, 10_000)).toBe(500)
    now = 30_000
    expect(health.deadlineFor(rack, 10_000)).toBe(10_000)
    expect(health.deadlineFor(rack, 10_000)).toBe(500)
    now = 59_999
    expect(health.deadlineFor(rack, 10_000)).toBe(500)
    now = 60_000
    expect(health.deadlineFor(rack, 10_000)).toBe(10_000)
    // Answering within the full deadline brings it back: full deadlines from then on.
    health.recordAnswer(rack)
    expect(health.deadlineFor(rack, 10_000)).toBe(10_000)
    expect(health.deadlineFor(rack, 10_000)).toBe(10_000)
    // Down again much later: its period starts afresh, not from the full deadline of its last outage.
    now = 100_000
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'))
    expect(health.deadlineFor(rack, 10_000)).toBe(500)
    expect(() => new RackHealth({ fullDeadlineEvery: 0 })).toThrow('ERR_OPTS_INVALID')
  })

  it('claims a liveness probe for a down rack once every livenessProbeEvery', () => {
    let now = 0
    const health = new RackHealth({
      downAfterFailures: 1,
      livenessProbeEvery: 5000,
      now: () => now,
      monotonicNow: () => now,
    })
    expect(health.claimLivenessProbe(rack)).toBe(false)
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'))
    expect(health.claimLivenessProbe(rack)).toBe(true)
    now = 4999
    expect(health.claimLivenessProbe(rack)).toBe(false)
    now = 5000
    expect(health.claimLivenessProbe(rack)).toBe(true)
    expect(health.claimLivenessProbe(rack)).toBe(false)
  })

  it('decides on the monotonic clock: a wall clock stepped back neither hides failures nor stops probes', () => {
    const start = Date.UTC(2026, 0, 1)
    let wall = start
    let elapsed = 0
    const health = new RackHealth({
      downAfterFailures: 2,
      probeTimeout: 500,
      fullDeadlineEvery: 30_000,
      livenessProbeEvery: 5000,
      now: () => wall,
      monotonicNow: () => elapsed,
    })
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'), elapsed)
    // NTP steps the clock an hour back; the next request is sent after the first failure.
    elapsed = 10_000
    wall = start - 3_600_000
    const sentAt = elapsed
    elapsed = 20_000
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'), sentAt)
    expect(health.isDown(rack)).toBe(true)
    expect(health.snapshot()[0]).toMatchObject({ downSince: wall, lastFailureAt: wall, consecutiveFailures: 2 })
    expect(health.claimLivenessProbe(rack)).toBe(true)
    elapsed += 5000
    wall -= 3_600_000
    expect(health.claimLivenessProbe(rack)).toBe(true)
    expect(health.deadlineFor(rack, 10_000)).toBe(500)
    elapsed = 20_000 + 30_000
    expect(health.deadlineFor(rack, 10_000)).toBe(10_000)
  })

  it('counts requests that failed together in one stall as one failure', () => {
    let now = 1000
    const health = new RackHealth({ downAfterFailures: 3, now: () => now, monotonicNow: () => now })
    // three requests sent at 1000 time out together at 11000
    now = 11_000
    for (let index = 0; index < 3; index++) health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'), 1000)
    expect(health.isDown(rack)).toBe(false)
    expect(health.snapshot()[0]?.consecutiveFailures).toBe(1)
    // later requests, each sent after the previous failure, count
    now = 21_000
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'), 11_500)
    // sent in the very millisecond the previous failure was recorded: after it, so it counts
    now = 31_000
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'), 21_000)
    expect(health.isDown(rack)).toBe(true)
  })

  it('marks a rack down after consecutive unreachable failures and shortens its deadline', () => {
    let now = 1000
    const health = new RackHealth({ downAfterFailures: 3, probeTimeout: 500, now: () => now, monotonicNow: () => now })
    expect(health.deadlineFor(rack, 10_000)).toBe(10_000)
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'))
    now = 2000
    health.recordFailure(rack, transportError('CHANNEL_CLOSED'))
    expect(health.isDown(rack)).toBe(false)
    now = 3000
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED', 'TIMEOUT_EXCEEDED: timeout of 10000ms exceeded'))
    expect(health.isDown(rack)).toBe(true)
    expect(health.deadlineFor(rack, 10_000)).toBe(500)
    expect(health.deadlineFor(rack, 200)).toBe(200)
    expect(health.snapshot()).toEqual([
      {
        rackId: 'rack-1',
        rpcPublicKey: rack.rpcPublicKey,
        state: 'down',
        lastSuccessAt: null,
        lastFailureAt: 3000,
        lastFailure: 'TIMEOUT_EXCEEDED: timeout of 10000ms exceeded',
        consecutiveFailures: 3,
        downSince: 3000,
      },
    ])
  })

  it('brings a rack back when it answers, even with an application error', () => {
    let now = 0
    const health = new RackHealth({ downAfterFailures: 1, now: () => now, monotonicNow: () => now })
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'))
    expect(health.isDown(rack)).toBe(true)
    now = 50
    expect(health.recordFailure(rack, new Error('[HRPC_ERR]=ERR_SOMETHING'))).toBe('answered')
    expect(health.isDown(rack)).toBe(false)
    const [entry] = health.snapshot()
    expect(entry).toMatchObject({ state: 'up', consecutiveFailures: 0, lastSuccessAt: 50, downSince: null })
    expect(entry?.lastFailureAt).toBe(0)
  })

  it('an answer in between resets the count, local failures change nothing', () => {
    const health = new RackHealth({ downAfterFailures: 2 })
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'))
    health.recordAnswer(rack)
    health.recordFailure(rack, transportError('TIMEOUT_EXCEEDED'))
    health.recordFailure(rack, transportError('CLIENT_CLOSED'))
    expect(health.isDown(rack)).toBe(false)
    expect(health.snapshot()[0]?.consecutiveFailures).toBe(1)
  })

  it('starts afresh when a rack is re-registered with another key, and forgets racks', () => {
    const health = new RackHealth({ downAfterFailures: 1 })
    health.recordFailure(rack, transportError('CHANNEL_CLOSED'))
    const moved = { id: rack.id, rpcPublicKey: 'b'.repeat(64) }
    expect(health.isDown(moved)).toBe(false)
    health.recordAnswer(moved)
    expect(health.snapshot()).toHaveLength(1)
    expect(health.snapshot()[0]).toMatchObject({ rpcPublicKey: moved.rpcPublicKey, state: 'up', lastFailureAt: null })
    health.forget(['rack-1'])
    expect(health.snapshot()).toEqual([])
  })

  it('rejects nonsensical settings', () => {
    expect(() => new RackHealth({ downAfterFailures: 0 })).toThrow('ERR_OPTS_INVALID')
    expect(() => new RackHealth({ probeTimeout: 1.5 })).toThrow('ERR_OPTS_INVALID')
  })
})

describe('outcomes that arrive late', () => {
  it('are dropped when the rack was forgotten, or re-keyed, after the request left', () => {
    const health = new RackHealth()
    const oldKey = { id: 'rack-1', rpcPublicKey: 'a'.repeat(64) }
    const newKey = { id: 'rack-1', rpcPublicKey: 'b'.repeat(64) }
    const sentBeforeForget = health.begin()
    health.recordAnswer(oldKey)
    health.forget(['rack-1'])
    expect(health.isCurrent(oldKey, sentBeforeForget)).toBe(false)
    const sentToOldKey = health.begin()
    expect(health.isCurrent(oldKey, sentToOldKey)).toBe(true)
    // Re-registered with a new key: its first outcome makes the entry, the old key's is then stale.
    const sentToNewKey = health.begin()
    health.recordFailure(newKey, transportError('TIMEOUT_EXCEEDED'))
    expect(health.isCurrent(oldKey, sentToOldKey)).toBe(false)
    expect(health.isCurrent(newKey, sentToNewKey)).toBe(true)
    expect(health.isCurrent(oldKey, health.begin())).toBe(true)
    // Forgetting every rack makes every request sent before it stale, and none after.
    health.forget()
    expect(health.isCurrent(newKey, sentToNewKey)).toBe(false)
    expect(health.isCurrent(newKey, health.begin())).toBe(true)
    expect(health.snapshot()).toEqual([])
  })

  it('remember a bounded number of forgotten ids: past it, requests in flight count as stale', () => {
    const health = new RackHealth()
    const rack = { id: 'rack-1', rpcPublicKey: 'a'.repeat(64) }
    const inFlight = health.begin()
    const ids = (from: number, count: number) => Array.from({ length: count }, (_, index) => `gone-${from + index}`)
    health.forget(ids(0, FORGOTTEN_IDS_KEPT))
    expect(health.isCurrent(rack, inFlight)).toBe(true)
    health.forget(ids(FORGOTTEN_IDS_KEPT, 1))
    expect(health.isCurrent(rack, inFlight)).toBe(false)
    expect(health.isCurrent(rack, health.begin())).toBe(true)
  })
})
