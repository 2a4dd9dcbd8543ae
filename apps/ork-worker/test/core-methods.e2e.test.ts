import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApiDocument } from '../src/api/api-document.ts'
import { loadWorkerConfig } from '../src/config/load-config.ts'
import { MAX_SORT_KEYS } from '../src/methods/things.ts'
import { CORE_JSON_METHODS } from './support/core-methods.ts'
import { type Harness, startHarness } from './support/harness.ts'

type Thing = { id: string; code?: string; type?: string; rackId?: string; info?: Record<string, unknown> }

let harness: Harness

beforeAll(async () => {
  harness = await startHarness()
})
afterAll(async () => {
  await harness?.close()
})

const remoteError = (code: string) => expect.objectContaining({ message: `[HRPC_ERR]=${code}` })

describe('base methods', () => {
  it('ping and echo return the request bytes; getInstanceId the persisted id', async () => {
    const payload = Buffer.from('{"hello":[1,2,3]}')
    const echoed = await harness.client.requestRaw(harness.ork.rpcPublicKey, 'echo', payload, { timeout: 10_000 })
    expect(Buffer.from(echoed).toString()).toBe(payload.toString())
    const pinged = await harness.client.requestRaw(harness.ork.rpcPublicKey, 'ping', Buffer.from('not json'), {
      timeout: 10_000,
    })
    expect(Buffer.from(pinged).toString()).toBe('not json')
    expect(await harness.call('getInstanceId')).toBe(harness.ork.instanceId)
    expect(harness.ork.instanceId).toMatch(/^wrk-ork-proc-aggr-test-cluster-[0-9a-f-]{36}$/)
  })
})

describe('racks', () => {
  it('lists the registered racks in key order, keys hidden unless asked', async () => {
    const racks = (await harness.call('listRacks', {})) as { id: string; info: Record<string, unknown> }[]
    expect(racks.map((rack) => rack.id)).toEqual([...harness.site.registrations.map((r) => r.id)].sort())
    expect(racks.every((rack) => rack.info.rpcPublicKey === undefined)).toBe(true)
    const withKeys = (await harness.call('listRacks', { type: 'miner', keys: 1 })) as typeof racks
    expect(withKeys).toHaveLength(2)
    expect(withKeys.every((rack) => typeof rack.info.rpcPublicKey === 'string')).toBe(true)
  })

  it('answers registration errors with the reference codes, in its order', async () => {
    const key = 'ab'.repeat(32)
    await expect(harness.call('registerRack', {})).rejects.toEqual(remoteError('ERR_RACK_ID_INVALID'))
    await expect(harness.call('registerRack', { id: 'x' })).rejects.toEqual(remoteError('ERR_RACK_TYPE_INVALID'))
    await expect(harness.call('registerRack', { id: 'x', type: 'miner' })).rejects.toEqual(
      remoteError('ERR_RACK_INFO_RPC_PUBKEY_INVALID'),
    )
    await expect(harness.call('registerRack', { id: 'x', type: 'miner', info: {} })).rejects.toEqual(
      remoteError('ERR_RACK_INFO_RPC_PUBKEY_INVALID'),
    )
    await expect(harness.call('registerRack', null)).rejects.toEqual(remoteError('ERR_RACK_ID_INVALID'))
    await expect(harness.call('listRacks', { type: 5 })).rejects.toEqual(remoteError('ERR_TYPE_INVALID'))
    expect(await harness.call('registerRack', { id: 'zz-extra', type: 'sensor-x', info: { rpcPublicKey: key } })).toBe(
      1,
    )
    expect(await harness.call('forgetRacks', { ids: ['zz-extra', 'unknown'] })).toBe(1)
    expect(await harness.call('forgetRacks', {})).toBe(0)
  })
})

