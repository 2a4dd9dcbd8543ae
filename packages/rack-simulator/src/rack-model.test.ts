import { describe, expect, it } from 'vitest'
import { RackModel } from './rack-model.ts'
import { aggregateLogs } from './tail-log.ts'

const NOW = 1_700_000_000_000
const FIVE_MINUTES = 300_000
const DAY = 86_400_000

type Thing = Record<string, unknown> & { id: string; code: string; tags: string[]; info: Record<string, unknown> }

const minerRack = (overrides: Partial<ConstructorParameters<typeof RackModel>[0]> = {}) =>
  new RackModel({ type: 'miner-am-s19xp', count: 30, seed: 7, now: () => NOW, ...overrides })

/** What a caller receives: the JSON round trip drops undefined keys like the wire does. */
const wire = async (rack: RackModel, method: string, request: unknown): Promise<unknown> =>
  JSON.parse(JSON.stringify(await rack.handle(method, request)) ?? 'null')

describe('determinism', () => {
  it('gives the same devices and logs for the same seed, and others for another seed', async () => {
    const request = { status: 1, limit: 5 }
    const logRequest = { key: 'stat-5m', tag: 't-miner', limit: 3 }
    const first = minerRack()
    const second = minerRack()
    expect(await wire(first, 'listThings', request)).toEqual(await wire(second, 'listThings', request))
    expect(await wire(first, 'tailLog', logRequest)).toEqual(await wire(second, 'tailLog', logRequest))
    const other = minerRack({ seed: 8 })
    expect(await wire(other, 'tailLog', logRequest)).not.toEqual(await wire(first, 'tailLog', logRequest))
  })

  it('gives two racks of one site (same seed) different devices', async () => {
    const macs = async (rackNumber: number) =>
      ((await wire(minerRack({ rackNumber }), 'listThings', { limit: 5 })) as Thing[]).map(
        (thing) => thing.info.macAddress,
      )
    expect(await macs(2)).not.toEqual(await macs(1))
  })
})

