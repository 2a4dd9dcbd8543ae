import type { ExecutedCall } from '@ork/rack-simulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_REQUEST_IDS, MAX_REQUEST_KEYS } from '../src/rpc/schema-helpers.ts'
import {
  type ActionLookup,
  fastActionsConfig,
  lookupAction,
  remoteError,
  untilActionDone,
  waitFor,
} from './support/actions-helpers.ts'
import { type Harness, startHarness } from './support/harness.ts'

let harness: Harness
let minerRacks: string[]
let containerRack: string
let powermeterRack: string
let minersByRack: Record<string, string[]>

const ALL_WRITE = ['miner:rw', 'container:rw', 'powermeter:rw']

type PushReply = { id: number | null; errors: string[]; data?: { status: string; payload: unknown[] } }

const push = (request: Record<string, unknown>) =>
  harness.call('pushAction', { voter: 'joe', authPerms: ALL_WRITE, ...request }) as Promise<PushReply>

const lookup = (id: number) => lookupAction(harness, id)

const untilDone = (id: number) => untilActionDone(harness, id)

const callsOf = (id: number): ExecutedCall[] => harness.site.executedCalls().filter((call) => call.actionId === id)

/**
 * An automation that runs every 100 ms once allowed (the shipped example's isAutoSleepAllowed is
 * false) and pushes a reboot per container tag of the miners without any write permission: each
 * push targets nothing and touches no device, but is still a pushAction.
 */
const AUTOMATION = {
  tagPrefix: 'container-',
  crossThingType: 'miner',
  action: 'reboot',
  params: [],
  authPerms: [],
  listThingsReq: { query: { tags: { $in: ['t-miner'] } }, fields: { tags: 1 } },
  minActionTsDiff: 3_600_000,
  crossThingsActionReq: { devicesCondition: [], fields: { id: 1 } },
  voter: 'automation-under-test',
  agrrListThingsIntvlMs: 100,
}

beforeAll(async () => {
  harness = await startHarness({ orkOptions: { config: { ...fastActionsConfig(), crossAggrAction: AUTOMATION } } })
  const racks = harness.site.racks
  minerRacks = racks.filter((rack) => rack.type.startsWith('miner')).map((rack) => rack.id)
  containerRack = racks.find((rack) => rack.type.startsWith('container'))!.id
  powermeterRack = racks.find((rack) => rack.type.startsWith('powermeter'))!.id
  const things = (await harness.call('listThings', { fields: { id: 1, rack: 1 }, limit: 1000 })) as {
    id: string
    rack: string
  }[]
  minersByRack = {}
  for (const rack of minerRacks) minersByRack[rack] = things.filter((t) => t.rack === rack).map((t) => t.id)
})
afterAll(async () => {
  await harness?.close()
})

