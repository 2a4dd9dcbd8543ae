import type { RpcNode } from '@ork/rpc-transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ActionLookup,
  fastActionsConfig,
  remoteError,
  untilActionDone,
  waitFor,
} from './support/actions-helpers.ts'
import { type Harness, startHarness } from './support/harness.ts'

/**
 * What a misbehaving rack's replies do to the ACTIONS path: its getWriteCalls reply (pushAction,
 * pushActionsBatch, rack actions, the auto-sleep automation) and its replies to the executed
 * calls. A rack named `chaos` (type `miner-chaos`) answers whatever a case tells it to, next to
 * one simulated miner rack that behaves. Expectations (ork-behaviour.md 3.3, 4.11, 7.3, 8.1,
 * 8.3; rack-protocol.md 1.5): a reply of the wrong shape counts as that rack failing (its target
 * `{calls: [], error: 'ERR_WRITE_CALLS_INVALID'}`, reported in `errors`), the other racks'
 * calls are stored and executed, stored calls are always `{id, tags}`, every call executed ends
 * with exactly one `result` or `error`, and the execution loop keeps running.
 */

let harness: Harness
let chaos: RpcNode
let goodRack: string
let goodMiners: string[]

/** What the chaos rack answers to getWriteCalls (the case sets it). */
let writeCallsReply: (payload: Record<string, unknown>) => unknown = () => ({ calls: [], reqVotes: 1 })
/** What the chaos rack received for executed calls. */
const executed: { method: string; payload: Record<string, unknown> }[] = []
/** Things the chaos rack lists (for the automation). */
let chaosThings: (request: Record<string, unknown>) => unknown = () => []

const NINE_MB = 'z'.repeat(9 * 1024 * 1024)

/** The chaos rack's answer to an executed device call, chosen by the device id. */
function executionReply(payload: Record<string, unknown>): unknown {
  switch (payload.id) {
    case 'reply-null':
      return null
    case 'reply-throws':
      throw new Error('ERR_CHAOS_FAILED')
    case 'reply-error-text':
      return '[HRPC_ERR]=ERR_CHAOS_TEXT'
    case 'reply-proto':
      return JSON.parse('{"__proto__":{"polluted":1},"ok":1}')
    case 'reply-big-1':
    case 'reply-big-2':
      return NINE_MB
    default:
      return { success: true }
  }
}

const AUTOMATION = {
  tagPrefix: 'chaos-group-',
  crossThingType: 'miner',
  action: 'reboot',
  params: [],
  authPerms: ['miner:rw'],
  listThingsReq: { query: { tags: { $in: ['chaos-thing'] } }, fields: { id: 1, tags: 1 } },
  minActionTsDiff: 3_600_000,
  crossThingsActionReq: { devicesCondition: [], fields: { id: 1 } },
  voter: 'chaos-automation',
  agrrListThingsIntvlMs: 100,
}

beforeAll(async () => {
  harness = await startHarness({
    racks: [{ type: 'miner-am-s19xp', count: 2 }],
    orkOptions: { config: { ...fastActionsConfig(), crossAggrAction: AUTOMATION } },
  })
  goodRack = harness.site.racks[0]!.id
  const things = (await harness.call('listThings', { fields: { id: 1, rack: 1 } })) as { id: string; rack: string }[]
  goodMiners = things.filter((thing) => thing.rack === goodRack).map((thing) => thing.id)
  expect(goodMiners).toHaveLength(2)
  chaos = await harness.newClient()
  chaos.respond('getWriteCalls', (payload) => writeCallsReply(payload as Record<string, unknown>))
  chaos.respond('listThings', (request) => chaosThings(request as Record<string, unknown>))
  for (const method of ['queryThing', 'registerThing', 'updateThing', 'forgetThings', 'rackReboot']) {
    chaos.respond(method, (payload) => {
      executed.push({ method, payload: payload as Record<string, unknown> })
      return method === 'queryThing' ? executionReply(payload as Record<string, unknown>) : 1
    })
  }
  await chaos.listen()
  await harness.call('registerRack', {
    id: 'chaos',
    type: 'miner-chaos',
    info: { rpcPublicKey: chaos.rpcPublicKey.toString('hex') },
  })
}, 60_000)

afterAll(async () => {
  await harness?.close()
})

type PushReply = { id: number | null; errors: string[]; data?: { reqVotesPos: number; payload: unknown[] } }

