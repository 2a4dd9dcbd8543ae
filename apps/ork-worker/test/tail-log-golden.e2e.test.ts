import { rmSync } from 'node:fs'
import type { RpcNode } from '@ork/rpc-transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadWorkerConfig, type WorkerConfig } from '../src/config/load-config.ts'
import { MAX_AGGR_TIMES } from '../src/methods/tail-log.ts'
import { MAX_REQUEST_KEYS } from '../src/rpc/schema-helpers.ts'
import { createServiceRoot, type Harness, startHarness } from './support/harness.ts'

/**
 * Aggregation numbers against values worked out by hand, end to end: an ork on a loopback
 * testnet asking real RPC racks that serve small fixed tail logs.
 *
 * Spec of base type `miner`: s = sum(hr), a = avg(v), al = alerts_aggr(alerts),
 * c = obj_concat(cnt). Racks:
 *   miner-rack-1 (miner-am):  {ts 1000, hr 10, v 4, alerts {high 1}, cnt {x 1}}, {ts 2000, hr 20, v 6}, {ts 3000}
 *   miner-rack-2 (miner-wm):  {ts 1000, hr 5, alerts {high 2, low 1}, cnt {x 2, y 1}}, {ts 3000, hr 1}
 *   minerpool-rack (minerpool-f2): a pool reply (never asked for `miner`), and the pool workers for cross-thing.
 *   things-rack (container-x): only answers listThings (the things m1 → c-A, m2 → c-B, m3 without container).
 */

const remoteError = (code: string) => expect.objectContaining({ message: `[HRPC_ERR]=${code}` })

const MINER_REPLIES: Record<string, unknown[]> = {
  'miner-rack-1': [
    { ts: 1000, hr: 10, v: 4, alerts: { high: 1 }, cnt: { x: 1 } },
    { ts: 2000, hr: 20, v: 6 },
    { ts: 3000 },
  ],
  'miner-rack-2': [
    { ts: 1000, hr: 5, alerts: { high: 2, low: 1 }, cnt: { x: 2, y: 1 } },
    { ts: 3000, hr: 1 },
  ],
}

const POOL_REPLY = [
  {
    ts: 1000,
    workers: [
      {
        name: 'm1',
        hashrate: 10,
        hashrate_1h: 1,
        hashrate_24h: 2,
        hashrate_stale_1h: 0,
        hashrate_stale_24h: 0,
        online: 1,
      },
      {
        name: 'm2',
        hashrate: 5,
        hashrate_1h: 1,
        hashrate_24h: 1,
        hashrate_stale_1h: 0,
        hashrate_stale_24h: 0,
        online: 1,
      },
      {
        name: 'm3',
        hashrate: 1,
        hashrate_1h: 0,
        hashrate_24h: 0,
        hashrate_stale_1h: 0,
        hashrate_stale_24h: 0,
        online: 0,
      },
      {
        name: 'm1',
        hashrate: 2,
        hashrate_1h: 1,
        hashrate_24h: 0,
        hashrate_stale_1h: 1,
        hashrate_stale_24h: 0,
        online: 1,
      },
    ],
    count: 4,
  },
]

const THINGS = [
  { id: 'm1', info: { container: 'c-A' } },
  { id: 'm2', info: { container: 'c-B' } },
  { id: 'm3', info: {} },
]

