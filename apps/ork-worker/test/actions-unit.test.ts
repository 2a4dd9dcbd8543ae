import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CallOptions, FanOutResult, RackRecord } from '@ork/rack-registry'
import Corestore from 'corestore'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ActionCaller, MAX_PROGRESS_REPORTS, RACK_ACTIONS, validateRackAction } from '../src/actions/action-caller.ts'
import { filterInvalidActionsErrors } from '../src/actions/action-records.ts'
import { AuditLog } from '../src/actions/audit-log.ts'
import { batchActionUid } from '../src/actions/batch-uid.ts'
import { CrossAggrActionsJob } from '../src/actions/cross-aggr-actions.ts'
import { mayVote, OrkActions, type PushActionRequest } from '../src/actions/ork-actions.ts'
import { waitFor } from './support/actions-helpers.ts'
import { refusingStore } from './support/refusing-store.ts'

/**
 * The reference's unit tests (ork-behaviour.md 10.1, 10.2, 10.4) ported as assertions on
 * the real code. The racks are a small in-process stand-in answering like the reference's
 * mocks (`{calls: [], reqVotes: 1}` unless told otherwise).
 */
function fakeRacks(racks: RackRecord[], answer: (rack: RackRecord, method: string, payload: unknown) => unknown) {
  const requests: { rack: string; method: string; payload: unknown }[] = []
  /** The `write` option of each request, in order. */
  const writes: boolean[] = []
  const call = async (rack: RackRecord, method: string, payload: unknown, options?: CallOptions) => {
    requests.push({ rack: rack.id, method, payload })
    writes.push(options?.write === true)
    return answer(rack, method, payload)
  }
  return {
    requests,
    writes,
    dependencies: {
      registry: { all: () => racks, get: (id: string) => racks.find((rack) => rack.id === id) },
      racks: {
        call,
        async fanOut(
          list: readonly RackRecord[],
          method: string,
          payload: (rack: RackRecord) => unknown,
          options?: { write?: boolean },
        ) {
          const results: FanOutResult[] = []
          for (const rack of list) {
            try {
              const value = await call(rack, method, payload(rack), { write: options?.write === true })
              results.push({ rack, ok: true, value })
            } catch (error) {
              results.push({ rack, ok: false, error: error as Error })
            }
          }
          return results
        },
      },
    },
  }
}

const rack = (id: string, type: string): RackRecord => ({ id, type, info: { rpcPublicKey: 'ab'.repeat(32) } })

/** A reboot of every miner the racks name, pushed by joe; `extra` overrides or adds fields. */
const minerReboot = (extra: Record<string, unknown> = {}) =>
  ({ query: {}, action: 'reboot', params: [], voter: 'joe', authPerms: ['miner:w'], ...extra }) as PushActionRequest

/** Corestores on temp directories, closed and removed after each test. */
const tempStores: { directory: string; store: Corestore }[] = []
afterEach(async () => {
  for (const { directory, store } of tempStores.splice(0)) {
    await store.close().catch(() => {})
    rmSync(directory, { recursive: true, force: true })
  }
})
function tempStore(): Corestore {
  const directory = mkdtempSync(join(tmpdir(), 'ork-actions-unit-'))
  const store = new Corestore(directory)
  tempStores.push({ directory, store })
  return store
}

/**
 * An approved `reboot` of three devices (d0–d2) on one miner rack, its calls sent one at a
 * time and answered by `answerCall`; with `audit`, recorded in an audit log on the same store.
 */
async function rebootOfThreeDevices(
  answerCall: (payload: unknown) => Promise<unknown>,
  options: { executionTimeoutMs?: number; audit?: boolean } = {},
) {
  const store = tempStore()
  const auditLog = options.audit ? new AuditLog({ store }) : undefined
  await auditLog?.ready()
  const { dependencies } = fakeRacks([rack('miner-rack-1', 'miner-am-s19xp')], (_rack, method, payload) =>
    method === 'getWriteCalls'
      ? { calls: ['d0', 'd1', 'd2'].map((id) => ({ id, tags: [] })), reqVotes: 1 }
      : answerCall(payload),
  )
  const actions = new OrkActions({
    ...dependencies,
    store,
    callTargetsLimit: 1,
    ...(options.executionTimeoutMs !== undefined ? { executionTimeoutMs: options.executionTimeoutMs } : {}),
    ...(auditLog ? { auditLog } : {}),
  })
  await actions.ready()
  const pushed = await actions.pushAction(minerReboot())
  return { actions, auditLog, actionId: pushed.id as number }
}