const push = (request: Record<string, unknown> = {}) =>
  harness.call('pushAction', {
    voter: 'joe',
    authPerms: ['miner:rw'],
    query: { tags: { $in: ['t-miner'] } },
    action: 'reboot',
    params: [],
    ...request,
  }) as Promise<PushReply>

const untilDone = (id: number) => untilActionDone(harness, id, 20_000)

/** Every target `{calls, error?}`, every call `{id, tags?}` plus, once done, exactly one of `result` / `error`. */
function expectWellFormed(action: ActionLookup['action'], done: boolean): void {
  for (const target of Object.values(action.targets)) {
    expect(Object.keys(target).every((key) => key === 'calls' || key === 'error')).toBe(true)
    expect(Array.isArray(target.calls)).toBe(true)
    if (target.error !== undefined) expect(typeof target.error).toBe('string')
    for (const call of target.calls) {
      expect(Object.getPrototypeOf(call)).toBe(Object.prototype)
      expect(['string', 'number']).toContain(typeof call.id)
      const extra = Object.keys(call).filter((key) => !['id', 'tags', 'result', 'error'].includes(key))
      expect(extra).toEqual([])
      if (call.tags !== undefined) expect(Array.isArray(call.tags)).toBe(true)
      if (done) expect(('result' in call ? 1 : 0) + ('error' in call ? 1 : 0)).toBe(1)
    }
  }
}

const goodCallsOf = (actionId: number) =>
  harness.site.executedCalls().filter((call) => call.actionId === actionId && call.rackId === goodRack)

describe('getWriteCalls replies of the wrong shape count as the rack failing (3.3, 8.1)', () => {
  const INVALID: [string, unknown][] = [
    ['null', null],
    ['a number', 0],
    ['a string', 'x'],
    ['an array', [{ id: 'c1' }]],
    ['no calls', { reqVotes: 1 }],
    ['calls not an array', { calls: 'x', reqVotes: 1 }],
    ['calls an array-like object', { calls: { 0: { id: 'c1' }, length: 1 }, reqVotes: 1 }],
    // Before: stored, then the execution failed with an uncoded TypeError (the audit read `'error' in 5`).
    ['a call that is a number', { calls: [5], reqVotes: 1 }],
    ['a call that is null', { calls: [null], reqVotes: 1 }],
    ['a call that is an array', { calls: [['c1']], reqVotes: 1 }],
    // Before: stored, and queryThing was sent with no id / a null / an object / a boolean id.
    ['a call without id', { calls: [{ tags: [] }], reqVotes: 1 }],
    ['a null id', { calls: [{ id: null, tags: [] }], reqVotes: 1 }],
    ['an empty id', { calls: [{ id: '', tags: [] }], reqVotes: 1 }],
    ['an object id', { calls: [{ id: { $gt: '' }, tags: [] }], reqVotes: 1 }],
    ['a boolean id', { calls: [{ id: true, tags: [] }], reqVotes: 1 }],
    // Before: stored as sent.
    ['tags not an array', { calls: [{ id: 'c1', tags: 5 }], reqVotes: 1 }],
    // Before: the device got the action twice.
    ['one device twice', { calls: [{ id: 'c1' }, { id: 'c1' }], reqVotes: 1 }],
    ['one device twice, as number and string', { calls: [{ id: 5 }, { id: '5' }], reqVotes: 1 }],
    ['one bad call among good ones', { calls: [{ id: 'c1', tags: [] }, { id: null }], reqVotes: 1 }],
  ]

  for (const [label, reply] of INVALID) {
    it(`${label}: the chaos rack is reported and left out; the other rack's calls run`, async () => {
      writeCallsReply = () => reply
      executed.length = 0
      const pushed = await push()
      expect(pushed.errors).toEqual(['chaos: ERR_WRITE_CALLS_INVALID'])
      expect(pushed.id).toEqual(expect.any(Number))
      const done = await untilDone(pushed.id!)
      expect(done.action.status).toBe('COMPLETED')
      expect(done.action.targets.chaos).toEqual({ calls: [], error: 'ERR_WRITE_CALLS_INVALID' })
      expect(done.action.targets[goodRack]!.calls.map((call) => call.id)).toEqual(goodMiners)
      expectWellFormed(done.action, true)
      expect(executed).toEqual([])
      expect(goodCallsOf(pushed.id!)).toHaveLength(goodMiners.length)
    })
  }

  it('with only the chaos rack asked, nothing is stored: {id: null, errors} (4.11 step 3)', async () => {
    writeCallsReply = () => ({ calls: [{ id: null }], reqVotes: 1 })
    expect(await push({ query: { id: 'not-on-the-good-rack' } })).toEqual({
      id: null,
      errors: ['chaos: ERR_WRITE_CALLS_INVALID', 'ERR_ORK_ACTION_CALLS_EMPTY'],
    })
  })

  it('pushActionsBatch: each element as pushAction, the bad rack left out of every element (4.12)', async () => {
    writeCallsReply = () => ({ calls: [null], reqVotes: 1 })
    const replies = (await harness.call('pushActionsBatch', {
      voter: 'joe',
      authPerms: ['miner:rw'],
      batchActionUID: 'fuzz',
      batchActionsPayload: [
        { query: { id: goodMiners[0] }, action: 'reboot', params: [] },
        { query: { id: goodMiners[1] }, action: 'setLED', params: [true] },
      ],
    })) as PushReply[]
    expect(replies.map((reply) => reply.errors)).toEqual([
      ['chaos: ERR_WRITE_CALLS_INVALID'],
      ['chaos: ERR_WRITE_CALLS_INVALID'],
    ])
    for (const reply of replies) {
      const done = await untilDone(reply.id!)
      expect(done.action.status).toBe('COMPLETED')
      expectWellFormed(done.action, true)
    }
  })
})