describe('things', () => {
  it('merges every rack in rack order and sorts naturally when asked', async () => {
    const all = (await harness.call('listThings', { limit: 1000 })) as Thing[]
    expect(all.length).toBe(2 + 20 * 2 + 2)
    const sorted = (await harness.call('listThings', {
      query: { type: { $regex: '^miner' } },
      fields: { id: 1, code: 1 },
      sort: { code: -1 },
      limit: 1000,
    })) as Thing[]
    expect(sorted).toHaveLength(40)
    const codes = sorted.map((thing) => thing.code as string)
    const natural = [...codes].sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))
    expect(codes).toEqual(natural)
    // limit and offset are applied by each rack, not by the ork (Q10)
    expect(await harness.call('listThings', { limit: 1 })).toHaveLength(harness.site.racks.length)
    expect(await harness.call('listThings', { offset: 1, limit: 1000 })).toHaveLength(
      all.length - harness.site.racks.length,
    )
    expect(await harness.call('getThingsCount', { query: { type: { $regex: '^miner' } } })).toBe(40)
    expect(await harness.call('getThingsCount', {})).toBe(all.length)
  })

  it('refuses queries that run code and wrong types, with coded errors', async () => {
    await expect(harness.call('listThings', { query: { $where: 'return true' } })).rejects.toEqual(
      remoteError('ERR_QUERY_INVALID'),
    )
    await expect(harness.call('listThings', { query: [] })).rejects.toEqual(remoteError('ERR_QUERY_INVALID'))
    await expect(harness.call('listThings', { limit: 'all' })).rejects.toEqual(remoteError('ERR_LIMIT_INVALID'))
    await expect(harness.call('listThings', 5)).rejects.toEqual(remoteError('ERR_QUERY_INVALID'))
    await expect(harness.call('getHistoricalLogs', {})).rejects.toEqual(remoteError('ERR_LOG_TYPE_INVALID'))
  })

  it('keeps answering when a rack fails, without that rack', async () => {
    const [failing] = harness.site.racks.filter((rack) => rack.type.startsWith('miner'))
    failing!.setFaults({ failMethods: ['listThings', 'getThingsCount'] })
    try {
      const things = (await harness.call('listThings', { limit: 1000 })) as Thing[]
      expect(things).toHaveLength(2 + 20 + 2)
      expect(await harness.call('getThingsCount', {})).toBe(2 + 20 + 2)
    } finally {
      failing!.setFaults({})
    }
  })

  it('routes comments to the named rack; unknown racks give 0', async () => {
    const [thing] = (await harness.call('listThings', { query: { type: { $regex: '^miner' } }, limit: 1 })) as Thing[]
    const rackId = harness.site.racks.find((rack) => rack.type.startsWith('miner'))!.id
    const comment = { rackId, thingId: thing!.id, comment: 'fan noisy', user: 'tech@example.com' }
    expect(await harness.call('saveThingComment', comment)).toBe(1)
    expect(await harness.call('saveThingComment', { ...comment, rackId: 'nope' })).toBe(0)
    await expect(harness.call('saveThingComment', { thingId: 'x' })).rejects.toEqual(remoteError('ERR_RACK_ID_INVALID'))
    await expect(harness.call('editThingComment', { rackId })).rejects.toEqual(remoteError('ERR_THING_ID_INVALID'))
  })
})