describe('a per-device action', () => {
  it('is discovered, approved by its creator alone, executed once per device with the reference payload', async () => {
    const targets = (minersByRack[minerRacks[0]!] ?? []).slice(0, 3)
    const pushed = await push({ query: { id: { $in: targets } }, action: 'setPowerMode', params: ['sleep'] })
    expect(pushed.errors).toEqual([])
    expect(pushed.id).toEqual(expect.any(Number))
    // the raw stored record, payload included (Q26)
    expect(pushed.data?.status).toBe('APPROVED')
    expect(pushed.data?.payload[2]).toEqual(['miner'])

    const done = await untilDone(pushed.id!)
    expect(done.action.status).toBe('COMPLETED')
    expect(done.action.requiredPerms).toEqual(['miner'])
    expect(done.action.params).toEqual(['sleep'])
    const calls = done.action.targets[minerRacks[0]!]!.calls
    expect(calls.map((call) => call.id)).toEqual(targets)
    expect(calls.every((call) => (call.result as { success?: boolean }).success === true)).toBe(true)

    const executed = callsOf(pushed.id!)
    expect(executed.map((call) => call.thingId).sort()).toEqual([...targets].sort())
    for (const call of executed) {
      expect(call).toMatchObject({ method: 'queryThing', action: 'setPowerMode' })
      expect(call.params).toEqual(['sleep', { actionId: pushed.id, user: 'joe' }])
    }
    const modes = (await harness.call('listThings', {
      query: { id: { $in: targets } },
      fields: { id: 1, 'last.snap.config.power_mode': 1 },
      status: 1,
    })) as { last?: { snap?: { config?: { power_mode?: string } } } }[]
    expect(modes.map((thing) => thing.last?.snap?.config?.power_mode)).toEqual(['sleep', 'sleep', 'sleep'])

    // getAction splits the payload, keeps call tags; queryActions drops them
    const action = (await harness.call('getAction', { id: pushed.id, type: 'done' })) as ActionLookup['action']
    expect(action).not.toHaveProperty('payload')
    expect(action.targets[minerRacks[0]!]!.calls[0]!.tags).toEqual(expect.any(Array))
    const queried = (await harness.call('queryActions', {
      queries: [{ type: 'done', filter: { gte: pushed.id, lte: pushed.id } }],
    })) as { done: ActionLookup['action'][] }
    expect(queried.done).toHaveLength(1)
    expect(queried.done[0]!.targets[minerRacks[0]!]!.calls[0]).not.toHaveProperty('tags')
  })

  it('reports failing racks but still acts on the others; failed calls keep their error', async () => {
    const [first, second] = minerRacks as [string, string]
    const failing = harness.site.racks.find((rack) => rack.id === second)!
    failing.setFaults({ failMethods: ['getWriteCalls'] })
    try {
      const pushed = await push({ query: { tags: { $in: ['t-miner'] } }, action: 'reboot', params: [] })
      expect(pushed.errors).toEqual([`${second}: [HRPC_ERR]=ERR_SIMULATED_FAILURE`])
      const done = await untilDone(pushed.id!)
      expect(Object.keys(done.action.targets)).toEqual([first, second])
      expect(done.action.targets[second]).toEqual({ calls: [], error: '[HRPC_ERR]=ERR_SIMULATED_FAILURE' })
      expect(new Set(callsOf(pushed.id!).map((call) => call.rackId))).toEqual(new Set([first]))
    } finally {
      failing.setFaults({})
    }

    const executing = harness.site.racks.find((rack) => rack.id === first)!
    const targets = (minersByRack[first] ?? []).slice(0, 2)
    executing.setFaults({ failMethods: ['queryThing'] })
    try {
      const pushed = await push({ query: { id: { $in: targets } }, action: 'setLED', params: [true] })
      const done = await untilDone(pushed.id!)
      expect(done.action.status).toBe('COMPLETED')
      expect(done.action.targets[first]!.calls.map((call) => call.error)).toEqual([
        '[HRPC_ERR]=ERR_SIMULATED_FAILURE',
        '[HRPC_ERR]=ERR_SIMULATED_FAILURE',
      ])
    } finally {
      executing.setFaults({})
    }
  })

  it('refuses values a device rejects, and targets nothing without a write permission', async () => {
    const query = { tags: { $in: ['t-miner'] } }
    const invalid = await push({ query, action: 'setPowerMode', params: ['turbo'] })
    expect(invalid).toEqual({
      id: null,
      errors: [
        ...minerRacks.map((rack) => `${rack}: [HRPC_ERR]=ERR_SET_POWER_MODE_INVALID`),
        'ERR_ORK_ACTION_CALLS_EMPTY',
      ],
    })
    for (const authPerms of [['miner:r'], ['container:rw'], [], ['miner'], [null, 5, {}], 'miner:rw', null]) {
      expect(await push({ query, action: 'reboot', params: [], authPerms })).toEqual({
        id: null,
        errors: ['ERR_ORK_ACTION_CALLS_EMPTY'],
      })
    }
    // a rack without getWriteCalls (UNKNOWN_METHOD) is skipped silently
    await harness.call('registerRack', {
      id: 'miner-ork-itself',
      type: 'miner-ork',
      info: { rpcPublicKey: harness.ork.rpcPublicKey },
    })
    try {
      const pushed = await push({ query: { id: minersByRack[minerRacks[0]!]![0] }, action: 'reboot', params: [] })
      expect(pushed.errors).toEqual([])
      const done = await untilDone(pushed.id!)
      expect(done.action.targets['miner-ork-itself']?.error).toMatch(/UNKNOWN_METHOD/)
    } finally {
      await harness.call('forgetRacks', { ids: ['miner-ork-itself'] })
    }
  })
})