describe('getWriteCalls replies the ork takes, stored as getWriteCalls defines calls (rack-protocol.md 1.5)', () => {
  it('keeps only id and tags: a pre-filled result, an error, __proto__ or extra fields are dropped', async () => {
    writeCallsReply = () =>
      JSON.parse(
        '{"calls":[{"id":"c1","tags":["t"],"result":"fake"},{"id":"c2","error":"fake","extra":1},' +
          '{"id":3,"__proto__":{"result":1}}],"reqVotes":1,"__proto__":{"calls":[]}}',
      )
    executed.length = 0
    const pushed = await push()
    expect(pushed.errors).toEqual([])
    expect((pushed.data!.payload[1] as Record<string, unknown>).chaos).toEqual({
      calls: [{ id: 'c1', tags: ['t'] }, { id: 'c2' }, { id: 3 }],
    })
    const done = await untilDone(pushed.id!)
    expectWellFormed(done.action, true)
    // Before: c1 and c2 counted as already done and were never sent.
    expect(executed.map((call) => call.payload.id)).toEqual(['c1', 'c2', 3])
    expect(done.action.targets.chaos!.calls.map((call) => call.result)).toEqual([
      { success: true },
      { success: true },
      { success: true },
    ])
  })

  it("a device id of another rack goes to the rack that named it; the device's own rack runs it once", async () => {
    writeCallsReply = () => ({ calls: [{ id: goodMiners[0], tags: [] }], reqVotes: 1 })
    executed.length = 0
    const pushed = await push({ query: { id: goodMiners[0] } })
    const done = await untilDone(pushed.id!)
    expect(executed.map((call) => call.payload.id)).toEqual([goodMiners[0]])
    expect(goodCallsOf(pushed.id!).map((call) => call.thingId)).toEqual([goodMiners[0]])
    expectWellFormed(done.action, true)
  })

  it('10,000 calls and a 100,000-character id are stored and each executed once', async () => {
    const ids = [...Array.from({ length: 9_999 }, (_, index) => `many-${index}`), 'L'.repeat(100_000)]
    writeCallsReply = () => ({ calls: ids.map((id) => ({ id, tags: [] })), reqVotes: 1 })
    executed.length = 0
    const pushed = await push({ query: { id: 'nothing-on-the-good-rack' } })
    expect(pushed.errors).toEqual([])
    const done = await untilDone(pushed.id!)
    expect(done.action.status).toBe('COMPLETED')
    expect(executed.map((call) => call.payload.id)).toEqual(ids)
    expect(done.action.targets.chaos!.calls.every((call) => 'result' in call)).toBe(true)
  }, 30_000)

  it('a reply larger than an action record may be: ERR_ACTION_TOO_LARGE, nothing stored', async () => {
    // 16 calls of ~990 kB ids: within the transport's 16 MiB, over the store's 15 MiB block.
    writeCallsReply = () => ({
      calls: Array.from({ length: 16 }, (_, index) => ({ id: `${index}-${'x'.repeat(990_000)}` })),
      reqVotes: 1,
    })
    const before = (await harness.call('queryActions', { queries: [{ type: 'ready' }, { type: 'voting' }] })) as Record<
      string,
      unknown[]
    >
    // Before: `[HRPC_ERR]=BAD_ARGUMENT: Appended block exceeds the maximum suggested block size`.
    await expect(push()).rejects.toEqual(remoteError('ERR_ACTION_TOO_LARGE'))
    const after = (await harness.call('queryActions', { queries: [{ type: 'ready' }, { type: 'voting' }] })) as Record<
      string,
      unknown[]
    >
    expect(after.ready!.length + after.voting!.length).toBe(before.ready!.length + before.voting!.length)
  }, 30_000)
})