describe('ActionCaller (reference action.caller tests)', () => {
  it('keeps callTargetsLimit and knows the rack actions', () => {
    const { dependencies } = fakeRacks([], () => null)
    expect(new ActionCaller({ ...dependencies, callTargetsLimit: 100 }).callTargetsLimit).toBe(100)
    expect(new ActionCaller(dependencies).callTargetsLimit).toBe(50)
    expect([...RACK_ACTIONS]).toEqual(['registerThing', 'updateThing', 'forgetThings', 'rackReboot'])
  })

  it('validates query, action and params in that order', async () => {
    const caller = new ActionCaller(fakeRacks([], () => null).dependencies)
    for (const query of [null, 'invalid', [], { $invalid: 'query' }]) {
      await expect(caller.getWriteCalls(query, 'action', [], [])).rejects.toThrow('ERR_QUERY_INVALID')
    }
    for (const action of [null, 123, '']) {
      await expect(caller.getWriteCalls({}, action, [], [])).rejects.toThrow('ERR_ACTION_INVALID')
    }
    await expect(caller.getWriteCalls({}, 'action', null, [])).rejects.toThrow('ERR_PARAMS_INVALID')
    const empty = await caller.getWriteCalls({}, 'action', [], [])
    expect(empty).toEqual({ targets: {}, requiredPerms: [] })
  })

  it('validates rack actions', () => {
    expect(() => validateRackAction('rackReboot', [])).not.toThrow()
    expect(() => validateRackAction('registerThing', [{}])).toThrow('ERR_ACTION_INVALID_MISSING_RACKID')
    expect(() => validateRackAction('updateThing', [{ rackId: 'r' }])).toThrow('ERR_ACTION_INVALID_MISSING_ID')
    expect(() => validateRackAction('forgetThings', [{ rackId: 'r', query: {} }])).toThrow(
      'ERR_ACTION_INVALID_QUERY_ID',
    )
    expect(() => validateRackAction('updateThing', [{ rackId: 'r', id: 'thing1' }])).not.toThrow()
    expect(() => validateRackAction('forgetThings', [{ rackId: 'r', query: { id: 'thing1' } }])).not.toThrow()
  })

  it('callTargets sends one queryThing per call and records results and errors', async () => {
    const fake = fakeRacks([rack('rack1', 'miner-x')], (_rack, _method, payload) => {
      if ((payload as { id: string }).id === 'thing2') throw new Error('Network error')
      return { success: true }
    })
    const caller = new ActionCaller(fake.dependencies)
    const targets = { rack1: { calls: [{ id: 'thing1' }, { id: 'thing2' }] } }
    await caller.callTargets('action', ['param1', 'param2'], targets)
    expect(fake.requests).toHaveLength(2)
    // Executions are writes: a down rack's short probe deadline never applies to them.
    expect(fake.writes).toEqual([true, true])
    expect(fake.requests[0]).toEqual({
      rack: 'rack1',
      method: 'queryThing',
      payload: { id: 'thing1', method: 'action', params: ['param1', 'param2'] },
    })
    expect(targets.rack1.calls).toEqual([
      { id: 'thing1', result: { success: true } },
      { id: 'thing2', error: 'Network error' },
    ])
    // calls that already have an outcome are never sent again
    await caller.callTargets('action', [], targets)
    expect(fake.requests).toHaveLength(2)
    await caller.callTargets('action', [], {})
    expect(fake.requests).toHaveLength(2)
  })

  it('asks only the permitted racks of the requested type family (Q15, 10.2 type filter cases)', async () => {
    const racks = [
      rack('r1', 'wrk-miner-s19'),
      rack('r2', 'wrk-miner-s19-variant-1'),
      rack('r3', 'wrk-miner-s19xp'),
      rack('r4', 'wrk-container-antspace'),
    ]
    const fake = fakeRacks(racks, () => ({ calls: [{ id: 'x', tags: [] }], reqVotes: 1 }))
    const caller = new ActionCaller(fake.dependencies)
    const filtered = await caller.getWriteCalls({}, 'reboot', [], ['wrk:w'], 'wrk-miner-s19')
    expect(Object.keys(filtered.targets)).toEqual(['r1', 'r2'])
    const all = await caller.getWriteCalls({}, 'reboot', [], ['wrk:w'], null)
    expect(Object.keys(all.targets)).toEqual(['r1', 'r2', 'r3', 'r4'])
    expect(all.requiredPerms).toEqual(['wrk'])
    // getWriteCalls keeps its full deadline on racks marked down: it decides the action's devices.
    expect(fake.writes.every(Boolean)).toBe(true)
  })

  it('rack actions: only the named rack is asked, with rackActionId', async () => {
    const racks = [rack('m1', 'miner-a'), rack('m2', 'miner-a')]
    const fake = fakeRacks(racks, (_rack, _method, payload) => ({
      calls: [{ id: (payload as { rackActionId: string }).rackActionId, tags: [] }],
      reqVotes: 2,
    }))
    const caller = new ActionCaller(fake.dependencies)
    await caller.getWriteCalls({}, 'registerThing', [{ rackId: 'm2' }], ['miner:w'])
    expect(
      fake.requests.map((request) => [request.rack, (request.payload as { rackActionId: string }).rackActionId]),
    ).toEqual([['m2', 'm2']])
    fake.requests.length = 0
    await caller.getWriteCalls({}, 'rackReboot', [], ['miner:w'])
    expect(fake.requests.map((request) => (request.payload as { rackActionId: string }).rackActionId)).toEqual([
      'm1',
      'm2',
    ])
  })
})