describe('voting', () => {
  it('rackReboot with rackType needs two votes, reaches only the racks of that type', async () => {
    const pushed = await push({ query: {}, action: 'rackReboot', params: [], rackType: 'miner' })
    expect(pushed.errors).toEqual([])
    expect(pushed.data?.status).toBe('VOTING')
    const voting = await lookup(pushed.id!)
    expect(voting.type).toBe('voting')
    expect(Object.keys(voting.action.targets)).toEqual(minerRacks)
    expect(voting.action.requiredPerms).toEqual(['miner'])
    expect(voting.action.targets[minerRacks[0]!]!.calls).toEqual([{ id: minerRacks[0], tags: [] }])

    const vote = (voter: string, authPerms: unknown, approve = true) =>
      harness.call('voteAction', { id: pushed.id, voter, approve, authPerms })
    await expect(vote('ann', ['container'])).rejects.toEqual(remoteError('ERR_ACTION_DENIED'))
    await expect(vote('ann', ['miner:r'])).rejects.toEqual(remoteError('ERR_ACTION_DENIED'))
    await expect(vote('ann', 'miner')).rejects.toEqual(remoteError('ERR_ACTION_DENIED'))
    await expect(vote('ann', null)).rejects.toEqual(remoteError('ERR_ACTION_DENIED'))
    await expect(vote('joe', ['miner'])).rejects.toEqual(remoteError('ERR_VOTER_EXISTS'))
    expect(await vote('ann', ['miner'])).toBe(1)
    await expect(vote('bob', ['miner'])).rejects.toEqual(remoteError('ERR_ACTION_ID_NOT_FOUND'))

    const done = await untilDone(pushed.id!)
    expect(done.action.status).toBe('COMPLETED')
    expect(done.action.votesPos).toEqual(['joe', 'ann'])
    const executed = callsOf(pushed.id!)
    expect(executed).toEqual([])
    const reboots = harness.site.executedCalls().filter((call) => call.method === 'rackReboot')
    expect(reboots.map((call) => call.rackId).sort()).toEqual([...minerRacks].sort())
    expect(reboots.every((call) => JSON.stringify(call.params) === '{}')).toBe(true)
  })

  it('accepts the write-permission form too, and one denial ends the action', async () => {
    const approved = await push({ query: {}, action: 'rackReboot', params: [], rackType: 'container' })
    expect(Object.keys((await lookup(approved.id!)).action.targets)).toEqual([containerRack])
    expect(
      await harness.call('voteAction', { id: approved.id, voter: 'ann', approve: true, authPerms: ['container:w'] }),
    ).toBe(1)
    expect((await untilDone(approved.id!)).action.status).toBe('COMPLETED')

    const denied = await push({ query: {}, action: 'rackReboot', params: [], rackType: 'powermeter' })
    const before = harness.site.executedCalls().length
    expect(
      await harness.call('voteAction', { id: denied.id, voter: 'ann', approve: false, authPerms: ['powermeter:rw'] }),
    ).toBe(1)
    const done = await lookup(denied.id!)
    expect(done.type).toBe('done')
    expect(done.action.status).toBe('DENIED')
    expect(done.action.votesNeg).toEqual(['ann'])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(harness.site.executedCalls().length).toBe(before)
  })

  it('only the creator cancels, and only while voting', async () => {
    const pushed = await push({ query: {}, action: 'rackReboot', params: [], rackType: 'powermeter' })
    const id = pushed.id!
    expect(await harness.call('cancelActionsBatch', { ids: [id, 42], voter: 'ann' })).toEqual([
      { id, success: false, error: `ERR_CANCEL_BATCH_ACTION-ID-${id} ERR_CALLER_NOT_CREATOR` },
      { id: 42, success: false, error: 'ERR_CANCEL_BATCH_ACTION-ID-42 ERR_ACTION_ID_NOT_FOUND' },
    ])
    expect(await harness.call('cancelActionsBatch', { ids: [id], voter: 'joe' })).toEqual([{ id, success: true }])
    const done = await lookup(id)
    expect(done).toMatchObject({ type: 'done', action: { status: 'DENIED' } })
    expect(await harness.call('cancelActionsBatch', { ids: [id], voter: 'joe' })).toEqual([
      { id, success: false, error: `ERR_CANCEL_BATCH_ACTION-ID-${id} ERR_ACTION_ID_NOT_FOUND` },
    ])
  })

  it('a rack removed before execution gives ERR_RACK_NOT_FOUND for its calls (Q30)', async () => {
    const pushed = await push({ query: {}, action: 'rackReboot', params: [], rackType: 'container' })
    const registration = harness.site.registrations.find((entry) => entry.id === containerRack)!
    await harness.call('forgetRacks', { ids: [containerRack] })
    try {
      await harness.call('voteAction', { id: pushed.id, voter: 'ann', approve: true, authPerms: ['container'] })
      const done = await untilDone(pushed.id!)
      expect(done.action.targets[containerRack]!.calls[0]!.error).toBe('ERR_RACK_NOT_FOUND')
    } finally {
      await harness.call('registerRack', registration)
    }
  })
})