describe('listThings', () => {
  it('packs things like a miner rack: tags, code, rack, address/port, no opts, last only with status', async () => {
    const rack = minerRack()
    const [thing] = (await wire(rack, 'listThings', { limit: 1 })) as Thing[]
    expect(thing).toBeDefined()
    expect(Object.keys(thing as Thing)).toEqual([
      'id',
      'code',
      'type',
      'tags',
      'info',
      'rack',
      'comments',
      'address',
      'port',
    ])
    expect(thing?.code).toBe('AM-S19XP-0001')
    expect(thing?.rack).toBe('miner-am-s19xp-rack-1')
    expect(thing?.tags.slice(0, 4)).toEqual(['t-miner-am-s19xp', 't-miner-am', 't-miner', 'antminer'])
    expect(thing?.tags).toContain(`id-${thing?.id}`)
    expect(thing?.tags).toContain('code-AM-S19XP-0001')
    expect(thing?.tags).toContain(`container-${thing?.info.container}`)
    const [withStatus] = (await wire(rack, 'listThings', { limit: 1, status: 1 })) as Thing[]
    const last = withStatus?.last as {
      snap: { stats: Record<string, unknown>; config: Record<string, unknown> }
      ts: number
    }
    expect(Object.keys(last)).toEqual(['snap', 'alerts', 'err', 'ts'])
    expect(last.snap.stats).toHaveProperty('hashrate_mhs.t_5m')
    expect(last.snap.config).toHaveProperty('power_mode')
  })

  it('applies query, natural sort, offset and the per-rack default limit of 100', async () => {
    const rack = minerRack({ count: 150 })
    expect(((await wire(rack, 'listThings', {})) as Thing[]).length).toBe(100)
    const sorted = (await wire(rack, 'listThings', {
      sort: { code: -1 },
      fields: { code: 1 },
      offset: 1,
      limit: 3,
    })) as Thing[]
    expect(sorted.map((thing) => thing.code)).toEqual(['AM-S19XP-0149', 'AM-S19XP-0148', 'AM-S19XP-0147'])
    const query = { code: { $in: ['AM-S19XP-0002', 'AM-S19XP-0010'] } }
    const found = (await wire(rack, 'listThings', { query })) as Thing[]
    expect(found.map((thing) => thing.code)).toEqual(['AM-S19XP-0002', 'AM-S19XP-0010'])
    expect(await rack.handle('getThingsCount', { query })).toBe(2)
    expect(await rack.handle('getThingsCount', {})).toBe(150)
  })

  it('answers queries naming their ids exactly as a scan of every thing does', async () => {
    const rack = minerRack({ count: 40 })
    const ids = ((await wire(rack, 'listThings', { fields: { id: 1 }, limit: 40 })) as Thing[]).map((thing) => thing.id)
    const [first, second, third] = [ids[3], ids[17], ids[30]] as string[]
    const queries: Record<string, unknown>[] = [
      { id: second },
      { id: { $eq: first } },
      { id: 'no-such-thing' },
      // Out of rack order, a duplicate and an unknown id: the reply keeps rack order, once each.
      { id: { $in: [third, first, 'no-such-thing', second, first] } },
      { id: { $in: [first, second] }, code: { $ne: 'AM-S19XP-0004' } },
      { id: { $in: [] } },
    ]
    for (const query of queries) {
      // `$and` hides the id from the index: mingo scans every thing.
      const scanned = await wire(rack, 'listThings', { query: { $and: [query] }, status: 1 })
      expect(await wire(rack, 'listThings', { query, status: 1 })).toEqual(scanned)
      expect(await rack.handle('getThingsCount', { query })).toBe((scanned as Thing[]).length)
    }
    const found = (await wire(rack, 'listThings', { query: { id: { $in: [third, first, second] } } })) as Thing[]
    expect(found.map((thing) => thing.id)).toEqual([first, second, third])
    // After a forget and a registration the rack order still holds.
    await rack.handle('forgetThings', { query: { id: second } })
    expect(await wire(rack, 'listThings', { query: { id: { $in: [third, second, first] } } })).toEqual(
      await wire(rack, 'listThings', { query: { $and: [{ id: { $in: [third, second, first] } }] } }),
    )
  })

  it('projects before sorting, so a sort key outside `fields` leaves the order unchanged', async () => {
    const rack = minerRack()
    const things = (await wire(rack, 'listThings', { fields: { id: 1 }, sort: { code: -1 }, limit: 3 })) as Thing[]
    expect(things.map((thing) => thing.id)).toEqual(['am-s19xp-r1-0001', 'am-s19xp-r1-0002', 'am-s19xp-r1-0003'])
    expect(things[0]).toEqual({ id: 'am-s19xp-r1-0001', rack: 'miner-am-s19xp-rack-1', comments: undefined })
  })

  it('fails a bad query with the mingo error text', async () => {
    await expect(minerRack().handle('listThings', { query: { id: { $nope: 1 } } })).rejects.toThrow(/\$nope/)
  })
})