describe('invalid action filtering (reference actions tests 8-14)', () => {
  const action = (id: string, targets: unknown) => ({ id, targets })
  it('drops actions whose every target failed with UNKNOWN_METHOD or CHANNEL_CLOSED', () => {
    const actions = [
      action('action-1', { r1: { error: 'UNKNOWN_METHOD' }, r2: { error: 'Error: UNKNOWN_METHOD not supported' } }),
      action('action-2', { r1: { calls: [{ id: 'a' }] } }),
      action('action-3', {
        r1: { error: 'CHANNEL_CLOSED' },
        r2: { error: 'Connection error: CHANNEL_CLOSED unexpectedly' },
      }),
      action('action-4', { r1: { error: 'UNKNOWN_METHOD' }, r2: { calls: [] } }),
      action('action-5', { r1: { error: 'ERR_TIMEOUT' }, r2: { error: 'ERR_CONNECTION_FAILED' } }),
      action('action-6', {}),
      { id: 'action-7', targets: undefined },
      action('action-8', { r1: { error: 'UNKNOWN_METHOD' }, r2: { error: 'CHANNEL_CLOSED' } }),
    ]
    expect(filterInvalidActionsErrors(actions).map((entry) => entry.id)).toEqual(['action-2', 'action-4', 'action-5'])
  })
})

describe('vote permissions (10.4 and Q18)', () => {
  it('accepts the base type and the write forms, nothing else', () => {
    expect(mayVote(['miner'], 'miner')).toBe(true)
    expect(mayVote(['miner:w'], 'miner')).toBe(true)
    expect(mayVote(['miner:rw'], 'miner')).toBe(true)
    expect(mayVote(['miner:wr'], 'miner')).toBe(true)
    expect(mayVote(['miner:r'], 'miner')).toBe(false)
    expect(mayVote(['container:rw'], 'miner')).toBe(false)
    expect(mayVote([], 'miner')).toBe(false)
    expect(mayVote('miner', 'miner')).toBe(false)
    expect(mayVote([null, 5, {}], 'miner')).toBe(false)
    expect(mayVote(undefined, 'miner')).toBe(false)
  })
})

describe('batch UID', () => {
  it('is <ts>-<uid>[-<suffix>], and <ts>-<suffix> without a UID (Q19)', () => {
    expect(batchActionUid(1000, 'abc', 'sfx')).toBe('1000-abc-sfx')
    expect(batchActionUid(1000, 'abc', undefined)).toBe('1000-abc')
    expect(batchActionUid(1000, undefined, 'sfx')).toBe('1000-sfx')
    expect(batchActionUid(1000, '', null)).toBeUndefined()
  })
})