describe('rack actions', () => {
  it('registerThing, updateThing and forgetThings reach only the named rack, with the reference payloads', async () => {
    const rackId = minerRacks[1]!
    const registered = await push({
      query: {},
      action: 'registerThing',
      params: [{ rackId, id: 'new-miner-1', opts: { address: '10.250.0.1', port: 4028 }, info: { pos: 'A1' } }],
    })
    expect(registered.errors).toEqual([])
    const done = await untilDone(registered.id!)
    expect(Object.keys(done.action.targets)).toEqual([rackId])
    expect(done.action.targets[rackId]!.calls).toEqual([{ id: 'new-miner-1', tags: [], result: 1 }])
    const [call] = callsOf(registered.id!)
    expect(call).toMatchObject({ rackId, method: 'registerThing', thingId: 'new-miner-1' })
    expect(call!.params).toEqual({
      rackId,
      id: 'new-miner-1',
      opts: { address: '10.250.0.1', port: 4028 },
      info: { pos: 'A1' },
      actionId: registered.id,
      user: 'joe',
    })

    const updated = await push({
      query: {},
      action: 'updateThing',
      params: [{ rackId, id: 'new-miner-1', info: { pos: 'B2' } }],
    })
    await untilDone(updated.id!)
    expect(callsOf(updated.id!)[0]).toMatchObject({ method: 'updateThing', thingId: 'new-miner-1' })
    const [thing] = (await harness.call('listThings', { query: { id: 'new-miner-1' } })) as { info: { pos: string } }[]
    expect(thing?.info.pos).toBe('B2')

    const forgotten = await push({
      query: {},
      action: 'forgetThings',
      params: [{ rackId, query: { id: 'new-miner-1' } }],
    })
    await untilDone(forgotten.id!)
    expect(callsOf(forgotten.id!)[0]!.params).toEqual({ query: { id: 'new-miner-1' }, actionId: forgotten.id })
    expect(await harness.call('listThings', { query: { id: 'new-miner-1' } })).toEqual([])
  })

  it('returns rack-action validation errors per permitted rack, asking no rack (Q16)', async () => {
    const before = harness.site.executedCalls().length
    const permitted = harness.site.racks.map((rack) => rack.id).sort()
    expect(await push({ query: {}, action: 'registerThing', params: [{}] })).toEqual({
      id: null,
      errors: [...permitted.map((id) => `${id}: ERR_ACTION_INVALID_MISSING_RACKID`), 'ERR_ORK_ACTION_CALLS_EMPTY'],
    })
    const minerOnly = await push({
      query: {},
      action: 'updateThing',
      params: [{ rackId: 'x' }],
      authPerms: ['miner:w'],
    })
    expect(minerOnly.errors).toEqual([
      ...minerRacks.map((id) => `${id}: ERR_ACTION_INVALID_MISSING_ID`),
      'ERR_ORK_ACTION_CALLS_EMPTY',
    ])
    const forget = await push({
      query: {},
      action: 'forgetThings',
      params: [{ rackId: 'x', query: {} }],
      authPerms: ['miner:w'],
    })
    expect(forget.errors[0]).toBe(`${minerRacks[0]}: ERR_ACTION_INVALID_QUERY_ID`)
    expect(harness.site.executedCalls().length).toBe(before)
  })
})