describe('config and settings', () => {
  it('returns per-rack configs in rack order', async () => {
    const wrkConf = (await harness.call('getWrkConf', { type: 'miner' })) as { rackId: string }[]
    expect(wrkConf.map((entry) => entry.rackId)).toEqual(['miner-am-s19xp-rack-1', 'miner-am-s19xp-rack-2'])
    expect(wrkConf[0]).toHaveProperty('config')
    const thingConf = (await harness.call('getThingConf', {
      type: 'miner',
      requestType: 'nextAvailableCode',
    })) as Record<string, unknown>[]
    expect(thingConf.every((entry) => 'requestValue' in entry)).toBe(true)
    await expect(harness.call('getWrkConf', {})).rejects.toEqual(remoteError('ERR_TYPE_INVALID'))
    // `fields` is a projection the racks run: code operators never reach them
    const code = { body: 'function () { return 1 }', args: [], lang: 'js' }
    for (const method of ['getWrkConf', 'getThingConf']) {
      await expect(harness.call(method, { type: 'miner', fields: { x: { $function: code } } })).rejects.toEqual(
        remoteError('ERR_QUERY_INVALID'),
      )
    }
  })

  it('reads and saves rack settings', async () => {
    const rackId = 'miner-am-s19xp-rack-1'
    expect(await harness.call('saveWrkSettings', { rackId, entries: { fanMode: 'auto' } })).toBeTruthy()
    expect(await harness.call('getWrkSettings', { rackId })).toBeTruthy()
    expect(await harness.call('getWrkSettings', { rackId: 'nope' })).toBe(0)
    await expect(harness.call('saveWrkSettings', { rackId, entries: 'x' })).rejects.toEqual(
      remoteError('ERR_ENTRIES_INVALID'),
    )
    await expect(harness.call('getWrkSettings', { rackId: 3 })).rejects.toEqual(remoteError('ERR_RACK_ID_INVALID'))
  })

  it('projects and edits the global config in memory', async () => {
    expect(await harness.call('getGlobalConfig', { fields: { isAutoSleepAllowed: 1 } })).toEqual({
      isAutoSleepAllowed: false,
    })
    const updated = (await harness.call('setGlobalConfig', { isAutoSleepAllowed: true })) as Record<string, unknown>
    expect(updated.isAutoSleepAllowed).toBe(true)
    expect(updated.nominalSiteMinerCapacity).toBe(4232)
    expect(await harness.call('setGlobalConfig', { other: 1 })).toBeNull()
    await expect(harness.call('setGlobalConfig', {})).rejects.toEqual(remoteError('ERR_CONFIG_INVALID'))
  })
})