describe('auto-sleep automation (7.2)', () => {
  const config = {
    tagPrefix: 'container-',
    crossThingType: 'miner',
    action: 'setPowerMode',
    params: ['sleep'],
    authPerms: ['miner:rw'],
    listThingsReq: { query: { pump: true }, fields: { tags: 1 } },
    minActionTsDiff: 60_000,
    crossThingsActionReq: { devicesCondition: [{ status: 'mining' }], fields: { id: 1 } },
  }

  function job(
    options: {
      allowed?: boolean
      need?: unknown[]
      cfg?: unknown
      listDelayMs?: number
      /** What the `listThingsReq` listing answers (default: c1 tagged `container-c1`, c2 and c3 without usable tags). */
      things?: unknown[]
      /** Job-clock time that listing takes. */
      listTakesMs?: number
      /** Leave the job its own clock instead of the test's. */
      ownClock?: boolean
    } = {},
  ) {
    let now = 1_000_000
    const pushed: PushActionRequest[] = []
    const errors: string[] = []
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message: string) => {
        errors.push(message)
      },
      child: () => logger,
    }
    const instance = new CrossAggrActionsJob({
      config: () => ('cfg' in options ? options.cfg : config),
      globalConfig: () => ({ isAutoSleepAllowed: options.allowed ?? true }),
      listThings: async (request) => {
        if (options.listDelayMs) await new Promise((resolve) => setTimeout(resolve, options.listDelayMs))
        if ((request.query as { pump?: boolean }).pump) {
          now += options.listTakesMs ?? 0
          return (
            options.things ?? [
              { id: 'c1', tags: ['t-container', 'container-c1'] },
              { id: 'c2', tags: 'bad' },
              { id: 'c3', tags: [] },
            ]
          )
        }
        return options.need ?? [{ id: 'm1' }]
      },
      pushAction: async (request) => {
        pushed.push(request)
        return { id: null, errors: ['ERR_ORK_ACTION_CALLS_EMPTY'] }
      },
      ...(options.ownClock ? {} : { now: () => now }),
      logger,
    })
    return { instance, pushed, errors, advance: (ms: number) => (now += ms) }
  }

  it('pushes the action on every device with the tag, then throttles that tag', async () => {
    const { instance, pushed, errors, advance } = job()
    await instance.run()
    expect(pushed).toEqual([
      {
        query: { $and: [{ tags: { $in: ['t-miner'] } }, { tags: { $in: ['container-c1'] } }] },
        action: 'setPowerMode',
        params: ['sleep'],
        voter: 'MOS AUTOMATION',
        authPerms: ['miner:rw'],
      },
    ])
    expect(errors).toEqual(['ERR_CROSS_AGGR_ACTIONS_THING_TAGS_INVALID'])
    await instance.run()
    expect(pushed).toHaveLength(1)
    advance(60_000)
    await instance.run()
    expect(pushed).toHaveLength(2)
  })

  it('throttles a tag for exactly minActionTsDiff, counted from when the thing was handled', async () => {
    // Each listing takes 1 ms, so the entry has not expired when a run starts (expired entries
    // are forgotten then) and the throttle check itself decides at the boundary.
    const { instance, pushed, advance } = job({ listTakesMs: 1 })
    await instance.run()
    advance(59_998)
    await instance.run()
    expect(pushed).toHaveLength(1) // handled 59,999 ms after the push
    await instance.run()
    expect(pushed).toHaveLength(2) // handled 60,000 ms after it
  })

  it('throttles on the monotonic clock: a wall clock stepped forward does not push again early', async () => {
    const start = Date.UTC(2026, 0, 1)
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: start })
    try {
      const { instance, pushed } = job({ ownClock: true })
      await instance.run()
      vi.setSystemTime(start + 86_400_000)
      await instance.run()
      expect(pushed).toHaveLength(1)
      vi.setSystemTime(start - 86_400_000)
      vi.advanceTimersByTime(60_000)
      await instance.run()
      expect(pushed).toHaveLength(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('takes the first tag containing tagPrefix anywhere, not only at its start (Q40)', async () => {
    const { instance, pushed } = job({ things: [{ id: 'c9', tags: ['t-container', 'site-container-c9'] }] })
    await instance.run()
    expect(pushed.map((request) => request.query)).toEqual([
      { $and: [{ tags: { $in: ['t-miner'] } }, { tags: { $in: ['site-container-c9'] } }] },
    ])
  })

  it('pushes as the configured voter', async () => {
    const { instance, pushed } = job({ cfg: { ...config, voter: 'night-shift' } })
    await instance.run()
    expect(pushed.map((request) => request.voter)).toEqual(['night-shift'])
  })

  it('does nothing unless allowed, nor when no device needs it; logs a bad config', async () => {
    const forbidden = job({ allowed: false })
    await forbidden.instance.run()
    expect(forbidden.pushed).toEqual([])
    const satisfied = job({ need: [] })
    await satisfied.instance.run()
    expect(satisfied.pushed).toEqual([])
    expect(satisfied.instance.lastActionAt.size).toBe(0)
    const broken = job({ cfg: { ...config, crossThingsActionReq: { devicesCondition: 5 } } })
    expect(await broken.instance.run()).toBe(true)
    expect(broken.errors).toEqual(['ERR_CROSS_AGGR_ACTIONS_INVALID_CONFIG'])
    // Without a condition the reference throws before pushing (Q41): nothing is pushed here either.
    const unconditioned = job({ cfg: { ...config, crossThingsActionReq: { fields: { id: 1 } } } })
    expect(await unconditioned.instance.run()).toBe(true)
    expect(unconditioned.pushed).toEqual([])
    expect(unconditioned.errors).toEqual(['ERR_CROSS_AGGR_ACTIONS_INVALID_CONFIG'])
  })

  it('starts nothing more once closed, and waits for the run in progress only so long', async () => {
    const { instance, pushed } = job({ listDelayMs: 40 })
    const running = instance.run()
    await new Promise((resolve) => setTimeout(resolve, 10))
    await instance.close()
    await running
    // closed while listing the things: neither the `need` listing nor the push followed
    expect(pushed).toEqual([])
    expect(await instance.run()).toBe(false)
    const slow = job({ listDelayMs: 2_000 })
    const slowRun = slow.instance.run()
    const started = performance.now()
    await slow.instance.close(50)
    expect(performance.now() - started).toBeLessThan(1_000)
    await slowRun
  })

  it('never overlaps a run still in progress (Q40)', async () => {
    const { instance, pushed } = job({ listDelayMs: 50 })
    const [first, second] = await Promise.all([instance.run(), instance.run()])
    expect([first, second]).toEqual([true, false])
    expect(pushed).toHaveLength(1)
    await instance.close()
  })
})

describe('audit log entries', () => {
  it('stores a voter of a refused payload bounded, and one bad entry never fails its batch', async () => {
    const store = tempStore()
    const log = new AuditLog({ store })
    await log.ready()
    let deep: unknown = 1
    for (let level = 0; level < 5000; level++) deep = [deep]
    const refused = () => Promise.reject(new Error('ERR_VOTER_INVALID'))
    // Recorded together: one with a huge voter, one with a deeply nested voter, one plain.
    await Promise.all([
      log.track('pushAction', 'k', { voter: 'x'.repeat(100_000) }, refused).catch(() => {}),
      log.track('pushAction', 'k', { voter: deep }, refused).catch(() => {}),
      log.track('voteAction', 'k', { voter: 'ann' }, async () => 1),
      log.record({ kind: 'request', method: 'unencodable', caller: 'k', outcome: 'ok', result: 10n } as never),
    ])
    const entries = await log.read({ reverse: true })
    expect(entries.map((entry) => [entry.method, entry.voter])).toEqual([
      ['pushAction', 'x'.repeat(256)],
      ['pushAction', { invalid: 'array' }],
      ['voteAction', 'ann'],
    ])
    await log.close()
    await store.close()
  })
})