function siteConfig(): WorkerConfig {
  const root = createServiceRoot()
  try {
    const config = loadWorkerConfig(root, 'production')
    config.aggrStats = {
      miner: {
        ops: {
          s: { op: 'sum', src: 'hr' },
          a: { op: 'avg', src: 'v' },
          al: { op: 'alerts_aggr', src: 'alerts' },
          c: { op: 'obj_concat', src: 'cnt' },
        },
      },
      minerpool: config.aggrStats?.minerpool as NonNullable<WorkerConfig['aggrStats']>[string],
    }
    return config
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

let harness: Harness
const received: { rack: string; method: string; payload: unknown }[] = []

async function startFixedRack(id: string, type: string, replies: Record<string, unknown>): Promise<RpcNode> {
  const node = await harness.newClient()
  for (const [method, reply] of Object.entries(replies)) {
    node.respond(method, (payload) => {
      received.push({ rack: id, method, payload })
      return reply
    })
  }
  await node.listen()
  await harness.call('registerRack', { id, type, info: { rpcPublicKey: node.rpcPublicKey.toString('hex') } })
  return node
}

beforeAll(async () => {
  harness = await startHarness({ racks: [], register: false, orkOptions: { config: siteConfig() } })
  await startFixedRack('miner-rack-1', 'miner-am', { tailLog: MINER_REPLIES['miner-rack-1'], listThings: [] })
  await startFixedRack('miner-rack-2', 'miner-wm', { tailLog: MINER_REPLIES['miner-rack-2'], listThings: [] })
  await startFixedRack('minerpool-rack', 'minerpool-f2', {
    tailLog: POOL_REPLY,
    getWrkExtData: POOL_REPLY,
    listThings: [],
  })
  await startFixedRack('things-rack', 'container-x', { listThings: THINGS })
}, 60_000)

afterAll(async () => {
  await harness?.close()
})

const tailLogCalls = () => received.filter((call) => call.method === 'tailLog')

describe('tailLog numbers', () => {
  it('groups by ts: sums, averages counting missing values as 0, alerts, object concat, counts', async () => {
    received.length = 0
    const rows = await harness.call('tailLog', { type: 'miner', key: 'stat-5m', tag: 't-miner' })
    expect(rows).toEqual([
      {
        ts: 1000,
        aggrTsRange: '',
        aggrCount: 2,
        s: 15,
        a: 2,
        al: { high: 3, low: 1 },
        c: { x: 3, y: 1 },
        aggrIntervals: 1,
      },
      { ts: 2000, aggrTsRange: '', aggrCount: 1, s: 20, a: 6, al: {}, c: {}, aggrIntervals: 1 },
      { ts: 3000, aggrTsRange: '', aggrCount: 2, s: 1, a: 0, al: {}, c: {}, aggrIntervals: 1 },
    ])
    // Only the `miner` family was asked (not minerpool), with `fields: {}` added.
    expect(
      tailLogCalls()
        .map((call) => call.rack)
        .sort(),
    ).toEqual(['miner-rack-1', 'miner-rack-2'])
    expect(tailLogCalls()[0]?.payload).toEqual({ type: 'miner', key: 'stat-5m', tag: 't-miner', fields: {} })
  })

  it("sends racks the request in the caller's key order, the added fields last, as the reference", async () => {
    received.length = 0
    const request = {
      key: 'stat-5m',
      tag: 't-miner',
      start: 1,
      end: 5000,
      limit: 10,
      type: 'miner',
      aggrFields: { s: 1 },
      x: 1,
    }
    await harness.call('tailLog', request)
    expect(Object.keys(tailLogCalls()[0]?.payload as object)).toEqual([...Object.keys(request), 'fields'])
    received.length = 0
    await harness.call('tailLogMulti', { keys: [{ tag: 't-miner', key: 'stat-5m', type: 'miner' }], limit: 10 })
    expect(Object.keys(tailLogCalls()[0]?.payload as object)).toEqual(['tag', 'key', 'type', 'limit', 'fields'])
  })

  it('groups by overlapping aggrTimes ranges; an empty range gives no row', async () => {
    const rows = await harness.call('tailLog', {
      type: 'miner',
      key: 'stat-5m',
      tag: 't-miner',
      aggrTimes: [
        { start: 0, end: 2000 },
        { start: 1000, end: 5000 },
        { start: 9000, end: 9999 },
      ],
      aggrFields: { s: 1, a: 1 },
    })
    // 0-2000: hr 10+20+5 = 35, v (4+6+0)/3, distinct ts with data 1000, 2000.
    // 1000-5000: hr 10+20+5+1 = 36, v (4+6+0+0+0)/5 = 2; the ts-only record is counted but is no interval.
    expect(rows).toEqual([
      { ts: 0, aggrTsRange: '0-2000', aggrCount: 3, s: 35, a: 10 / 3, aggrIntervals: 2 },
      { ts: 0, aggrTsRange: '1000-5000', aggrCount: 5, s: 36, a: 2, aggrIntervals: 3 },
    ])
    // Racks got the projection of the sources plus ts, and the augmented aggrFields.
    expect(tailLogCalls().at(-1)?.payload).toMatchObject({
      fields: { hr: 1, v: 1, ts: 1 },
      aggrFields: { s: 1, a: 1, ts: 1, aggrTsRange: 1, aggrCount: 1, aggrIntervals: 1 },
    })
  })

  it('cross-thing aggregation groups pool workers by the container of each thing', async () => {
    const rows = (await harness.call('tailLog', {
      type: 'minerpool',
      key: 'stat-5m',
      tag: 't-minerpool',
      applyAggrCrossthg: true,
      aggrFields: { workers: 1, workersCount: 1 },
    })) as { workers: unknown[]; workersCount: number }[]
    expect(rows).toHaveLength(1)
    expect(rows[0]?.workersCount).toBe(4)
    const byContainer = [...(rows[0]?.workers ?? [])].sort((a, b) =>
      String((a as { container: unknown }).container).localeCompare(String((b as { container: unknown }).container)),
    )
    expect(byContainer).toEqual([
      {
        container: 'c-A',
        hashrate: 12,
        hashrate_1h: 2,
        hashrate_24h: 2,
        hashrate_stale_1h: 1,
        hashrate_stale_24h: 0,
        active_workers_count: 2,
      },
      {
        container: 'c-B',
        hashrate: 5,
        hashrate_1h: 1,
        hashrate_24h: 1,
        hashrate_stale_1h: 0,
        hashrate_stale_24h: 0,
        active_workers_count: 1,
      },
      {
        container: null,
        hashrate: 1,
        hashrate_1h: 0,
        hashrate_24h: 0,
        hashrate_stale_1h: 0,
        hashrate_stale_24h: 0,
        active_workers_count: 0,
      },
    ])
    const lookup = received.filter((call) => call.method === 'listThings')
    expect(lookup.length).toBe(4)
    expect(lookup[0]?.payload).toEqual({
      query: { id: { $in: ['m1', 'm2', 'm3'] } },
      fields: { id: 1, 'info.container': 1 },
      limit: 3,
    })
  })

  it('tailLogMulti: keys in order, top-level params win over per-key ones', async () => {
    const [first, second] = (await harness.call('tailLogMulti', {
      keys: [
        { type: 'miner', key: 'stat-5m', tag: 't-miner', aggrFields: { a: 1 } },
        { type: 'minerpool', key: 'stat-5m', tag: 't-minerpool' },
      ],
      aggrFields: { s: 1 },
    })) as Record<string, unknown>[][]
    expect(first?.map((row) => row.s)).toEqual([15, 20, 1])
    expect(first?.every((row) => !('a' in row))).toBe(true)
    // `s` is not an op of minerpool: only the always-kept row keys remain.
    expect(second).toEqual([{ ts: 1000, aggrTsRange: '', aggrCount: 1, aggrIntervals: 1 }])
    // Shared `type` overrides every key's type.
    const both = (await harness.call('tailLogMulti', {
      keys: [{ type: 'minerpool' }, { type: 'container' }],
      type: 'miner',
      key: 'stat-5m',
      tag: 't-miner',
      aggrFields: { s: 1 },
    })) as Record<string, unknown>[][]
    expect(both.map((rows) => rows.map((row) => row.s))).toEqual([
      [15, 20, 1],
      [15, 20, 1],
    ])
  })

  it('tailLogMulti asks for 5 keys at a time', async () => {
    let inFlight = 0
    let peak = 0
    const node = await harness.newClient()
    node.respond('tailLog', async () => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 300))
      inFlight--
      return [{ ts: 1000, hr: 1 }]
    })
    await node.listen()
    const rack = { id: 'slow-rack', type: 'miner-slow', info: { rpcPublicKey: node.rpcPublicKey.toString('hex') } }
    await harness.call('registerRack', rack)
    try {
      const keys = Array.from({ length: 8 }, (_, index) => ({ type: 'miner-slow', key: 'stat-5m', tag: `t-${index}` }))
      const rows = (await harness.call('tailLogMulti', { keys, aggrFields: { s: 1 } })) as { s: number }[][]
      expect(rows.map((keyRows) => keyRows.map((row) => row.s))).toEqual(keys.map(() => [1]))
      expect(peak).toBe(5)
    } finally {
      await harness.call('forgetRacks', { ids: [rack.id] })
    }
  })

  it('getWrkExtData over two racks: string ts, every op, groups as the reference orders them, no sort', async () => {
    // Real timestamps are not array indices: their groups keep the order they were first met
    // (a later ts first here); small integer ts would come first, ascending (Q55 COPY).
    const later = 1_730_419_500_000
    const earlier = 1_730_419_200_000
    const replies = {
      'ext-rack-1': [
        { ts: later, hr: 1 },
        { ts: earlier, hr: 2, v: 4 },
      ],
      'ext-rack-2': [{ ts: earlier, hr: 3 }, { hr: 5 }, { ts: 7, hr: 1 }],
    }
    const ids = Object.keys(replies)
    for (const [id, reply] of Object.entries(replies)) {
      await startFixedRack(id, 'miner-ext', { getWrkExtData: reply })
    }
    try {
      expect(await harness.call('getWrkExtData', { type: 'miner-ext' })).toEqual([
        { ts: '7', s: 1, a: 0, al: {}, c: {} },
        { ts: String(later), s: 1, a: 0, al: {}, c: {} },
        { ts: String(earlier), s: 5, a: 2, al: {}, c: {} },
        { ts: 'undefined', s: 5, a: 0, al: {}, c: {} },
      ])
    } finally {
      await harness.call('forgetRacks', { ids })
    }
  })

  it('getWrkExtData: rows per ts with a string ts, unsorted; raw replies when the base type has no spec', async () => {
    const rows = (await harness.call('getWrkExtData', { type: 'minerpool' })) as Record<string, unknown>[]
    expect(rows).toHaveLength(1)
    expect(rows[0]?.ts).toBe('1000')
    expect(rows[0]?.workersCount).toBe(4)
    expect(rows[0]?.workers).toHaveLength(4)
    expect(await harness.call('getWrkExtData', { type: 'container' })).toEqual([])
  })
})