describe('success paths and failure policies, method by method', () => {
  const minerRacks = () => harness.site.racks.filter((rack) => rack.type.startsWith('miner'))
  /** Runs `check` with `failMethods` set on the first miner rack, then clears it. */
  const withFailingRack = async (methods: string[], check: (rackId: string) => Promise<void>) => {
    const rack = minerRacks()[0]!
    rack.setFaults({ failMethods: methods })
    try {
      await check(rack.id)
    } finally {
      rack.setFaults({})
    }
  }

  it('listThings refuses each wrong field with its own code, and code-running operators anywhere', async () => {
    await expect(harness.call('listThings', { fields: 'id' })).rejects.toEqual(remoteError('ERR_FIELDS_INVALID'))
    await expect(harness.call('listThings', { sort: 5 })).rejects.toEqual(remoteError('ERR_SORT_INVALID'))
    const sortOn = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, 1]))
    await expect(harness.call('listThings', { sort: sortOn(MAX_SORT_KEYS + 1) })).rejects.toEqual(
      remoteError('ERR_SORT_INVALID'),
    )
    await expect(harness.call('listThings', { sort: sortOn(MAX_SORT_KEYS) })).resolves.toBeInstanceOf(Array)
    await expect(harness.call('listThings', { offset: -1 })).rejects.toEqual(remoteError('ERR_OFFSET_INVALID'))
    // 0 is a valid count, forwarded to the racks like any other
    await expect(harness.call('listThings', { offset: 0, limit: 0 })).resolves.toBeInstanceOf(Array)
    const code = { body: 'function () { return true }', args: [], lang: 'js' }
    await expect(harness.call('listThings', { query: { $expr: { $function: code } } })).rejects.toEqual(
      remoteError('ERR_QUERY_INVALID'),
    )
    // a projection is forwarded to every rack too
    await expect(harness.call('listThings', { fields: { x: { $function: code } } })).rejects.toEqual(
      remoteError('ERR_QUERY_INVALID'),
    )
    await expect(harness.call('getHistoricalLogs', { logType: 'alerts', fields: { $where: 'true' } })).rejects.toEqual(
      remoteError('ERR_QUERY_INVALID'),
    )
    await expect(
      harness.call('getHistoricalLogs', { logType: 'alerts', sort: { ts: { $accumulator: code } } }),
    ).rejects.toEqual(remoteError('ERR_QUERY_INVALID'))
  })

  it('getHistoricalLogs merges every rack in rack order, and mingo-sorts when asked', async () => {
    const request = { logType: 'alerts', limit: 1000 }
    const perRack = await Promise.all(
      harness.site.registrations.map((registration) =>
        harness.client.request(registration.info.rpcPublicKey, 'getHistoricalLogs', request, { timeout: 10_000 }),
      ),
    )
    const inRackOrder = [...harness.site.registrations]
      .map((registration, index) => ({ id: registration.id, logs: perRack[index] as unknown[] }))
      .sort((left, right) => (left.id < right.id ? -1 : 1))
      .flatMap((entry) => entry.logs)
    expect(inRackOrder.length).toBeGreaterThan(0)
    expect(await harness.call('getHistoricalLogs', request)).toEqual(inRackOrder)

    const sorted = (await harness.call('getHistoricalLogs', { ...request, sort: { ts: -1 } })) as { ts: number }[]
    const byTs = [...(inRackOrder as { ts: number }[])].sort((left, right) => right.ts - left.ts)
    expect(sorted).toEqual(byTs)
  })

  it('forgetThings replies the sum of the racks (one each), and fails whole, double-prefixed, when a rack fails', async () => {
    const before = ((await harness.call('listThings', { limit: 1000 })) as Thing[]).length
    expect(await harness.call('forgetThings', { query: { id: 'no-such-thing' } })).toBe(harness.site.racks.length)
    expect(((await harness.call('listThings', { limit: 1000 })) as Thing[]).length).toBe(before)
    await withFailingRack(['forgetThings'], async () => {
      await expect(harness.call('forgetThings', { query: { id: 'no-such-thing' } })).rejects.toEqual(
        expect.objectContaining({ message: '[HRPC_ERR]=[HRPC_ERR]=ERR_SIMULATED_FAILURE' }),
      )
    })
    await expect(harness.call('forgetThings', { query: 'all' })).rejects.toEqual(remoteError('ERR_QUERY_INVALID'))
  })

  it('edits and deletes a comment on its rack; a failing rack gives 0', async () => {
    const rack = minerRacks()[1]!
    const rackId = rack.id
    const [first] = (await harness.client.request(
      rack.rpcPublicKey,
      'listThings',
      { limit: 1, fields: { id: 1 } },
      {
        timeout: 10_000,
      },
    )) as Thing[]
    const thingId = first!.id
    const user = 'ops@example.com'
    expect(await harness.call('saveThingComment', { rackId, thingId, comment: 'check PSU', user })).toBe(1)
    const comments = async () =>
      (
        (await harness.call('listThings', { query: { id: thingId }, fields: { id: 1, comments: 1 } })) as {
          comments: { id: string; comment: string }[]
        }[]
      )[0]!.comments
    const [saved] = await comments()
    expect(saved).toMatchObject({ comment: 'check PSU', user })
    expect(
      await harness.call('editThingComment', { rackId, thingId, id: saved!.id, comment: 'PSU swapped', user }),
    ).toBe(1)
    expect((await comments())[0]).toMatchObject({ id: saved!.id, comment: 'PSU swapped' })
    // Only the author may delete (the rack refuses, the ork answers 0).
    expect(await harness.call('deleteThingComment', { rackId, thingId, id: saved!.id, user: 'other' })).toBe(0)
    expect(await harness.call('deleteThingComment', { rackId, thingId, id: saved!.id, user })).toBe(1)
    expect(await comments()).toEqual([])
    await expect(harness.call('deleteThingComment', { rackId, thingId: 7 })).rejects.toEqual(
      remoteError('ERR_THING_ID_INVALID'),
    )
    await withFailingRack(['saveThingComment'], async (failingRackId) => {
      expect(await harness.call('saveThingComment', { rackId: failingRackId, thingId, comment: 'x', user })).toBe(0)
    })
  })

  it('rack settings failures are coded; config failures become {rackId, config: null} entries', async () => {
    await withFailingRack(['getWrkSettings', 'saveWrkSettings', 'getWrkConf', 'getThingConf'], async (rackId) => {
      await expect(harness.call('getWrkSettings', { rackId })).rejects.toEqual(remoteError('ERR_GET_SETTINGS_FAILED'))
      await expect(harness.call('saveWrkSettings', { rackId, entries: { a: 1 } })).rejects.toEqual(
        remoteError('ERR_SAVE_SETTINGS_FAILED'),
      )
      const wrkConf = (await harness.call('getWrkConf', { type: 'miner' })) as Record<string, unknown>[]
      expect(wrkConf).toHaveLength(2)
      expect(wrkConf).toContainEqual({ rackId, config: null })
      const thingConf = (await harness.call('getThingConf', {
        type: 'miner',
        requestType: 'nextAvailableCode',
      })) as Record<string, unknown>[]
      expect(thingConf).toContainEqual({ rackId, config: null })
      expect(thingConf.filter((entry) => 'requestValue' in entry)).toHaveLength(1)
    })
    expect(await harness.call('saveWrkSettings', { rackId: 'nope', entries: { a: 1 } })).toBe(0)
  })

  it('leaves out, like a failing rack, a rack whose reply nests too deep to encode again', async () => {
    // 20,000 levels parse, but stringifying them for the ork's own reply overflowed the stack:
    // the whole listThings failed with an uncoded error. The transport now refuses such a reply.
    const expected = await harness.call('listThings', { limit: 1000 })
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    const node = await harness.newClient()
    for (const method of ['listThings', 'getWrkConf', 'getWrkSettings']) {
      node.respondRaw(method, () => Buffer.from(`[{"id":"deep-1","code":"X","x":${deep}}]`))
    }
    await node.listen()
    const rackId = 'miner-am-s19xp-deep'
    const registration = {
      id: rackId,
      type: 'miner-am-s19xp',
      info: { rpcPublicKey: node.rpcPublicKey.toString('hex') },
    }
    expect(await harness.call('registerRack', registration)).toBe(1)
    try {
      expect(await harness.call('listThings', { limit: 1000 })).toEqual(expected)
      expect(await harness.call('getWrkConf', { type: 'miner' })).toContainEqual({ rackId, config: null })
      await expect(harness.call('getWrkSettings', { rackId })).rejects.toEqual(remoteError('ERR_GET_SETTINGS_FAILED'))
      // It answered: no unreachable failure counts against it.
      expect(harness.ork.context.racks.health().find((entry) => entry.rackId === rackId)).toMatchObject({
        state: 'up',
        consecutiveFailures: 0,
      })
    } finally {
      await harness.call('forgetRacks', { ids: [rackId] })
    }
  })

  it('forgetRacks also forgets the health of the racks it removes', async () => {
    const extra = harness.site.registrations.find((registration) => registration.type.startsWith('miner'))!
    const health = () => harness.ork.context.racks.health().map((entry) => entry.rackId)
    await harness.call('listThings', {})
    expect(health()).toContain(extra.id)
    expect(await harness.call('forgetRacks', { ids: [extra.id] })).toBe(1)
    expect(health()).not.toContain(extra.id)
    expect(await harness.call('registerRack', extra)).toBe(1)
  })

  it("refuses a payload with a __proto__ key anywhere, with the method's code", async () => {
    await expect(harness.call('listThings', JSON.parse('{"__proto__":{"limit":1}}'))).rejects.toEqual(
      remoteError('ERR_QUERY_INVALID'),
    )
    await expect(harness.call('listRacks', JSON.parse('{"type":"miner","x":{"__proto__":{}}}'))).rejects.toEqual(
      remoteError('ERR_TYPE_INVALID'),
    )
  })

  it('forgetRacks refuses ids that are not a list of strings', async () => {
    await expect(harness.call('forgetRacks', { ids: 'miner-am-s19xp-rack-1' })).rejects.toEqual(
      remoteError('ERR_IDS_INVALID'),
    )
    await expect(harness.call('forgetRacks', { ids: [1] })).rejects.toEqual(remoteError('ERR_IDS_INVALID'))
    expect((await harness.call('listRacks', {})) as unknown[]).toHaveLength(harness.site.racks.length)
  })
})