describe('tailLog', () => {
  it('rejects missing key and tag, and unknown logs, with the rack codes', async () => {
    const rack = minerRack()
    await expect(rack.handle('tailLog', { tag: 't-miner' })).rejects.toThrow('ERR_LOG_KEY_NOTFOUND')
    await expect(rack.handle('tailLog', { key: 'stat-5m' })).rejects.toThrow('ERR_LOG_TAG_INVALID')
    await expect(rack.handle('tailLog', { key: 'stat-5m', tag: 't-container' })).rejects.toThrow('ERR_LOG_NOTFOUND')
    await expect(rack.handle('tailLog', { key: 'stat-7m', tag: 't-miner' })).rejects.toThrow('ERR_LOG_NOTFOUND')
    // pos- tags get no stat log on miners.
    await expect(rack.handle('tailLog', { key: 'stat-5m', tag: 'pos-1-1' })).rejects.toThrow('ERR_LOG_NOTFOUND')
  })

  it('answers a range with no record ERR_LOG_NOTFOUND, as the real rack whose next rotation does not exist', async () => {
    const rack = minerRack()
    const future = { key: 'stat-5m', tag: 't-miner', start: NOW + DAY, end: NOW + 2 * DAY }
    await expect(rack.handle('tailLog', future)).rejects.toThrow('ERR_LOG_NOTFOUND')
    await expect(rack.handle('tailLog', { key: 'stat-5m', tag: 't-miner', end: 1 })).rejects.toThrow('ERR_LOG_NOTFOUND')
    // a range partly covered answers the records it has
    const straddling = (await rack.handle('tailLog', { ...future, start: NOW - 10 * FIVE_MINUTES })) as unknown[]
    expect(straddling).toHaveLength(10)
    // without a range or limit the real rack reads rotation 0 once: nothing found is []
    expect(await rack.handle('tailLog', { key: 'thing-5m', tag: 'am-s19xp-r1-0001', start: NOW + DAY })).toEqual([])
    // with a limit it walks on to the next rotation, which does not exist
    await expect(
      rack.handle('tailLog', { key: 'thing-5m', tag: 'am-s19xp-r1-0001', start: NOW + DAY, limit: 5 }),
    ).rejects.toThrow('ERR_LOG_NOTFOUND')
  })

  it('returns 100 records newest first, aligned to 5 minutes, with the miner stat fields', async () => {
    const records = (await wire(minerRack(), 'tailLog', { key: 'stat-5m', tag: 't-miner' })) as Array<
      Record<string, unknown> & { ts: number }
    >
    expect(records).toHaveLength(100)
    expect(records[0]?.ts).toBe(Math.floor(NOW / FIVE_MINUTES) * FIVE_MINUTES)
    expect(records[1]?.ts).toBe((records[0]?.ts ?? 0) - FIVE_MINUTES)
    for (const field of [
      'hashrate_mhs_5m_avg',
      'hashrate_mhs_5m_sum',
      'nominal_hashrate_mhs_avg',
      'nominal_efficiency_w_ths_avg',
      'hashrate_mhs_1m_avg',
      'efficiency_w_ths_avg',
      'hashrate_mhs_1m_sum',
      'hashrate_mhs_1m_cnt',
      'hashrate_mhs_1m_cnt_active',
      'pools_accepted_shares_total',
      'pools_rejected_shares_total',
      'pools_stale_shares_total',
      'offline_or_sleeping_miners_cnt',
      'online_or_minor_error_miners_cnt',
      'error_miners_cnt',
      'alerts_cnt',
      'type_cnt',
      'hashrate_mhs_1m_group_sum',
    ]) {
      expect(records[0], field).toHaveProperty(field)
    }
    const first = records[0] as Record<string, number>
    expect(first.hashrate_mhs_1m_sum).toBeGreaterThan(20 * 100_000_000)
    expect(first.hashrate_mhs_1m_cnt).toBeLessThanOrEqual(30)
  })

  it('bounds a start/end range to the records it can hold and projects fields; ignores ork-only keys', async () => {
    const end = Math.floor(NOW / FIVE_MINUTES) * FIVE_MINUTES - 10 * FIVE_MINUTES
    const start = end - 4 * FIVE_MINUTES
    const records = (await wire(minerRack(), 'tailLog', {
      key: 'stat-5m',
      tag: 't-miner',
      start,
      end,
      fields: { ts: 1, hashrate_mhs_1m_sum: 1 },
      type: 'miner',
      aggrFields: { hashrate_mhs_1m_sum_aggr: 1 },
    })) as Array<Record<string, unknown>>
    expect(records.map((record) => record.ts)).toEqual([4, 3, 2, 1, 0].map((step) => start + step * FIVE_MINUTES))
    expect(Object.keys(records[0] ?? {})).toEqual(['ts', 'hashrate_mhs_1m_sum'])
    const limited = (await wire(minerRack(), 'tailLog', {
      key: 'stat-5m',
      tag: 't-miner',
      start,
      end,
      limit: 2,
    })) as unknown[]
    expect(limited).toHaveLength(2)
  })

  it('groups by groupRange into "<start>-<end>" buckets and rejects a bad range', async () => {
    const hour = 3_600_000
    const end = Math.floor(NOW / hour) * hour - 1
    const start = end + 1 - 2 * hour
    const rows = (await wire(minerRack(), 'tailLog', {
      key: 'stat-5m',
      tag: 't-miner',
      start,
      end,
      groupRange: '1H',
      fields: { ts: 1, hashrate_mhs_1m_cnt: 1 },
    })) as Array<{ ts: string; hashrate_mhs_1m_cnt: number }>
    expect(rows.map((row) => row.ts)).toEqual([
      `${start}-${start + hour - 1}`,
      `${start + hour}-${start + 2 * hour - 1}`,
    ])
    expect(rows[0]?.hashrate_mhs_1m_cnt).toBeGreaterThan(12 * 25)
    await expect(
      minerRack().handle('tailLog', { key: 'stat-5m', tag: 't-miner', groupRange: 'often' }),
    ).rejects.toThrow('ERR_INVALID_GROUP_RANGE_FORMAT. Use formats like "1D", "1H", "1W", "1M"')
  })

  it('serves thing-5m per thing, stat-3h and the single stat-rtd record without ts', async () => {
    const rack = minerRack()
    const [snapshot] = (await wire(rack, 'tailLog', { key: 'thing-5m', tag: 'am-s19xp-r1-0003', limit: 1 })) as Array<
      Record<string, unknown>
    >
    expect(Object.keys(snapshot ?? {})).toEqual(['ts', 'err', 'snap'])
    const threeHours = (await wire(rack, 'tailLog', { key: 'stat-3h', tag: 't-miner-am-s19xp', limit: 2 })) as Array<{
      ts: number
    }>
    expect(threeHours.map((record) => record.ts % (3 * 3_600_000))).toEqual([0, 0])
    const rtd = (await wire(rack, 'tailLog', { key: 'stat-rtd', tag: 't-miner' })) as Array<Record<string, unknown>>
    expect(rtd).toHaveLength(1)
    expect(rtd[0]).not.toHaveProperty('ts')
    expect(rtd[0]).toHaveProperty('power_w_sum')
  })

  it('honours an explicit limit, and has no older rotation (offset ≥ 1: ERR_LOG_NOTFOUND)', async () => {
    const rack = minerRack()
    expect(await rack.handle('tailLog', { key: 'stat-5m', tag: 't-miner', limit: 3 })).toHaveLength(3)
    expect(await rack.handle('tailLog', { key: 'thing-5m', tag: 'am-s19xp-r1-0001', limit: 7 })).toHaveLength(7)
    await expect(rack.handle('tailLog', { key: 'stat-5m', tag: 't-miner', offset: 1 })).rejects.toThrow(
      'ERR_LOG_NOTFOUND',
    )
  })

  it('averages grouped records with shouldCalculateAvg, sums them without', async () => {
    const hour = 3_600_000
    const end = Math.floor(NOW / hour) * hour - 1
    const request = { key: 'stat-5m', tag: 't-miner', start: end + 1 - hour, end, groupRange: '1H' }
    const [summed] = (await wire(minerRack(), 'tailLog', request)) as Array<{ hashrate_mhs_1m_cnt: number }>
    const [averaged] = (await wire(minerRack(), 'tailLog', { ...request, shouldCalculateAvg: true })) as Array<{
      hashrate_mhs_1m_cnt: number
    }>
    expect(averaged?.hashrate_mhs_1m_cnt).toBeLessThanOrEqual(30)
    expect(summed?.hashrate_mhs_1m_cnt).toBeCloseTo((averaged?.hashrate_mhs_1m_cnt ?? 0) * 12)
  })

  it('reads groupRange units H, D, W, M', () => {
    const records = [0, 3 * DAY, 8 * DAY].map((ts) => ({ ts, n: 1 }))
    expect(aggregateLogs(records, '1W', false)).toEqual([
      { ts: `0-${7 * DAY - 1}`, n: 2 },
      { ts: `${7 * DAY}-${14 * DAY - 1}`, n: 1 },
    ])
    expect(aggregateLogs(records, '2D', false).map((row) => row.ts)).toEqual([
      `0-${2 * DAY - 1}`,
      `${2 * DAY}-${4 * DAY - 1}`,
      `${8 * DAY}-${10 * DAY - 1}`,
    ])
    expect(aggregateLogs(records, '1M', false)).toEqual([{ ts: `0-${30 * DAY - 1}`, n: 3 }])
    expect(aggregateLogs(records, '24h', false)).toHaveLength(3)
  })

  it('gives containers, powermeters and sensors their stat fields', async () => {
    const container = new RackModel({ type: 'container-bd-d40', count: 3, seed: 1, now: () => NOW })
    const [containerRecord] = (await wire(container, 'tailLog', {
      key: 'stat-5m',
      tag: 't-container',
      limit: 1,
    })) as Array<Record<string, unknown>>
    expect(containerRecord).toHaveProperty('container_power_w_sum')
    expect(containerRecord?.container_nominal_miner_capacity_sum).toBe(630)
    const meter = new RackModel({ type: 'powermeter-abb', count: 3, seed: 1, now: () => NOW })
    const [meterRecord] = (await wire(meter, 'tailLog', { key: 'stat-5m', tag: 't-powermeter', limit: 1 })) as Array<
      Record<string, number>
    >
    expect(meterRecord?.site_power_w).toBeGreaterThan(1_000_000)
    const sensor = new RackModel({ type: 'sensor-temp', count: 2, seed: 1, now: () => NOW })
    const [sensorRecord] = (await wire(sensor, 'tailLog', { key: 'stat-5m', tag: 't-sensor', limit: 1 })) as Array<
      Record<string, unknown>
    >
    expect(sensorRecord).toHaveProperty('alerts_cnt')
  })
})