describe('batches', () => {
  it('share one UID, keep payload order, honour rackType per element, and group by UID', async () => {
    const [first, second] = minerRacks as [string, string]
    const replies = (await harness.call('pushActionsBatch', {
      batchActionsPayload: [
        { query: { id: { $in: minersByRack[first]!.slice(0, 2) } }, action: 'setLED', params: [true] },
        { query: { id: { $in: minersByRack[second]!.slice(0, 2) } }, action: 'reboot', params: [] },
        { query: {}, action: 'rackReboot', params: [], rackType: 'powermeter' },
      ],
      batchActionUID: 'night',
      suffix: 'site-a',
      voter: 'joe',
      authPerms: ALL_WRITE,
    })) as PushReply[]
    expect(replies.map((reply) => reply.errors)).toEqual([[], [], []])
    const ids = replies.map((reply) => reply.id!)
    const uids = await Promise.all(ids.map(async (id) => (await lookup(id)).action.batchActionUID))
    expect(new Set(uids).size).toBe(1)
    expect(uids[0]).toMatch(/^\d{13}-night-site-a$/)
    expect(Object.keys((await lookup(ids[2]!)).action.targets)).toEqual([powermeterRack])
    await untilDone(ids[0]!)
    await untilDone(ids[1]!)

    const grouped = (await harness.call('queryActions', {
      queries: [
        { type: 'done', opts: { reverse: true, limit: 50 } },
        { type: 'voting', query: { id: { $exists: true } } },
      ],
      groupBatch: true,
      suffix: 'site-a',
    })) as Record<string, { batchActionUID: string; id: string; actions: { id: number }[] }[]>
    expect(grouped.done).toHaveLength(1)
    expect(grouped.done![0]!.batchActionUID).toBe(uids[0])
    expect(grouped.done![0]!.id).toBe(uids[0]!.split('-')[0])
    expect(grouped.done![0]!.actions.map((action) => action.id).sort()).toEqual([ids[0], ids[1]].sort())
    expect(grouped.voting!.map((group) => group.actions.map((action) => action.id))).toEqual([[ids[2]]])

    // a suffix without a UID gets the batch timestamp (Q19)
    const [single] = (await harness.call('pushActionsBatch', {
      batchActionsPayload: [{ query: {}, action: 'rackReboot', params: [], rackType: 'powermeter' }],
      suffix: 'lonely',
      voter: 'joe',
      authPerms: ALL_WRITE,
    })) as PushReply[]
    expect((await lookup(single!.id!)).action.batchActionUID).toMatch(/^\d{13}-lonely$/)
  })

  it('queryActions takes limit and reverse from filter or opts, as hyperbee merges them', async () => {
    type Listed = { done: { id: number }[] }
    const all = (await harness.call('queryActions', { queries: [{ type: 'done' }] })) as Listed
    expect(all.done.length).toBeGreaterThan(1)
    const ids = all.done.map((action) => action.id)
    const byFilter = (await harness.call('queryActions', {
      queries: [{ type: 'done', filter: { limit: 1 } }],
    })) as Listed
    expect(byFilter.done.map((action) => action.id)).toEqual(ids.slice(0, 1))
    const reversed = (await harness.call('queryActions', {
      queries: [{ type: 'done', opts: { reverse: 1, limit: 2 } }],
    })) as Listed
    expect(reversed.done.map((action) => action.id)).toEqual([...ids].reverse().slice(0, 2))
  })

  it('queryActions keeps the last query of a state asked twice (Q23), in the order states were first asked', async () => {
    type Listed = Record<string, { id: number }[]>
    const all = (await harness.call('queryActions', { queries: [{ type: 'done' }] })) as Listed
    const ids = (all.done ?? []).map((action) => action.id)
    expect(ids.length).toBeGreaterThan(2)
    const reply = (await harness.call('queryActions', {
      queries: [
        { type: 'done', filter: { limit: 2 } },
        { type: 'voting', filter: { limit: 1 } },
        ...Array.from({ length: 30 }, () => ({ type: 'done', filter: { limit: 2 } })),
        { type: 'done', opts: { reverse: 1, limit: 1 } },
      ],
    })) as Listed
    expect(Object.keys(reply)).toEqual(['done', 'voting'])
    expect(reply.done?.map((action) => action.id)).toEqual([ids.at(-1)])
  })

  it('getActionsBatch answers an id asked again again, in order', async () => {
    const all = (await harness.call('queryActions', { queries: [{ type: 'done' }] })) as { done: { id: number }[] }
    const [first, second] = all.done.map((action) => action.id)
    const found = (await harness.call('getActionsBatch', { ids: [first, second, first, 'x', first] })) as ActionLookup[]
    expect(found.map((entry) => entry.action.id)).toEqual([first, second, first, first])
    expect(found[2]).toEqual(found[0])
  })

  it('stores a numeric batchActionUID as text, which a suffix then finds', async () => {
    const pushed = await push({
      query: {},
      action: 'rackReboot',
      params: [],
      rackType: 'powermeter',
      batchActionUID: 4711,
    })
    try {
      expect((pushed.data as { batchActionUID?: unknown } | undefined)?.batchActionUID).toBe('4711')
      const found = (await harness.call('queryActions', { queries: [{ type: 'voting' }], suffix: '4711' })) as {
        voting: { id: number }[]
      }
      expect(found.voting.map((action) => action.id)).toEqual([pushed.id])
    } finally {
      await harness.call('cancelActionsBatch', { ids: [pushed.id], voter: 'joe' })
    }
  })

  it('checks every element before pushing any', async () => {
    const before = (await harness.call('queryActions', { queries: [{ type: 'voting' }] })) as { voting: unknown[] }
    await expect(
      harness.call('pushActionsBatch', {
        batchActionsPayload: [
          { query: {}, action: 'rackReboot', params: [] },
          { query: { $bad: 1 }, action: 'rackReboot', params: [] },
        ],
        voter: 'joe',
        authPerms: ALL_WRITE,
      }),
    ).rejects.toEqual(remoteError('ERR_QUERY_INVALID'))
    const after = (await harness.call('queryActions', { queries: [{ type: 'voting' }] })) as { voting: unknown[] }
    expect(after.voting.length).toBe(before.voting.length)
  })
})