/**
 * One request per declared error code. `when` names what the ork must be in for the code: a rack
 * failing every settings call, or no config/global.config.json at start.
 */
const ERROR_CASES: {
  method: string
  payload: unknown
  code: string
  when?: 'failingRack' | 'noGlobalConfig' | 'rackAnswersNonsense'
}[] = [
  {
    method: 'registerRack',
    payload: { type: 'miner-am-s19xp', info: { rpcPublicKey: 'ab'.repeat(32) } },
    code: 'ERR_RACK_ID_INVALID',
  },
  {
    method: 'registerRack',
    payload: { id: 'r9', info: { rpcPublicKey: 'ab'.repeat(32) } },
    code: 'ERR_RACK_TYPE_INVALID',
  },
  {
    method: 'registerRack',
    payload: { id: 'r9', type: 'miner-am-s19xp', info: {} },
    code: 'ERR_RACK_INFO_RPC_PUBKEY_INVALID',
  },
  { method: 'forgetRacks', payload: { ids: 'miner-am-s19xp-rack-1' }, code: 'ERR_IDS_INVALID' },
  { method: 'listRacks', payload: { type: 5 }, code: 'ERR_TYPE_INVALID' },
  { method: 'listThings', payload: { query: { $where: 'true' } }, code: 'ERR_QUERY_INVALID' },
  { method: 'listThings', payload: { fields: 'id' }, code: 'ERR_FIELDS_INVALID' },
  { method: 'listThings', payload: { sort: 5 }, code: 'ERR_SORT_INVALID' },
  { method: 'listThings', payload: { offset: -1 }, code: 'ERR_OFFSET_INVALID' },
  { method: 'listThings', payload: { limit: 'ten' }, code: 'ERR_LIMIT_INVALID' },
  // the reference's order: query, fields, sort, offset, limit
  {
    method: 'listThings',
    payload: { query: 'x', fields: 'y', sort: 5, offset: -1, limit: 'z' },
    code: 'ERR_QUERY_INVALID',
  },
  { method: 'listThings', payload: { fields: 'y', sort: 5, offset: -1, limit: 'z' }, code: 'ERR_FIELDS_INVALID' },
  { method: 'listThings', payload: { sort: 5, offset: -1, limit: 'z' }, code: 'ERR_SORT_INVALID' },
  { method: 'listThings', payload: { offset: -1, limit: 'z' }, code: 'ERR_OFFSET_INVALID' },
  { method: 'getThingsCount', payload: { query: 'all' }, code: 'ERR_QUERY_INVALID' },
  { method: 'getHistoricalLogs', payload: {}, code: 'ERR_LOG_TYPE_INVALID' },
  { method: 'getHistoricalLogs', payload: { query: 'x', fields: 'y' }, code: 'ERR_LOG_TYPE_INVALID' },
  { method: 'getHistoricalLogs', payload: { logType: 'alerts', query: 'x' }, code: 'ERR_QUERY_INVALID' },
  { method: 'getHistoricalLogs', payload: { logType: 'alerts', fields: 'x' }, code: 'ERR_FIELDS_INVALID' },
  { method: 'getHistoricalLogs', payload: { logType: 'alerts', sort: 5 }, code: 'ERR_SORT_INVALID' },
  { method: 'getHistoricalLogs', payload: { logType: 'alerts', offset: -1 }, code: 'ERR_OFFSET_INVALID' },
  { method: 'getHistoricalLogs', payload: { logType: 'alerts', limit: 1.5 }, code: 'ERR_LIMIT_INVALID' },
  { method: 'forgetThings', payload: { query: { $where: 'true' } }, code: 'ERR_QUERY_INVALID' },
  ...['saveThingComment', 'editThingComment', 'deleteThingComment'].flatMap((method) => [
    { method, payload: { thingId: 'x', comment: 'c', user: 'u' }, code: 'ERR_RACK_ID_INVALID' },
    { method, payload: { rackId: 'miner-am-s19xp-rack-1', comment: 'c', user: 'u' }, code: 'ERR_THING_ID_INVALID' },
  ]),
  { method: 'getGlobalConfig', payload: { fields: 'x' }, code: 'ERR_FIELDS_INVALID' },
  { method: 'getGlobalConfig', payload: {}, code: 'ERR_GLOBAL_CONFIG_MISSING', when: 'noGlobalConfig' },
  { method: 'setGlobalConfig', payload: {}, code: 'ERR_CONFIG_INVALID' },
  {
    method: 'setGlobalConfig',
    payload: { isAutoSleepAllowed: true },
    code: 'ERR_GLOBAL_CONFIG_NOT_FOUND',
    when: 'noGlobalConfig',
  },
  { method: 'getWrkConf', payload: {}, code: 'ERR_TYPE_INVALID' },
  { method: 'getWrkConf', payload: { type: 'miner', fields: { x: { $where: 'true' } } }, code: 'ERR_QUERY_INVALID' },
  { method: 'getThingConf', payload: { requestType: 'nextAvailableCode' }, code: 'ERR_TYPE_INVALID' },
  { method: 'getThingConf', payload: { type: 'miner', fields: { x: { $where: 'true' } } }, code: 'ERR_QUERY_INVALID' },
  { method: 'getWrkSettings', payload: { rackId: 3 }, code: 'ERR_RACK_ID_INVALID' },
  {
    method: 'getWrkSettings',
    payload: { rackId: 'miner-am-s19xp-rack-1' },
    code: 'ERR_GET_SETTINGS_FAILED',
    when: 'failingRack',
  },
  { method: 'saveWrkSettings', payload: { entries: { a: 1 } }, code: 'ERR_RACK_ID_INVALID' },
  { method: 'saveWrkSettings', payload: { entries: 'x' }, code: 'ERR_RACK_ID_INVALID' },
  {
    method: 'saveWrkSettings',
    payload: { rackId: 'miner-am-s19xp-rack-1', entries: 'x' },
    code: 'ERR_ENTRIES_INVALID',
  },
  {
    method: 'saveWrkSettings',
    payload: { rackId: 'miner-am-s19xp-rack-1', entries: { a: 1 } },
    code: 'ERR_SAVE_SETTINGS_FAILED',
    when: 'failingRack',
  },
  {
    method: 'forgetThings',
    payload: { query: { id: 'does-not-exist' } },
    code: 'ERR_RACK_REPLY_INVALID',
    when: 'rackAnswersNonsense',
  },
]

