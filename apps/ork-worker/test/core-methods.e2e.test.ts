import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
    // limit is applied by each rack, not by the ork (Q10)
    expect(await harness.call('listThings', { limit: 1 })).toHaveLength(harness.site.racks.length)
    expect(await harness.call('getThingsCount', { query: { type: { $regex: '^miner' } } })).toBe(40)
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
    failing!.setFaults({ failMethods: ['listThings'] })
    try {
      const things = (await harness.call('listThings', { limit: 1000 })) as Thing[]
      expect(things).toHaveLength(2 + 20 + 2)
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