describe('bad payloads', () => {
  const cases: [string, unknown, string][] = [
    ['pushAction', {}, 'ERR_QUERY_INVALID'],
    [
      'queryActions',
      { queries: Array.from({ length: MAX_REQUEST_KEYS + 1 }, () => ({ type: 'done' })) },
      'ERR_QUERIES_INVALID',
    ],
    ['getActionsBatch', { ids: Array.from({ length: MAX_REQUEST_IDS + 1 }, (_, index) => index) }, 'ERR_IDS_INVALID'],
    [
      'cancelActionsBatch',
      { ids: Array.from({ length: MAX_REQUEST_IDS + 1 }, (_, index) => index) },
      'ERR_IDS_INVALID',
    ],
    [
      'pushActionsBatch',
      {
        batchActionsPayload: Array.from({ length: MAX_REQUEST_IDS + 1 }, () => ({
          query: {},
          action: 'reboot',
          params: [],
        })),
      },
      'ERR_PAYLOAD_INVALID',
    ],
    ['pushAction', { query: [] }, 'ERR_QUERY_INVALID'],
    ['pushAction', { query: { $invalid: 1 }, action: 'x', params: [] }, 'ERR_QUERY_INVALID'],
    ['pushAction', { query: { $where: 'true' }, action: 'x', params: [] }, 'ERR_QUERY_INVALID'],
    // the query is checked before action and params (8.1)
    ['pushAction', { query: { $invalid: 1 }, params: [] }, 'ERR_QUERY_INVALID'],
    ['pushAction', { query: { a: { $foo: 1 } }, action: 'reboot', params: 'x' }, 'ERR_QUERY_INVALID'],
    ['pushActionsBatch', { batchActionsPayload: [{ query: { $invalid: 1 }, params: 5 }] }, 'ERR_QUERY_INVALID'],
    ['pushAction', { query: {}, action: 5 }, 'ERR_ACTION_INVALID'],
    ['pushAction', { query: {}, action: 'reboot', params: 'x' }, 'ERR_PARAMS_INVALID'],
    ['pushAction', { query: {}, action: 'reboot', params: [], rackType: 3 }, 'ERR_RACK_TYPE_INVALID'],
    [
      'pushAction',
      { query: {}, action: 'reboot', params: [], authPerms: ['miner:w'], voter: ' ' },
      'ERR_VOTER_INVALID',
    ],
    ['pushAction', null, 'ERR_QUERY_INVALID'],
    ['pushActionsBatch', {}, 'ERR_PAYLOAD_INVALID'],
    ['pushActionsBatch', { batchActionsPayload: [5] }, 'ERR_PAYLOAD_INVALID'],
    ['pushActionsBatch', { batchActionsPayload: [{ query: {}, action: '' }] }, 'ERR_ACTION_INVALID'],
    ['getAction', { id: 1, type: 'nope' }, 'ERR_SUBDB_UNKOWN'],
    // the type is checked before the id, as the approver does (4.15)
    ['getAction', { id: {}, type: 'nope' }, 'ERR_SUBDB_UNKOWN'],
    ['getAction', { id: 1, type: 'done' }, 'ERR_ACTION_ID_NOT_FOUND'],
    ['getAction', { id: 'abc', type: 'done' }, 'ERR_ACTION_ID_NOT_FOUND'],
    ['getAction', { id: -5, type: 'done' }, 'ERR_ACTION_ID_NOT_FOUND'],
    ['getAction', { type: 'done' }, 'ERR_ACTION_ID_NOT_FOUND'],
    ['voteAction', { id: 1, voter: 'x', approve: true, authPerms: [] }, 'ERR_ACTION_ID_NOT_FOUND'],
    ['voteAction', { id: {} }, 'ERR_ACTION_ID_NOT_FOUND'],
    ['queryActions', {}, 'ERR_QUERIES_INVALID'],
    ['queryActions', { queries: [{ type: 'done' }, {}] }, 'ERR_QUERIES_TYPE_INVALID'],
    ['queryActions', { queries: [{ type: 5 }] }, 'ERR_QUERIES_TYPE_INVALID'],
    ['queryActions', { queries: [{ type: 'elsewhere' }] }, 'ERR_SUBDB_UNKOWN'],
    ['queryActions', { queries: [{ type: 'done', query: { $nope: 1 } }] }, 'ERR_QUERY_INVALID'],
    ['queryActions', { queries: [{ type: 'done', query: { $where: 'x' } }] }, 'ERR_QUERY_INVALID'],
    ['queryActions', { queries: [{ type: 'done', fields: 3 }] }, 'ERR_FIELDS_INVALID'],
    ['getActionsBatch', {}, 'ERR_IDS_INVALID'],
    ['getActionsBatch', { ids: 'x' }, 'ERR_IDS_INVALID'],
    ['cancelActionsBatch', { ids: {} }, 'ERR_IDS_INVALID'],
    ['getAuditLog', { limit: -1 }, 'ERR_LIMIT_INVALID'],
    ['getAuditLog', { start: 'yesterday' }, 'ERR_START_INVALID'],
    ['getAuditLog', [], 'ERR_AUDIT_QUERY_INVALID'],
  ]
  for (const [method, payload, code] of cases) {
    it(`${method} ${JSON.stringify(payload)} → ${code}`, async () => {
      await expect(harness.call(method, payload)).rejects.toEqual(remoteError(code))
    })
  }

  it('accepts exactly MAX_REQUEST_IDS ids', async () => {
    // one id repeated: an id asked again is looked up once
    expect(await harness.call('getActionsBatch', { ids: new Array(MAX_REQUEST_IDS).fill(1) })).toEqual([])
  })

  it('answers unknown ids of getActionsBatch by omitting them (Q24)', async () => {
    expect(await harness.call('getActionsBatch', { ids: [1, 'x', -3] })).toEqual([])
  })
})