describe('audit log on a full disk', () => {
  it('reports an entry the store refused as ERR_STORE_WRITE_FAILED, and keeps reading', async () => {
    const refusing = refusingStore(tempStore())
    const failures: unknown[] = []
    const log = new AuditLog({ store: refusing.store, onWriteFailed: (error) => failures.push(error) })
    await log.ready()
    await log.record({ kind: 'request', method: 'saveWrkSettings', caller: 'k', outcome: 'ok' })
    refusing.refuse()
    await log.record({ kind: 'request', method: 'saveThingComment', caller: 'k', outcome: 'ok' })
    expect(failures).toEqual([
      expect.objectContaining({
        message: 'ERR_STORE_WRITE_FAILED',
        details: { code: 'EIO', reason: 'While appending to file: db/000004.log: File too large' },
      }),
    ])
    expect((await log.read()).map((entry) => [entry.seq, entry.method])).toEqual([[1, 'saveWrkSettings']])
    expect(log.size).toBe(1)
    await log.close()
  })
})

describe('audit log close', () => {
  it('makes every caller wait for the one close, pending entries written', async () => {
    const store = tempStore()
    const log = new AuditLog({ store })
    await log.ready()
    const recorded = log.record({ kind: 'request', method: 'saveWrkSettings', caller: 'k', outcome: 'ok' })
    let firstClosed = false
    const first = log.close().then(() => {
      firstClosed = true
    })
    await log.close()
    expect(firstClosed).toBe(true)
    await Promise.all([first, recorded])
    const reopened = new AuditLog({ store })
    expect((await reopened.read()).map((entry) => entry.method)).toEqual(['saveWrkSettings'])
    await reopened.close()
    await store.close()
  })
})