describe('write path', () => {
  it('lists write calls per whitelisted action, with reqVotes, and fails the whole call on a bad parameter', async () => {
    const rack = minerRack()
    expect(await rack.handle('getWriteCalls', { query: {}, action: 'switchSocket', params: [] })).toEqual({
      calls: [],
      reqVotes: 1,
    })
    expect(
      await rack.handle('getWriteCalls', { query: {}, action: 'rackReboot', params: [], rackActionId: 'r1' }),
    ).toEqual({
      calls: [{ id: 'r1', tags: [] }],
      reqVotes: 2,
    })
    const query = { code: { $in: ['AM-S19XP-0001', 'AM-S19XP-0002'] } }
    const reply = (await rack.handle('getWriteCalls', { query, action: 'setPowerMode', params: ['sleep'] })) as {
      calls: Array<{ id: string; tags: string[] }>
      reqVotes: number
    }
    expect(reply.reqVotes).toBe(1)
    expect(reply.calls.map((call) => call.id)).toEqual(['am-s19xp-r1-0001', 'am-s19xp-r1-0002'])
    expect(reply.calls[0]?.tags).toContain('t-miner')
    await expect(rack.handle('getWriteCalls', { query, action: 'setPowerMode', params: ['turbo'] })).rejects.toThrow(
      'ERR_SET_POWER_MODE_INVALID',
    )
    expect(rack.executedCalls).toEqual([])
  })

  it("takes the power modes of the miner's brand, and updateFirmware where the brand's worker has it", async () => {
    const modes = async (type: string) => {
      const rack = new RackModel({ type, count: 1, seed: 1, now: () => NOW })
      const accepted: string[] = []
      for (const mode of ['low', 'normal', 'high', 'sleep']) {
        const check = rack.handle('getWriteCalls', { query: {}, action: 'setPowerMode', params: [mode] })
        if (
          await check.then(
            () => true,
            () => false,
          )
        )
          accepted.push(mode)
      }
      return accepted
    }
    expect(await modes('miner-am-s19xp')).toEqual(['normal', 'sleep'])
    expect(await modes('miner-av-a1346')).toEqual(['normal', 'high', 'sleep'])
    expect(await modes('miner-wm-m56s')).toEqual(['low', 'normal', 'high', 'sleep'])
    const antminer = minerRack()
    const firmware = { id: 'am-s19xp-r1-0001', method: 'updateFirmware', params: [{}] }
    await expect(antminer.handle('queryThing', firmware)).rejects.toThrow('ERR_NOT_IMPL')
    const whatsminer = new RackModel({ type: 'miner-wm-m56s', count: 1, seed: 1, now: () => NOW })
    const [thing] = (await whatsminer.handle('listThings', {})) as Thing[]
    expect(await whatsminer.handle('queryThing', { ...firmware, id: thing!.id })).toEqual({ success: true })
    // no Antminer starts in a mode it cannot be set to
    const snaps = (await antminer.handle('listThings', { status: 1 })) as {
      last: { snap: { config: { power_mode: string } } }
    }[]
    expect(new Set(snaps.map((miner) => miner.last.snap.config.power_mode))).toEqual(new Set(['normal']))
  })

  it('checks container actions as the container template does', async () => {
    const container = new RackModel({ type: 'container-bd-d40', count: 2, seed: 1, now: () => NOW })
    const calls = (action: string, params: unknown[]) =>
      container.handle('getWriteCalls', { query: {}, action, params }) as Promise<{ calls: unknown[] }>
    expect((await calls('switchContainer', [true])).calls).toHaveLength(2)
    expect((await calls('switchSocket', [[['pdu-1', '3', false]]])).calls).toHaveLength(2)
    expect((await calls('switchCoolingSystem', [false])).calls).toHaveLength(2)
    const refused: [string, unknown[], string][] = [
      ['switchContainer', ['yes'], 'ERR_SWITCH_CONTAINER_ENABLED_INVALID'],
      ['switchCoolingSystem', [], 'ERR_SWITCH_COOLING_SYSTEM_ENABLED_INVALID'],
      ['switchSocket', [{}], 'ERR_SWITCH_SOCKET_ARGS_INVALID'],
      ['switchSocket', [[[1, '3', true]]], 'ERR_SWITCH_SOCKET_PDU_INDEX_INVALID'],
      ['switchSocket', [[['pdu-1', 3, true]]], 'ERR_SWITCH_SOCKET_SOCKET_INDEX_INVALID'],
      ['switchSocket', [[['pdu-1', '3', 'on']]], 'ERR_SWITCH_SOCKET_ENABLED_INVALID'],
    ]
    for (const [action, params, code] of refused) await expect(calls(action, params)).rejects.toThrow(code)
  })

  it('answers malformed write requests as the templates do', async () => {
    const rack = minerRack({ count: 2 })
    const id = 'am-s19xp-r1-0001'
    // `ctrl[method](...req.params)`: the engine's own messages; a string spreads into characters
    await expect(rack.handle('queryThing', { id, method: 'reboot' })).rejects.toThrow(
      'req.params is not iterable (cannot read property undefined)',
    )
    await expect(rack.handle('queryThing', { id, method: 'reboot', params: null })).rejects.toThrow(
      'req.params is not iterable (cannot read property null)',
    )
    await expect(rack.handle('queryThing', { id, method: 'setLED', params: 'x' })).rejects.toThrow(
      'ERR_SET_LED_ENABLED_INVALID',
    )
    await expect(rack.handle('getWriteCalls', { query: {}, action: 'reboot' })).rejects.toThrow(
      'params is not iterable',
    )
    // applyThings fails each thing inside its try: nothing runs, nothing counts
    expect(await rack.handle('applyThings', { method: 'reboot', query: {} })).toBe(0)
    expect(rack.executedCalls.filter((call) => call.method === 'applyThings')).toEqual([])
    await expect(rack.handle('saveWrkSettings', { entries: 'abc' })).rejects.toThrow('ERR_ENTRIES_INVALID')
    // the real-time record has no time: it falls in no bucket
    expect(await rack.handle('tailLog', { key: 'stat-rtd', tag: 't-miner', groupRange: '1H' })).toEqual([])
  })

  it('executes queryThing actions, records each call and changes the device', async () => {
    const rack = minerRack()
    const trailer = { actionId: 1700000000001, user: 'ops@example' }
    const result = await rack.handle('queryThing', {
      id: 'am-s19xp-r1-0004',
      method: 'setPowerMode',
      params: ['sleep', trailer],
    })
    expect(result).toEqual({ success: true })
    expect(rack.executedCalls).toEqual([
      {
        rackId: 'miner-am-s19xp-rack-1',
        method: 'queryThing',
        thingId: 'am-s19xp-r1-0004',
        action: 'setPowerMode',
        params: ['sleep', trailer],
        actionId: trailer.actionId,
        at: NOW,
        result: { success: true },
      },
    ])
    const [thing] = (await wire(rack, 'listThings', { query: { id: 'am-s19xp-r1-0004' }, status: 1 })) as Array<{
      last: { snap: { stats: { status: string }; config: { power_mode: string } } }
    }>
    expect(thing?.last.snap.config.power_mode).toBe('sleep')
    expect(['sleeping', 'offline', 'error', 'not_mining']).toContain(thing?.last.snap.stats.status)
    await expect(rack.handle('queryThing', { id: 'nope', method: 'reboot', params: [] })).rejects.toThrow(
      'ERR_THING_NOTFOUND',
    )
    await expect(rack.handle('queryThing', { id: 'am-s19xp-r1-0004', method: 'explode', params: [] })).rejects.toThrow(
      'ERR_THING_METHOD_NOTFOUND',
    )
  })

  it('runs registerThing, updateThing, forgetThings and rackReboot like the rack, recording each', async () => {
    const rack = minerRack({ count: 2 })
    expect(await rack.handle('getThingConf', { requestType: 'nextAvailableCode' })).toBe('AM-S19XP-0003')
    const opts = { address: '10.9.9.9', port: 4028 }
    expect(
      await rack.handle('registerThing', {
        id: 'new-1',
        opts,
        info: { container: 'group-9', pos: '2-3', serialNum: 'SN-1', macAddress: 'AA:BB' },
        rackId: 'x',
      }),
    ).toBe(1)
    await expect(rack.handle('registerThing', { id: 'new-1' })).rejects.toThrow('ERR_THING_WITH_ID_ALREADY_EXISTS')
    // The miner template's checks: connection options, and nothing another miner already holds.
    const refused: [Record<string, unknown>, string][] = [
      [{ id: 'new-2', info: {} }, 'ERR_THING_VALIDATE_OPTS_INVALID'],
      [{ id: 'new-2', opts: {}, info: { serialNum: 'SN-1' } }, 'ERR_THING_SERIALNUM_EXISTS'],
      [{ id: 'new-2', opts: {}, info: { macAddress: 'aa:bb' } }, 'ERR_THING_MACADDRESS_EXISTS'],
      [{ id: 'new-2', opts: {}, info: { container: 'group-9', pos: '2-3' } }, 'ERR_THING_POS_EXISTS'],
      [{ id: 'new-2', opts }, 'ERR_THING_IP_ADDRESS_EXISTS'],
      [{ id: 'new-2', opts: {}, tags: 'x' }, 'ERR_THING_TAGS_INVALID'],
    ]
    for (const [request, code] of refused) await expect(rack.handle('registerThing', request)).rejects.toThrow(code)
    // falsy tags are no tags, as `_prepThingTags`
    expect(await minerRack({ count: 1 }).handle('registerThing', { id: 'new-3', opts: {}, tags: '' })).toBe(1)
    await expect(rack.handle('getHistoricalLogs', { logType: 'info' })).rejects.toThrow(
      'ERRs_INFO_HISTORY_LOG_NOTFOUND',
    )
    expect(await rack.handle('updateThing', { id: 'new-1', info: { pos: '2-4' }, actionId: 42, user: 'ops' })).toBe(1)
    const [updated] = (await wire(rack, 'listThings', { query: { id: 'new-1' } })) as Thing[]
    expect(updated?.code).toBe('AM-S19XP-0003')
    expect(updated?.info.lastActionId).toBe(42)
    expect(updated?.tags).toContain('pos-2-4')
    expect(updated?.tags).not.toContain('pos-2-3')
    const history = (await wire(rack, 'getHistoricalLogs', { logType: 'info' })) as Array<Record<string, unknown>>
    expect(history[0]?.changes).toEqual({ pos: { oldValue: '2-3', newValue: '2-4' }, lastActionId: { newValue: 42 } })
    await expect(rack.handle('updateThing', { id: 'ghost' })).rejects.toThrow('ERR_THING_NOTFOUND')
    expect(await rack.handle('forgetThings', { query: { id: 'new-1' }, actionId: 43 })).toBe(1)
    expect(await rack.handle('getThingsCount', {})).toBe(2)
    expect(await rack.handle('rackReboot', {})).toBe(1)
    expect(rack.executedCalls.map((call) => call.method)).toEqual([
      'registerThing',
      'updateThing',
      'forgetThings',
      'rackReboot',
    ])
  })

  it('records a device action that failed, with its error', async () => {
    const rack = minerRack()
    const request = { id: 'am-s19xp-r1-0002', method: 'setPowerMode', params: ['turbo', { actionId: 9 }] }
    await expect(rack.handle('queryThing', request)).rejects.toThrow('ERR_SET_POWER_MODE_INVALID')
    expect(rack.executedCalls).toEqual([
      {
        rackId: 'miner-am-s19xp-rack-1',
        method: 'queryThing',
        thingId: 'am-s19xp-r1-0002',
        action: 'setPowerMode',
        params: ['turbo', { actionId: 9 }],
        actionId: 9,
        at: NOW,
        error: 'ERR_SET_POWER_MODE_INVALID',
      },
    ])
  })

  it('counts the things applyThings acted on, and forgets every thing with all', async () => {
    const rack = minerRack({ count: 4 })
    expect(await rack.handle('applyThings', { method: 'setLED', query: {}, params: [true] })).toBe(4)
    expect(
      await rack.handle('applyThings', { method: 'setLED', query: { code: 'AM-S19XP-0001' }, params: [true] }),
    ).toBe(1)
    expect(await rack.handle('forgetThings', { all: true })).toBe(1)
    expect(await rack.handle('getThingsCount', {})).toBe(0)
  })

  it('handles comments with author checks', async () => {
    const rack = minerRack({ count: 1 })
    const thingId = 'am-s19xp-r1-0001'
    expect(await rack.handle('saveThingComment', { thingId, comment: 'hot', user: 'a' })).toBe(1)
    const [thing] = (await wire(rack, 'listThings', {})) as Array<{ comments: Array<{ id: string; ts: number }> }>
    const comment = thing?.comments.at(-1)
    await expect(
      rack.handle('editThingComment', { thingId, id: comment?.id, comment: 'x', user: 'b' }),
    ).rejects.toThrow('ERR_COMMENT_ACCESS_DENIED')
    // Each change moves the read stamp, so the wire layer's cached listThings replies show it.
    let stamp = rack.readStamp()
    const expectNewStamp = () => {
      expect(rack.readStamp()).not.toBe(stamp)
      stamp = rack.readStamp()
    }
    expect(await rack.handle('editThingComment', { thingId, id: comment?.id, comment: 'x', user: 'a' })).toBe(1)
    expectNewStamp()
    expect(await rack.handle('deleteThingComment', { thingId, id: comment?.id, user: 'a' })).toBe(1)
    expectNewStamp()
    expect(await rack.handle('saveThingComment', { thingId, comment: 'again', user: 'a' })).toBe(1)
    expectNewStamp()
    await expect(rack.handle('saveThingComment', { thingId: 'ghost' })).rejects.toThrow('ERR_THING_NOTFOUND')
  })
})