describe('audit log', () => {
  it('records every write request with who, what, when and outcome, and the executions', async () => {
    const since = Date.now()
    const pushed = await push({ query: { id: minersByRack[minerRacks[0]!]![5] }, action: 'reboot', params: [] })
    await untilDone(pushed.id!)
    await expect(harness.call('voteAction', { id: {} })).rejects.toBeDefined()
    await harness.call('listRacks', {})

    const entries = (await harness.call('getAuditLog', { start: since })) as Record<string, unknown>[]
    expect(entries.some((entry) => entry.method === 'listRacks')).toBe(false)
    const pushEntry = entries.find((entry) => entry.method === 'pushAction')
    expect(pushEntry).toMatchObject({
      kind: 'request',
      voter: 'joe',
      caller: harness.client.clientPublicKey.toString('hex'),
      outcome: 'ok',
      actionIds: [pushed.id],
      request: { action: 'reboot' },
    })
    expect(entries.find((entry) => entry.method === 'voteAction')).toMatchObject({
      outcome: 'error',
      error: 'ERR_ACTION_ID_NOT_FOUND',
    })
    await waitFor(
      () =>
        harness.call('getAuditLog', { start: since, method: 'execute:reboot' }) as Promise<Record<string, unknown>[]>,
      (found) => found.length === 1,
    ).then(([execution]) =>
      expect(execution).toMatchObject({ kind: 'execution', actionIds: [pushed.id], calls: { ok: 1, failed: 0 } }),
    )
    // newest first by default; oldest first with reverse
    const newest = (await harness.call('getAuditLog', { limit: 2 })) as { seq: number }[]
    expect(newest[0]!.seq).toBeGreaterThan(newest[1]!.seq)
    const oldest = (await harness.call('getAuditLog', { limit: 2, reverse: true })) as { seq: number }[]
    expect(oldest[0]!.seq).toBeLessThan(oldest[1]!.seq)
    expect(await harness.call('getAuditLog', { voter: 'nobody' })).toEqual([])
  })

  it("records the automation's pushes with caller automation", async () => {
    const since = Date.now()
    await harness.call('setGlobalConfig', { isAutoSleepAllowed: true })
    try {
      const [entry] = await waitFor(
        () =>
          harness.call('getAuditLog', { start: since, method: 'pushAction', voter: AUTOMATION.voter }) as Promise<
            Record<string, unknown>[]
          >,
        (found) => found.length > 0,
      )
      expect(entry).toMatchObject({
        kind: 'request',
        caller: 'automation',
        outcome: 'ok',
        request: { action: 'reboot', authPerms: [] },
      })
    } finally {
      await harness.call('setGlobalConfig', { isAutoSleepAllowed: false })
    }
  })
})