describe('audit log retention', () => {
  it('keeps at most maxEntries, drops entries past the retention age, and survives a reopen', async () => {
    let now = Date.UTC(2026, 0, 1)
    const store = tempStore()
    const log = new AuditLog({ store, maxEntries: 5, retentionDays: 1, now: () => now })
    await log.ready()
    for (let index = 0; index < 8; index++) {
      await log.record({ kind: 'request', method: `m${index}`, caller: 'k', outcome: 'ok' })
    }
    expect(log.size).toBe(5)
    expect((await log.read({ reverse: true })).map((entry) => entry.method)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7'])
    await log.close()

    now += 2 * 86_400_000
    const reopened = new AuditLog({ store, maxEntries: 5, retentionDays: 1, now: () => now })
    await reopened.ready()
    expect(reopened.size).toBe(0)
    await reopened.record({ kind: 'request', method: 'after', caller: 'k', outcome: 'error', error: 'ERR_X' })
    const [entry] = await reopened.read()
    expect(entry).toMatchObject({ seq: 9, method: 'after', outcome: 'error', error: 'ERR_X', ts: now })
    // a large request is stored cut, not refused
    await reopened.record({
      kind: 'request',
      method: 'big',
      caller: 'k',
      outcome: 'ok',
      request: { blob: 'x'.repeat(20_000) },
    })
    const [big] = await reopened.read({ method: 'big' })
    expect(big?.request).toMatchObject({ truncated: true })
    await reopened.close()
    await store.close()
  })
})

describe('audit log across wall-clock steps (both clocks injected)', () => {
  const DAY = 86_400_000
  const record = (log: AuditLog, method: string) => log.record({ kind: 'request', method, caller: 'k', outcome: 'ok' })
  const methods = async (log: AuditLog) => (await log.read({ reverse: true })).map((entry) => entry.method)

  it('keeps entries stamped before a step forward, and times requests on the monotonic clock', async () => {
    // A machine without RTC battery boots in 2000; NTP steps the clock to 2026 ten minutes later.
    let wall = Date.UTC(2000, 0, 1)
    let elapsed = 0
    const log = new AuditLog({
      store: tempStore(),
      maxEntries: 3,
      retentionDays: 1,
      now: () => wall,
      monotonicNow: () => elapsed,
    })
    await log.ready()
    for (const method of ['boot-1', 'boot-2']) await record(log, method)
    await log.track('saveWrkSettings', 'k', {}, async () => {
      wall = Date.UTC(2026, 0, 1)
      elapsed += 600_000
    })
    // A fourth entry: over maxEntries, so retention runs, and the oldest entry goes (by count) only.
    await record(log, 'after')
    expect(await methods(log)).toEqual(['boot-2', 'saveWrkSettings', 'after'])
    const [timed] = await log.read({ method: 'saveWrkSettings' })
    expect(timed?.durationMs).toBe(600_000)
    await log.close()
  })

  it('does not let entries stamped ahead (before a step back) hold back the age retention of the later ones', async () => {
    const start = Date.UTC(2026, 0, 1)
    let wall = start
    const store = tempStore()
    const log = new AuditLog({ store, retentionDays: 1, now: () => wall })
    await log.ready()
    await record(log, 'before')
    wall = start + 10 * 365 * DAY
    await record(log, 'ahead')
    wall = start + 60_000
    await record(log, 'corrected')
    await log.close()
    // Two days later every entry is past the retention age, the one stamped ten years ahead included.
    wall = start + 2 * DAY
    const reopened = new AuditLog({ store, retentionDays: 1, now: () => wall })
    await reopened.ready()
    expect(await methods(reopened)).toEqual([])
    await record(reopened, 'today')
    expect(await methods(reopened)).toEqual(['today'])
    await reopened.close()
  })
})

describe('audit log reads', () => {
  it('return 100 entries by default and at most 1000 whatever the limit', async () => {
    const log = new AuditLog({ store: tempStore() })
    await log.ready()
    await Promise.all(
      Array.from({ length: 1_001 }, (_, index) =>
        log.record({ kind: 'request', method: `m${index}`, caller: 'k', outcome: 'ok' }),
      ),
    )
    expect(log.size).toBe(1_001)
    expect(await log.read()).toHaveLength(100)
    expect(await log.read({ limit: 5_000 })).toHaveLength(1_000)
    await log.close()
  })

  it('include entries recorded exactly at start and at end, in both directions', async () => {
    let now = 1_000
    const log = new AuditLog({ store: tempStore(), now: () => now })
    await log.ready()
    for (const method of ['a', 'b', 'c']) {
      await log.record({ kind: 'request', method, caller: 'k', outcome: 'ok' })
      now += 1_000
    }
    const methods = async (reverse: boolean) =>
      (await log.read({ start: 2_000, end: 2_000, reverse })).map((entry) => entry.method)
    expect(await methods(false)).toEqual(['b'])
    expect(await methods(true)).toEqual(['b'])
    await log.close()
  })

  it('names only the actions cancelActionsBatch did cancel', async () => {
    const log = new AuditLog({ store: tempStore() })
    await log.ready()
    const reply = [
      { id: 5, success: true },
      { id: 42, success: false, error: 'ERR_CANCEL_BATCH_ACTION-ID-42 ERR_CALLER_NOT_CREATOR' },
    ]
    await log.track('cancelActionsBatch', 'k', { ids: [5, 42], voter: 'joe' }, async () => reply)
    const [entry] = await log.read({ method: 'cancelActionsBatch' })
    expect(entry?.actionIds).toEqual([5])
    await log.close()
  })
})

describe('voteAction on an action of two rack types', () => {
  it('needs a permission for every type: one of them is refused with ERR_ACTION_DENIED', async () => {
    const racks = [rack('miner-rack-1', 'miner-am-s19xp'), rack('container-rack-1', 'container-bd-d40')]
    const { dependencies } = fakeRacks(racks, (target) => ({
      calls: [{ id: `${target.id}-d`, tags: [] }],
      reqVotes: 2,
    }))
    const actions = new OrkActions({ ...dependencies, store: tempStore() })
    try {
      await actions.ready()
      const pushed = (await actions.pushAction(minerReboot({ authPerms: ['miner:w', 'container:w'] }))) as {
        id: number
        data: { payload: unknown[] }
      }
      expect(pushed.data.payload[2]).toEqual(['miner', 'container'])
      const vote = (authPerms: unknown) => actions.voteAction({ id: pushed.id, voter: 'ann', approve: true, authPerms })
      await expect(vote(['miner'])).rejects.toThrow('ERR_ACTION_DENIED')
      await expect(vote(['container:rw'])).rejects.toThrow('ERR_ACTION_DENIED')
      expect(await vote(['miner', 'container:w'])).toBe(1)
    } finally {
      await actions.close()
    }
  })
})

describe('queryActions', () => {
  /** Four approved actions (left in `ready`: no tick runs) with the given batch UIDs, in this order. */
  async function readyActions(uids: string[]) {
    const { dependencies } = fakeRacks([rack('miner-rack-1', 'miner-am-s19xp')], () => ({
      calls: [{ id: 'd0', tags: [] }],
      reqVotes: 1,
    }))
    const actions = new OrkActions({ ...dependencies, store: tempStore() })
    await actions.ready()
    for (const batchActionUID of uids) {
      await actions.pushAction(minerReboot({ batchActionUID }))
    }
    const uidsOf = async (request: Parameters<OrkActions['queryActions']>[0]) =>
      ((await actions.queryActions(request)).ready as { batchActionUID?: string }[]).map(
        (action) => action.batchActionUID,
      )
    return { actions, uidsOf }
  }

  it('keeps the batches whose UID ends with the suffix taken literally', async () => {
    const { actions, uidsOf } = await readyActions(['1-abc', '1-ab', '1-ab.', '1-abx'])
    try {
      expect(await uidsOf({ queries: [{ type: 'ready' }], suffix: 'ab' })).toEqual(['1-ab'])
      // `.` is a dot, not any character
      expect(await uidsOf({ queries: [{ type: 'ready' }], suffix: '.' })).toEqual(['1-ab.'])
    } finally {
      await actions.close()
    }
  })

  it('takes limit and reverse from filter over those of opts', async () => {
    const { actions, uidsOf } = await readyActions(['1-a', '1-b', '1-c'])
    try {
      const queries = [{ type: 'ready', filter: { limit: 1, reverse: false }, opts: { limit: 2, reverse: true } }]
      expect(await uidsOf({ queries })).toEqual(['1-a'])
    } finally {
      await actions.close()
    }
  })

  it('grouping done actions leaves out those whose every target failed with UNKNOWN_METHOD or CHANNEL_CLOSED (8.6)', async () => {
    const { dependencies } = fakeRacks([rack('miner-rack-1', 'miner-am-s19xp')], (_rack, method) =>
      method === 'getWriteCalls' ? { calls: [{ id: 'd0', tags: [] }], reqVotes: 1 } : { success: true },
    )
    const actions = new OrkActions({ ...dependencies, store: tempStore() })
    try {
      await actions.ready()
      const valid = (await actions.pushAction(minerReboot())) as { id: number }
      // pushAction stores nothing when every rack failed, so such a record is written through the
      // approver, as another writer of the store could.
      const invalid = await actions.approver.pushAction({
        action: 'reboot',
        payload: [
          [],
          { r1: { calls: [], error: 'UNKNOWN_METHOD' }, r2: { calls: [], error: 'CHANNEL_CLOSED' } },
          ['miner'],
        ],
        voter: 'joe',
        reqVotesPos: 1,
        reqVotesNeg: 1,
      })
      await actions.approver.execActions()
      const idsOf = async (groupBatch: boolean) =>
        ((await actions.queryActions({ queries: [{ type: 'done' }], groupBatch })).done as { id: number }[]).map(
          (action) => action.id,
        )
      expect(await idsOf(false)).toEqual([valid.id, invalid.id])
      expect(await idsOf(true)).toEqual([valid.id])
    } finally {
      await actions.close()
    }
  })
})

describe('pushAction with racks that could not be reached', () => {
  /** Rack a is unreachable, rack c has no such method; rack b answers `bCalls`. */
  async function pushWith(bCalls: { id: string; tags: string[] }[]) {
    const racks = ['a', 'b', 'c'].map((id) => rack(`miner-rack-${id}`, 'miner-am-s19xp'))
    const { dependencies } = fakeRacks(racks, (target) => {
      if (target.id === 'miner-rack-a') throw new Error('CHANNEL_CLOSED: channel closed')
      if (target.id === 'miner-rack-c') throw new Error('UNKNOWN_METHOD')
      return { calls: bCalls, reqVotes: 1 }
    })
    const actions = new OrkActions({ ...dependencies, store: tempStore() })
    try {
      await actions.ready()
      const request = { query: { id: 'd1' }, action: 'reboot', params: [], voter: 'joe', authPerms: ['miner:w'] }
      return await actions.pushAction(request as PushActionRequest)
    } finally {
      await actions.close()
    }
  }

  it('names them when no rack gave a call (nothing stored)', async () => {
    expect(await pushWith([])).toEqual({
      id: null,
      // Rack b answered no call (left out of the targets); rack c has no such method.
      errors: ['miner-rack-a: CHANNEL_CLOSED: channel closed', 'ERR_ORK_ACTION_CALLS_EMPTY'],
    })
  })

  it('leaves them out, as the reference, when the action is stored', async () => {
    const reply = await pushWith([{ id: 'd1', tags: [] }])
    expect(reply.id).toEqual(expect.any(Number))
    expect(reply.errors).toEqual([])
  })
})

describe("pushAction combines the racks' reqVotes as the reference compares them", () => {
  it('a reply without reqVotes leaves 1 vote; a numeric string is refused; the highest integer wins', async () => {
    const racks = [rack('miner-rack-1', 'miner-am-s19xp'), rack('miner-rack-2', 'miner-am-s19xp')]
    let votesOf: (rackId: string) => unknown = () => undefined
    const { dependencies } = fakeRacks(racks, (target) => ({
      calls: [{ id: `${target.id}-d`, tags: [] }],
      reqVotes: votesOf(target.id),
    }))
    const actions = new OrkActions({ ...dependencies, store: tempStore() })
    try {
      await actions.ready()
      const push = () =>
        actions.pushAction({ query: {}, action: 'reboot', params: [], voter: 'joe', authPerms: ['miner:w'] })
      const dataOf = async () => ((await push()) as { data?: unknown }).data
      expect(await dataOf()).toMatchObject({ status: 'APPROVED', reqVotesPos: 1 })
      votesOf = (rackId) => (rackId === 'miner-rack-2' ? '2' : 1)
      await expect(push()).rejects.toThrow('ERR_REQ_VOTES_POS_INVALID')
      votesOf = (rackId) => (rackId === 'miner-rack-2' ? 3 : 2)
      expect(await dataOf()).toMatchObject({ status: 'VOTING', reqVotesPos: 3 })
    } finally {
      await actions.close()
    }
  })
})

describe('pushActionsBatch after a failing element', () => {
  it('starts no further element: only those already in flight are still pushed', async () => {
    const store = tempStore()
    const miners = [rack('miner-rack-1', 'miner-am-s19xp')]
    // Element 0's rack asks for 1.5 votes: the approver refuses it once its getWriteCalls is back.
    const { dependencies, requests } = fakeRacks(miners, async (_rack, _method, payload) => {
      const { rackActionId, query } = payload as { rackActionId?: string; query: { id: string } }
      await new Promise((resolve) => setTimeout(resolve, query.id === 'd0' ? 5 : 50))
      return { calls: [{ id: rackActionId ?? query.id, tags: [] }], reqVotes: query.id === 'd0' ? 1.5 : 2 }
    })
    const actions = new OrkActions({ ...dependencies, store })
    try {
      await actions.ready()
      const elements = Array.from({ length: 12 }, (_, index) => ({
        query: { id: `d${index}` },
        action: 'reboot',
        params: [],
      }))
      await expect(
        actions.pushActionsBatch({ batchActionsPayload: elements, voter: 'joe', authPerms: ['miner:w'] } as never),
      ).rejects.toThrow('ERR_REQ_VOTES_POS_INVALID')
      // The 4 started with element 0 (5 at a time) land; then nothing else may start.
      const voting = async () => {
        const records = []
        for await (const record of actions.approver.query('voting')) records.push(record)
        return records
      }
      const deadline = Date.now() + 5_000
      while ((await voting()).length < 4 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10))
      await new Promise((resolve) => setTimeout(resolve, 200))
      const asked = requests.map((request) => (request.payload as { query: { id: string } }).query.id).sort()
      expect(asked).toEqual(['d0', 'd1', 'd2', 'd3', 'd4'])
      expect((await voting()).length).toBe(4)
    } finally {
      await actions.close()
    }
  })
})