describe('other methods and wrong requests', () => {
  it('answers configuration and settings methods', async () => {
    const rack = minerRack()
    expect(await rack.handle('getWrkExtData', {})).toEqual({})
    expect(await rack.handle('getWrkConf', { fields: { siteName: 1 } })).toEqual({ siteName: 'simulated-site' })
    await expect(minerRack({ globalConfig: null }).handle('getWrkConf', {})).rejects.toThrow(
      'ERR_GLOBAL_CONFIG_MISSING',
    )
    await expect(rack.handle('getThingConf', { requestType: 'colour' })).rejects.toThrow('ERR_INVALID_REQUEST_TYPE')
    await expect(rack.handle('saveWrkSettings', {})).rejects.toThrow('ERR_ENTRIES_INVALID')
    expect(await rack.handle('saveWrkSettings', { entries: { a: 1 } })).toEqual({ a: 1 })
    expect(await rack.handle('getWrkSettings', {})).toEqual({ a: 1 })
    // entries merge into the settings saved before
    expect(await rack.handle('saveWrkSettings', { entries: { b: 2 } })).toEqual({ a: 1, b: 2 })
    await expect(rack.handle('getHistoricalLogs', {})).rejects.toThrow('ERR_INFO_HISTORY_LOG_TYPE_INVALID')
  })

  it('fails null requests with the TypeError text of the real worker', async () => {
    await expect(minerRack().handle('listThings', null)).rejects.toThrow(
      "Cannot read properties of null (reading 'offset')",
    )
    await expect(minerRack().handle('getWriteCalls', null)).rejects.toThrow(
      "Cannot destructure property 'query' of 'data' as it is null.",
    )
  })

  it('answers only its own methods: firmware methods on miner racks alone', async () => {
    const container = new RackModel({ type: 'container-bd-d40', count: 1, seed: 1, now: () => NOW })
    expect(container.methods()).not.toContain('listFirmwares')
    expect(minerRack().methods()).toContain('listFirmwares')
    await expect(container.handle('listFirmwares', {})).rejects.toThrow('ERR_METHOD_UNKNOWN')
    await expect(minerRack().handle('explode', {})).rejects.toThrow('ERR_METHOD_UNKNOWN')
  })

  it('reports historical alerts with the thing attached', async () => {
    const rack = minerRack({ count: 200 })
    const alerts = (await wire(rack, 'getHistoricalLogs', { logType: 'alerts', limit: 5 })) as Array<
      Record<string, unknown>
    >
    expect(alerts.length).toBeGreaterThan(0)
    expect(alerts.length).toBeLessThanOrEqual(5)
    expect(Object.keys(alerts[0] ?? {})).toEqual([
      'name',
      'code',
      'description',
      'severity',
      'createdAt',
      'uuid',
      'thing',
    ])
  })
})