describe('errors', () => {
  it('answers malformed requests with coded errors', async () => {
    await expect(harness.call('tailLog', {})).rejects.toEqual(remoteError('ERR_TYPE_INVALID'))
    await expect(harness.call('tailLog', { type: 'sensor' })).rejects.toEqual(remoteError('ERR_TYPE_AGGR_INVALID'))
    await expect(harness.call('tailLog', { type: 'miner', aggrTimes: 'today' })).rejects.toEqual(
      remoteError('ERR_AGGR_TIMES_INVALID'),
    )
    await expect(harness.call('tailLog', { type: 'miner', aggrFields: [1] })).rejects.toEqual(
      remoteError('ERR_AGGR_FIELDS_INVALID'),
    )
    await expect(harness.call('tailLog', { type: 'miner', fields: 'ts' })).rejects.toEqual(
      remoteError('ERR_FIELDS_INVALID'),
    )
    await expect(harness.call('tailLogMulti', { keys: 'invalid' })).rejects.toEqual(remoteError('ERR_KEYS_INVALID'))
    // Projections and queries are checked like every forwarded query.
    const slowRegex = { name: { $elemMatch: { a: { $regex: '(a+)+$' } } } }
    await expect(harness.call('tailLog', { type: 'miner', aggrFields: slowRegex })).rejects.toEqual(
      remoteError('ERR_QUERY_INVALID'),
    )
    await expect(harness.call('tailLogMulti', { keys: [{ type: 'miner', fields: slowRegex }] })).rejects.toEqual(
      remoteError('ERR_QUERY_INVALID'),
    )
    await expect(harness.call('getWrkExtData', { type: 'miner', query: { $where: 'true' } })).rejects.toEqual(
      remoteError('ERR_QUERY_INVALID'),
    )
    // aggrTimes: bounded in number.
    const ranges = (count: number) => Array.from({ length: count }, (_, index) => ({ start: 0, end: 9e15 + index }))
    const minerKey = { type: 'miner', key: 'stat-5m', tag: 't-miner' }
    await expect(harness.call('tailLog', { ...minerKey, aggrTimes: ranges(MAX_AGGR_TIMES + 1) })).rejects.toEqual(
      remoteError('ERR_AGGR_TIMES_INVALID'),
    )
    // ...exactly the max is still served (ranges matching no record: no rows).
    const emptyRanges = Array.from({ length: MAX_AGGR_TIMES }, () => ({ start: -2, end: -1 }))
    expect(await harness.call('tailLog', { ...minerKey, aggrTimes: emptyRanges })).toEqual([])
    // ...and each range needs numbers at both ends.
    await expect(harness.call('tailLog', { ...minerKey, aggrTimes: [{ start: '0', end: 5000 }] })).rejects.toEqual(
      remoteError('ERR_AGGR_TIMES_INVALID'),
    )
    // Overlapping ranges copy items (the copy budget is @ork/stats'); every range counts them all here.
    const rows = (await harness.call('tailLog', { ...minerKey, aggrTimes: ranges(3) })) as { aggrCount: number }[]
    expect(new Set(rows.map((row) => row.aggrCount)).size).toBe(1)
    const tooMany = Array.from({ length: MAX_REQUEST_KEYS + 1 }, () => ({ type: 'miner' }))
    await expect(harness.call('tailLogMulti', { keys: tooMany })).rejects.toEqual(remoteError('ERR_KEYS_INVALID'))
    await expect(harness.call('tailLogCustomRangeAggr', { keys: tooMany })).rejects.toEqual(
      remoteError('ERR_KEYS_INVALID'),
    )
    // Exactly MAX_REQUEST_KEYS keys are answered (here each with its own error).
    const mostKeys = (await harness.call('tailLogCustomRangeAggr', { keys: tooMany.slice(1) })) as unknown[]
    expect(mostKeys).toHaveLength(MAX_REQUEST_KEYS)
    await expect(harness.call('tailLogMulti', { keys: [{ key: 'test' }] })).rejects.toEqual(
      remoteError('ERR_TYPE_INVALID'),
    )
    await expect(harness.call('tailLogMulti', { keys: [{ type: 'miner' }, { type: 'sensor' }] })).rejects.toEqual(
      remoteError('ERR_TYPE_AGGR_INVALID'),
    )
    await expect(harness.call('getWrkExtData', {})).rejects.toEqual(remoteError('ERR_TYPE_INVALID'))
    await expect(harness.call('tailLogCustomRangeAggr', { keys: 'invalid' })).rejects.toEqual(
      remoteError('ERR_KEYS_INVALID'),
    )
    // COPY Q44: an exclusion next to the added inclusions fails as in the reference.
    await expect(harness.call('tailLog', { type: 'miner', aggrFields: { s: 0 } })).rejects.toEqual(
      expect.objectContaining({ message: expect.stringContaining('Projection cannot have a mix') }),
    )
  })

  it('without aggr.stats.json / aggr.data.json: ERR_NOT_CONFIGURED, getWrkExtData returns raw replies (Q6 FIX)', async () => {
    const config = siteConfig()
    config.aggrStats = undefined
    config.aggrData = undefined
    await harness.restartOrk({ config })
    try {
      expect(harness.ork.context.tailLogAggregation).toBeUndefined()
      await expect(harness.call('tailLog', { type: 'miner' })).rejects.toEqual(remoteError('ERR_NOT_CONFIGURED'))
      await expect(harness.call('tailLog', {})).rejects.toEqual(remoteError('ERR_NOT_CONFIGURED'))
      await expect(harness.call('tailLogMulti', { keys: [{ type: 'miner' }] })).rejects.toEqual(
        remoteError('ERR_NOT_CONFIGURED'),
      )
      // 4.9: the configs are checked before the keys.
      for (const keys of [[], 'invalid']) {
        await expect(harness.call('tailLogCustomRangeAggr', { keys })).rejects.toEqual(
          remoteError('ERR_NOT_CONFIGURED'),
        )
      }
      expect(await harness.call('getWrkExtData', { type: 'minerpool' })).toEqual(POOL_REPLY)
    } finally {
      await harness.restartOrk({ config: siteConfig() })
    }
  })
})