describe('execution deadline', () => {
  it('is the worst case of the calls when that is longer than the configured one', async () => {
    const { dependencies } = fakeRacks([], () => null)
    const caller = new ActionCaller({ ...dependencies, callTargetsLimit: 50 })
    expect(caller.worstCaseMs({ r1: { calls: new Array(70).fill({ id: 'x' }) }, r2: { calls: [{ id: 'y' }] } })).toBe(
      2 * 30_000,
    )
    expect(caller.worstCaseMs(undefined)).toBe(0)
  })

  it('lets every call of a long action run, rather than cutting it at the configured deadline', async () => {
    // One call at a time, 60 ms each: 180 ms of calls against a configured 100 ms.
    const { actions, actionId } = await rebootOfThreeDevices(
      async (payload) => {
        await new Promise((resolve) => setTimeout(resolve, 60))
        return { done: (payload as { id: string }).id }
      },
      { executionTimeoutMs: 100 },
    )
    try {
      await actions.approver.execActions()
      const { data } = await actions.approver.getAction('done', actionId)
      expect(data.status).toBe('COMPLETED')
      const calls = (data.payload[1] as Record<string, { calls: { id: string; result?: unknown }[] }>)['miner-rack-1']!
      expect(calls.calls.map((call) => call.result)).toEqual([{ done: 'd0' }, { done: 'd1' }, { done: 'd2' }])
    } finally {
      await actions.close()
    }
  })
})