describe('reqVotes as the reference combines it (4.11: `entry.reqVotes > reqVotes`, approver checks)', () => {
  it('a non-integer that compares greater fails the whole push with ERR_REQ_VOTES_POS_INVALID (COPY)', async () => {
    for (const reqVotes of ['2', 2.5, [5]]) {
      writeCallsReply = () => ({ calls: [{ id: 'c1' }], reqVotes })
      await expect(push()).rejects.toEqual(remoteError('ERR_REQ_VOTES_POS_INVALID'))
    }
  })

  it('missing, non-numeric, zero or negative reqVotes leave the action at 1 vote', async () => {
    for (const reqVotes of [undefined, 'x', null, 0, -1, true]) {
      writeCallsReply = () => ({ calls: [{ id: 'c1' }], ...(reqVotes === undefined ? {} : { reqVotes }) })
      const pushed = await push()
      expect(pushed.data?.reqVotesPos).toBe(1)
      await untilDone(pushed.id!)
    }
  })
})

describe('rack actions: one execution per rack (8.1, rack-protocol.md 1.5)', () => {
  it('registerThing: two calls, or a call for another id, count as the rack failing; one is run once', async () => {
    const params = [{ rackId: 'chaos', id: 'new-thing' }]
    for (const calls of [[{ id: 'new-thing' }, { id: 'other' }], [{ id: 'other' }]]) {
      writeCallsReply = () => ({ calls, reqVotes: 1 })
      // Before: two registerThing sent for the first; the second stored a call for `other`.
      expect(await push({ query: {}, action: 'registerThing', params })).toEqual({
        id: null,
        errors: ['chaos: ERR_WRITE_CALLS_INVALID', 'ERR_ORK_ACTION_CALLS_EMPTY'],
      })
    }
    writeCallsReply = (payload) => ({ calls: [{ id: payload.rackActionId, tags: [] }], reqVotes: 1 })
    executed.length = 0
    const pushed = await push({ query: {}, action: 'registerThing', params })
    const done = await untilDone(pushed.id!)
    expect(done.action.targets.chaos!.calls).toEqual([{ id: 'new-thing', tags: [], result: 1 }])
    expect(executed.map((call) => call.method)).toEqual(['registerThing'])
  })

  it('rackReboot answered with two calls is refused instead of rebooting the rack twice', async () => {
    writeCallsReply = () => ({ calls: [{ id: 'chaos' }, { id: 'chaos' }], reqVotes: 2 })
    expect(await push({ query: {}, action: 'rackReboot', rackType: 'miner-chaos' })).toEqual({
      id: null,
      errors: ['chaos: ERR_WRITE_CALLS_INVALID', 'ERR_ORK_ACTION_CALLS_EMPTY'],
    })
  })
})