describe('every error code the API reference declares for the core methods', () => {
  it('has a case here for each one', () => {
    const { methods } = buildApiDocument()
    const declared = CORE_JSON_METHODS.flatMap((method) =>
      (methods[method]?.errors ?? []).map((code) => `${method} ${code}`),
    )
    const covered = ERROR_CASES.map(({ method, code }) => `${method} ${code}`)
    expect([...new Set(covered)].sort()).toEqual([...declared].sort())
  })

  it('answers each with its code, and changes nothing', async () => {
    const before = { racks: await harness.call('listRacks', {}), things: await harness.call('getThingsCount', {}) }
    const expectCode = async ({ method, payload, code }: (typeof ERROR_CASES)[number]) =>
      expect(
        await harness.call(method, payload).then(
          () => 'answered',
          (error: Error) => error.message,
        ),
        method,
      ).toBe(`[HRPC_ERR]=${code}`)
    for (const errorCase of ERROR_CASES.filter((entry) => entry.when === undefined)) await expectCode(errorCase)

    const rack = harness.site.racks.find((candidate) => candidate.id === 'miner-am-s19xp-rack-1')!
    rack.setFaults({ failMethods: ['getWrkSettings', 'saveWrkSettings'] })
    try {
      for (const errorCase of ERROR_CASES.filter((entry) => entry.when === 'failingRack')) await expectCode(errorCase)
    } finally {
      rack.setFaults({})
    }

    // A rack answering forgetThings with something other than a count (racks answer 1).
    const nonsense = await harness.newClient()
    nonsense.respond('forgetThings', () => 'forgotten')
    await nonsense.listen()
    const registration = {
      id: 'zz-nonsense',
      type: 'sensor-x',
      info: { rpcPublicKey: nonsense.rpcPublicKey.toString('hex') },
    }
    await harness.call('registerRack', registration)
    try {
      for (const errorCase of ERROR_CASES.filter((entry) => entry.when === 'rackAnswersNonsense'))
        await expectCode(errorCase)
    } finally {
      await harness.call('forgetRacks', { ids: [registration.id] })
    }

    await harness.restartOrk({ config: { ...loadWorkerConfig(harness.root, 'production'), globalConfig: undefined } })
    try {
      for (const errorCase of ERROR_CASES.filter((entry) => entry.when === 'noGlobalConfig'))
        await expectCode(errorCase)
    } finally {
      await harness.restartOrk()
    }
    expect({ racks: await harness.call('listRacks', {}), things: await harness.call('getThingsCount', {}) }).toEqual(
      before,
    )
  })
})