describe('execution progress', () => {
  it('is stored after each call: while the second call runs, the executing record has the first result', async () => {
    let secondStarted!: () => void
    const started = new Promise<void>((resolve) => (secondStarted = resolve))
    let releaseSecond!: () => void
    const released = new Promise<void>((resolve) => (releaseSecond = resolve))
    const { actions, actionId } = await rebootOfThreeDevices(async (payload) => {
      const { id } = payload as { id: string }
      if (id === 'd1') {
        secondStarted()
        await released
      }
      return { done: id }
    })
    const pass = actions.approver.execActions()
    try {
      await started
      // What a crash now would leave: d0's outcome is kept, so it is neither lost nor sent again.
      const stored = await waitFor(
        async () => {
          const { data } = await actions.approver.getAction('executing', actionId)
          return (data.payload[1] as Record<string, { calls: { id: string; result?: unknown }[] }>)['miner-rack-1']!
            .calls
        },
        (calls) => calls[0]?.result !== undefined,
        2_000,
      )
      expect(stored.map((call) => call.result)).toEqual([{ done: 'd0' }, undefined, undefined])
    } finally {
      releaseSecond()
      await pass
      await actions.close()
    }
  })
})

describe('execution progress reports', () => {
  /** How many times callTargets reports progress over `calls` device calls. */
  async function progressReports(calls: number): Promise<number> {
    const { dependencies } = fakeRacks([rack('miner-rack-1', 'miner-am-s19xp')], () => ({ success: true }))
    const caller = new ActionCaller({ ...dependencies, callTargetsLimit: 7 })
    const targets = { 'miner-rack-1': { calls: Array.from({ length: calls }, (_, index) => ({ id: `d${index}` })) } }
    let reports = 0
    await caller.callTargets('reboot', [], targets, { onProgress: () => reports++ })
    return reports
  }

  it('come after every outcome for a small action', async () => {
    expect(await progressReports(3)).toBe(3)
    expect(await progressReports(MAX_PROGRESS_REPORTS)).toBe(MAX_PROGRESS_REPORTS)
  })

  it('are bounded for a large action: each one rewrites the whole record in the store', async () => {
    // After each of 1,000 outcomes, a 1,000-call record would be stored up to 1,000 times.
    const reports = await progressReports(1_000)
    expect(reports).toBeGreaterThan(0)
    expect(reports).toBeLessThanOrEqual(MAX_PROGRESS_REPORTS)
  })
})

describe('closing during an execution', () => {
  it('sends no more calls, waits for the one in flight and audits the execution as interrupted', async () => {
    let started = 0
    const { actions, auditLog, actionId } = await rebootOfThreeDevices(
      async () => {
        started++
        await new Promise((resolve) => setTimeout(resolve, 150))
        return { success: true }
      },
      { audit: true },
    )
    const pass = actions.approver.execActions()
    while (started === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    await actions.close()
    await pass
    expect(started).toBe(1)
    const [entry] = await auditLog!.read({ method: 'execute:reboot' })
    expect(entry).toMatchObject({
      kind: 'execution',
      actionIds: [actionId],
      outcome: 'error',
      error: 'ERR_ACTION_INTERRUPTED',
    })
    // the approver marked the calls without an outcome as interrupted when it ended the run
    expect(entry?.calls).toEqual({ ok: 0, failed: 3 })
    await auditLog!.close()
  })
})