describe("the racks' replies to executed calls (7.3, 8.3): recorded per call, the action and the loop go on", () => {
  it('null, a thrown error, an error text, __proto__: each recorded as that call’s result or error', async () => {
    const ids = ['reply-null', 'reply-throws', 'reply-error-text', 'reply-proto']
    writeCallsReply = () => ({ calls: ids.map((id) => ({ id, tags: [] })), reqVotes: 1 })
    const pushed = await push({ query: { id: goodMiners[0] } })
    const done = await untilDone(pushed.id!)
    expect(done.action.status).toBe('COMPLETED')
    expect(done.action.targets.chaos!.calls).toEqual([
      { id: 'reply-null', tags: [], result: null },
      { id: 'reply-throws', tags: [], error: '[HRPC_ERR]=ERR_CHAOS_FAILED' },
      { id: 'reply-error-text', tags: [], error: '[HRPC_ERR]=ERR_CHAOS_TEXT' },
      { id: 'reply-proto', tags: [], result: JSON.parse('{"__proto__":{"polluted":1},"ok":1}') },
    ])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(done.action.targets[goodRack]!.calls[0]!.result).toEqual({ success: true })
  })

  it('results too large for the action record: ERR_CALL_RESULT_TOO_LARGE, and the action reaches done', async () => {
    writeCallsReply = () => ({ calls: [{ id: 'reply-big-1' }, { id: 'reply-big-2' }], reqVotes: 1 })
    const pushed = await push({ query: { id: goodMiners[0] } })
    // Before: the record outgrew the store's block limit and the action stayed in `executing`.
    const done = await untilDone(pushed.id!)
    expect(done.action.status).toBe('COMPLETED')
    const outcomes = done.action.targets.chaos!.calls.map((call) => call.error ?? (call.result as string).length)
    expect(outcomes.sort()).toEqual([NINE_MB.length, 'ERR_CALL_RESULT_TOO_LARGE'].sort())
    expectWellFormed(done.action, true)
  }, 30_000)

  it('calls a store written by the reference may hold (null, 5) do not fail the action', async () => {
    // The reference stored rack replies as they came; plant such a record directly in the approver.
    const record = await harness.ork.context.actions.approver.pushAction({
      action: 'reboot',
      payload: [[], { chaos: { calls: [null, 5, { id: 'c1', tags: [] }] } }, ['miner']],
      voter: 'joe',
      reqVotesPos: 1,
      reqVotesNeg: 1,
    })
    const done = await untilDone(record.id)
    // Before: FAILED, `TypeError: Cannot use 'in' operator to search for 'error' in null`.
    expect(done.action.status).toBe('COMPLETED')
    expect(done.action.error).toBeUndefined()
    expect((done.action.targets.chaos!.calls as unknown[])[2]).toEqual({
      id: 'c1',
      tags: [],
      result: { success: true },
    })
  })
})

describe('the auto-sleep automation (7.2) with a rack listing odd things and answering odd calls', () => {
  it('logs and pushes nothing malformed; the loop and the ork stay up', async () => {
    executed.length = 0
    chaosThings = (request) =>
      (request.query as Record<string, unknown>).$and
        ? [{ id: 'needs-sleep' }]
        : [null, 5, 'x', { tags: 5 }, { tags: [5, null, {}] }, { id: 't', tags: ['chaos-thing', 'chaos-group-1'] }]
    writeCallsReply = () => ({ calls: [{ id: 'a' }, { id: 'a' }], reqVotes: 1 })
    await harness.call('setGlobalConfig', { isAutoSleepAllowed: true })
    try {
      // The automation's pushAction is audited (caller `automation`) once it has answered.
      await waitFor(
        () => harness.call('getAuditLog', { method: 'pushAction', voter: 'chaos-automation' }) as Promise<unknown[]>,
        (entries) => entries.length > 0,
      )
    } finally {
      await harness.call('setGlobalConfig', { isAutoSleepAllowed: false })
      chaosThings = () => []
    }
    // The push answered {id: null, errors: ['chaos: ERR_WRITE_CALLS_INVALID', ...]}: nothing stored.
    const stored = (await harness.call('queryActions', {
      queries: [{ type: 'ready' }, { type: 'done' }, { type: 'voting' }],
    })) as Record<string, { votesPos: unknown[] }[]>
    const automated = Object.values(stored)
      .flat()
      .filter((action) => action.votesPos[0] === 'chaos-automation')
    expect(automated).toEqual([])
    expect(executed).toEqual([])
  })
})

it('after all of the above, a normal action executes to done', async () => {
  writeCallsReply = () => ({ calls: [], reqVotes: 1 })
  const pushed = await push({ query: { id: { $in: goodMiners } }, action: 'setLED', params: [true] })
  expect(pushed.errors).toEqual([])
  const done = await untilDone(pushed.id!)
  expect(done.action.status).toBe('COMPLETED')
  expect(done.action.targets[goodRack]!.calls.map((call) => call.result)).toEqual(
    goodMiners.map(() => ({ success: true })),
  )
})
