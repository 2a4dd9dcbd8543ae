import { isOrkError } from '@ork/errors'
import fc from 'fast-check'
import { Query } from 'mingo'
import { describe, expect, it } from 'vitest'
import {
  aggregateTailLogItems,
  applyCrossThings,
  applyRequestedCrossThings,
  type CrossThingConfig,
  collectRackItems,
  computeTailLog,
  crossThingQuery,
  getNestedProperty,
  groupTailLogItems,
  MAX_AGGR_TIMES_COPIES,
  type Projection,
  prepareTailLogRequest,
  projectRows,
  resolveTailLogSpec,
  type TailLogSpec,
} from './index.ts'

const spec: TailLogSpec = { ops: { s: { op: 'sum', src: 'hr' }, a: { op: 'avg', src: 'v' } } }
const rack1 = [{ ts: 1000, hr: 10, v: 4 }, { ts: 2000, hr: 20, v: 6 }, { ts: 3000 }]
const rack2 = [
  { ts: 1000, hr: 5 },
  { ts: 3000, hr: 1 },
]

describe('tail-log core: worked example of ork-behaviour.md 4.7', () => {
  it('groups by ts', () => {
    const rows = aggregateTailLogItems(collectRackItems([rack1, rack2]), spec)
    expect(rows).toEqual([
      { ts: 1000, aggrTsRange: '', aggrCount: 2, s: 15, a: 2, aggrIntervals: 1 },
      { ts: 2000, aggrTsRange: '', aggrCount: 1, s: 20, a: 6, aggrIntervals: 1 },
      { ts: 3000, aggrTsRange: '', aggrCount: 2, s: 1, a: 0, aggrIntervals: 1 },
    ])
    expect(Object.keys(rows[0] as object)).toEqual(['ts', 'aggrTsRange', 'aggrCount', 's', 'a', 'aggrIntervals'])
  })

  it('groups by aggrTimes ranges; empty ranges give no row', () => {
    const aggrTimes = [
      { start: 0, end: 2000 },
      { start: 1000, end: 5000 },
      { start: 9000, end: 9999 },
    ]
    const rows = aggregateTailLogItems(
      collectRackItems([rack1, rack2]),
      { ops: { s: { op: 'sum', src: 'hr' } } },
      { aggrTimes },
    )
    expect(rows).toEqual([
      { ts: 0, aggrTsRange: '0-2000', aggrCount: 3, s: 35, aggrIntervals: 2 },
      { ts: 0, aggrTsRange: '1000-5000', aggrCount: 5, s: 36, aggrIntervals: 3 },
    ])
  })

  it('copies items per range when there are several ranges, so mutating ops do not overlap', () => {
    const item = { ts: 5, alerts: [{ name: 'a' }] }
    const groups = groupTailLogItems(
      [item],
      [
        { start: 0, end: 10 },
        { start: 5, end: 5 },
      ],
    )
    expect(groups.map((group) => group.key)).toEqual(['0-10', '5-5'])
    expect(groups[0]?.items[0]).toBe(item)
    expect(groups[1]?.items[0]).toEqual(item)
    expect(groups[1]?.items[0]).not.toBe(item)
    expect(groups[1]?.items[0] as { alerts: unknown[] }).not.toBe(item.alerts)
    // Ranges that do not overlap copy nothing.
    const apart = groupTailLogItems(
      [item, { ts: 20 }],
      [
        { start: 0, end: 10 },
        { start: 11, end: 30 },
      ],
    )
    expect(apart[0]?.items[0]).toBe(item)
  })

  it('refuses ranges that overlap so much that the copies would flood memory', () => {
    const items = Array.from({ length: 1000 }, (_, ts) => ({ ts }))
    const ranges = (count: number) => Array.from({ length: count }, (_, index) => ({ start: 0, end: 1e6 + index }))
    const perItem = Math.floor(MAX_AGGR_TIMES_COPIES / items.length)
    // Each item's first range takes the item itself; the others take copies.
    expect(groupTailLogItems(items, ranges(perItem + 1))).toHaveLength(perItem + 1)
    expect(() => groupTailLogItems(items, ranges(perItem + 2))).toThrow('ERR_AGGR_TIMES_INVALID')
  })

  it('orders groups like the keys of a plain object (COPY Q55) and sorts rows by ts', () => {
    const groups = groupTailLogItems([{ ts: 'b' }, { ts: 7 }, { ts: 'a' }, { ts: 3 }])
    expect(groups.map((group) => group.key)).toEqual(['3', '7', 'b', 'a'])
    const rows = aggregateTailLogItems(
      [
        { ts: 30, x: 1 },
        { ts: 10, x: 1 },
        { ts: 20, x: 1 },
      ],
      { ops: {} },
    )
    expect(rows.map((row) => row.ts)).toEqual([10, 20, 30])
  })

  it('groups by String(ts): values of different types with the same text share a group', () => {
    let calls = 0
    const shifting = { toString: () => `t${calls++ % 2}` }
    const items = [
      { ts: 1, n: 1 },
      { ts: '1', n: 2 },
      { ts: 0, n: 3 },
      { ts: -0, n: 4 },
      { ts: Number.NaN, n: 5 },
      { ts: 'NaN', n: 6 },
      { n: 7 },
      { ts: 'undefined', n: 8 },
      { ts: null, n: 9 },
      { ts: 'null', n: 10 },
      { ts: true, n: 11 },
      { ts: 1, n: 12 },
      { ts: shifting, n: 13 },
      { ts: shifting, n: 14 },
    ]
    const groups = groupTailLogItems(items)
    const members = Object.fromEntries(
      groups.map((group) => [group.key, group.items.map((item) => (item as { n: number }).n)]),
    )
    expect(members).toEqual({
      '0': [3, 4],
      '1': [1, 2, 12],
      NaN: [5, 6],
      undefined: [7, 8],
      null: [9, 10],
      true: [11],
      // An object's String() is asked again for every item, as upstream.
      t0: [13],
      t1: [14],
    })
  })

  it('FIX Q55: null items are ignored; primitives group under "undefined"', () => {
    const groups = groupTailLogItems([null, 5, undefined, { ts: 1 }, 'x'])
    expect(groups).toEqual([
      { key: '1', items: [{ ts: 1 }] },
      { key: 'undefined', items: [5, 'x'] },
    ])
  })

  it('counts intervals only for items carrying more than ts', () => {
    const rows = aggregateTailLogItems(
      [{ ts: 1 }, { ts: 2 }, { ts: 3, hr: 1 }],
      { ops: { s: { op: 'sum', src: 'hr' } } },
      {
        aggrTimes: [{ start: 0, end: 10 }],
      },
    )
    expect(rows).toEqual([{ ts: 0, aggrTsRange: '0-10', aggrCount: 3, s: 1, aggrIntervals: 1 }])
  })

  it('COPY Q5: an aggregation error is reported and the rows built so far are returned', () => {
    const errors: unknown[] = []
    const rows = aggregateTailLogItems(
      [
        { ts: 1, alerts: [] },
        { ts: 2, alerts: { high: 1 } },
      ],
      { ops: { g: { op: 'alerts_group_cnt', src: 'alerts' } } },
      { onError: (error) => errors.push(error) },
    )
    expect(rows).toEqual([{ ts: 1, aggrTsRange: '', aggrCount: 1, g: {}, aggrIntervals: 1 }])
    expect(errors).toHaveLength(1)
    expect(isOrkError(errors[0], 'ERR_STATS_VALUE_INVALID')).toBe(true)
  })
})

describe('tail-log request handling', () => {
  it('validates in the reference order', () => {
    expect(() => resolveTailLogSpec(null, 'miner')).toThrow('ERR_NOT_CONFIGURED')
    expect(() => resolveTailLogSpec({ miner: spec }, '')).toThrow('ERR_TYPE_INVALID')
    expect(() => resolveTailLogSpec({ miner: spec }, 'container-x')).toThrow('ERR_TYPE_AGGR_INVALID')
    expect(() => resolveTailLogSpec({ miner: spec }, 'constructor')).toThrow('ERR_TYPE_AGGR_INVALID')
    expect(resolveTailLogSpec({ miner: spec }, 'miner-am-s19')).toBe(spec)
  })

  it('derives the rack projection without touching the request or the spec (FIX Q2)', () => {
    const request = { type: 'miner', key: 'stat-5m', aggrFields: { s: 1, unknown: 1 }, fields: { extra: 1 } }
    const before = structuredClone(request)
    const specBefore = structuredClone(spec)
    const { rackRequest, aggrFields } = prepareTailLogRequest(request, spec)
    expect(rackRequest).toEqual({
      type: 'miner',
      key: 'stat-5m',
      aggrFields: { s: 1, unknown: 1, ts: 1, aggrTsRange: 1, aggrCount: 1, aggrIntervals: 1 },
      fields: { extra: 1, hr: 1, ts: 1 },
    })
    expect(Object.keys(rackRequest)).toEqual(['type', 'key', 'aggrFields', 'fields'])
    expect(aggrFields).toEqual(rackRequest.aggrFields)
    expect(request).toEqual(before)
    expect(spec).toEqual(specBefore)
    expect(prepareTailLogRequest({ type: 'miner' }, spec)).toEqual({
      rackRequest: { type: 'miner', fields: {} },
      aggrFields: {},
    })
  })

  it('projects rows with mingo; exclusion mixed with inclusion throws (COPY Q44)', () => {
    const rows = [{ ts: 1, aggrTsRange: '', aggrCount: 1, s: 2, nested: { a: 1, b: 2 }, aggrIntervals: 1 }]
    expect(projectRows(rows, {})).toEqual(rows)
    expect(projectRows(rows, { s: 1, 'nested.a': 1 })).toEqual([{ s: 2, nested: { a: 1 } }])
    expect(() => projectRows(rows, { s: 0, ts: 1 })).toThrow('Projection cannot have a mix of inclusion and exclusion.')
  })

  it('projects top-level inclusions without mingo exactly as mingo does, for any rows', () => {
    const keyPool = ['ts', 'aggrCount', 's', 'nested', '0', '12', 'x y', '_id', 'constructor', 'a.b', '$s']
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined))
    const row = fc.oneof(
      fc.dictionary(fc.constantFrom(...keyPool), value, { maxKeys: 6 }),
      fc.dictionary(fc.constantFrom(...keyPool), value, { maxKeys: 6, noNullPrototype: false }),
    )
    const projection = fc.dictionary(fc.constantFrom(...keyPool), fc.constantFrom<unknown>(1, true, 0, 2, false), {
      minKeys: 1,
      maxKeys: 5,
    })
    fc.assert(
      fc.property(fc.array(row, { maxLength: 4 }), projection, (rows, fields) => {
        const projected = (() => {
          try {
            return { rows: projectRows(rows, fields as Projection) }
          } catch (error) {
            return { error: String(error) }
          }
        })()
        const byMingo = (() => {
          try {
            return { rows: new Query({}).find(rows, fields as Projection).all() }
          } catch (error) {
            return { error: String(error) }
          }
        })()
        expect(projected).toStrictEqual(byMingo)
      }),
      { numRuns: 3000 },
    )
  })
})

const crossConfig: CrossThingConfig = {
  searchAggr: [
    { $unwind: '$workers' },
    { $group: { _id: null, ids: { $addToSet: '$workers.name' } } },
    { $project: { _id: 0 } },
  ],
  searchFields: { id: 1, 'info.container': 1 },
  crossArrKey: 'workers',
  crossObjKey: 'name',
  thgProperty: ['info', 'container'],
  groupAggr: [
    { $group: { _id: '$crossThg', hashrate: { $sum: '$hashrate' }, online: { $sum: '$online' } } },
    { $project: { container: '$_id', hashrate: 1, active_workers_count: '$online', _id: 0 } },
  ],
}

describe('cross-thing aggregation (ork-behaviour.md 6)', () => {
  const rows = [
    {
      ts: 1,
      workers: [
        { name: 'm1', hashrate: 10, online: 1 },
        { name: 'm2', hashrate: 5, online: 1 },
        { name: 'm3', hashrate: 1, online: 0 },
        { name: 'm1', hashrate: 2, online: 1 },
      ],
    },
  ]
  const things = [
    { id: 'm1', info: { container: 'c-A' } },
    { id: 'm2', info: { container: 'c-B' } },
    { id: 'm3', info: {} },
  ]

  it('builds the listThings query from searchAggr', () => {
    expect(crossThingQuery(rows, crossConfig)).toEqual({
      query: { id: { $in: ['m1', 'm2', 'm3'] } },
      fields: { id: 1, 'info.container': 1 },
      limit: 3,
    })
    // FIX Q43: no ids → no lookup.
    expect(crossThingQuery([{ ts: 1, workers: [] }], crossConfig)).toBeNull()
  })

  it('groups each row array by the thing property, without modifying the inputs', () => {
    const before = structuredClone(rows)
    const result = applyCrossThings(rows, crossConfig, things)
    expect(result).toEqual([
      {
        ts: 1,
        workers: [
          { container: 'c-A', hashrate: 12, active_workers_count: 2 },
          { container: 'c-B', hashrate: 5, active_workers_count: 1 },
          { container: null, hashrate: 1, active_workers_count: 0 },
        ],
      },
    ])
    expect(rows).toEqual(before)
  })

  it('keeps arrays with an empty groupAggr and rows without the key', () => {
    const config = { ...crossConfig, groupAggr: [] }
    const result = applyCrossThings([{ ts: 1, workers: [{ name: 'm1' }] }, { ts: 2 }], config, things)
    expect(result).toEqual([{ ts: 1, workers: [{ name: 'm1', crossThg: 'c-A' }] }, { ts: 2 }])
    expect(applyCrossThings([{ workers: [{ name: 'm1' }] }], config, [])).toEqual([{ workers: [{ name: 'm1' }] }])
  })

  it('getNestedProperty: empty path throws (COPY Q42), missing intermediates give undefined (FIX Q42)', () => {
    expect(() => getNestedProperty({}, [])).toThrow('ERR_CROSSTHG_PROPERTY_INVALID')
    expect(getNestedProperty({ nested: { deep: { value: 200 } } }, ['nested', 'deep', 'value'])).toBe(200)
    expect(getNestedProperty({}, ['a', 'b', 'c'])).toBeUndefined()
    expect(getNestedProperty(undefined, ['a'])).toBeUndefined()
  })

  it('links a thing by an id of the same type only', () => {
    const config = { ...crossConfig, groupAggr: [] }
    const result = applyCrossThings([{ workers: [{ name: '7' }, { name: 7 }] }], config, [
      { id: 7, info: { container: 'c-7' } },
    ])
    expect(result).toEqual([{ workers: [{ name: '7' }, { name: 7, crossThg: 'c-7' }] }])
  })

  it('applyRequestedCrossThings links only when asked, for an own config of the full type', async () => {
    const looked: unknown[] = []
    const listThings = async (query: unknown) => {
      looked.push(query)
      return things
    }
    const configs = { 'minerpool-x': crossConfig }
    for (const request of [
      { type: 'minerpool-x' },
      { type: 'minerpool-x', applyAggrCrossthg: 0 },
      { type: 'minerpool', applyAggrCrossthg: true },
      { type: 'constructor', applyAggrCrossthg: true },
    ]) {
      expect(await applyRequestedCrossThings(rows, request, configs, listThings)).toBe(rows)
    }
    expect(await applyRequestedCrossThings(rows, { type: 'minerpool-x', applyAggrCrossthg: 1 }, null, listThings)).toBe(
      rows,
    )
    expect(looked).toEqual([])
    const linked = await applyRequestedCrossThings(
      rows,
      { type: 'minerpool-x', applyAggrCrossthg: 1 },
      configs,
      listThings,
    )
    expect(linked).toEqual(applyCrossThings(rows, crossConfig, things))
    expect(looked).toEqual([crossThingQuery(rows, crossConfig)])
  })

  it('computeTailLog applies cross-thing aggregation only when the request asks for it, and looks nothing up without ids', async () => {
    const listCalls: unknown[] = []
    const options = {
      aggrStats: { minerpool: { ops: { workers: { op: 'arr_concat', src: 'workers' } } } },
      aggrCrossthg: { 'minerpool-x': crossConfig },
      listThings: async (query: unknown) => {
        listCalls.push(query)
        return things
      },
    }
    const plain = await computeTailLog({
      ...options,
      request: { type: 'minerpool-x', aggrFields: { workers: 1 } },
      fetchRackReplies: async () => [[{ ts: 1, workers: [{ name: 'm1', hashrate: 4 }] }]],
    })
    expect(plain).toEqual([
      { workers: [{ name: 'm1', hashrate: 4 }], ts: 1, aggrTsRange: '', aggrCount: 1, aggrIntervals: 1 },
    ])
    // A search that finds an empty list of ids (Q43: nothing to look up, so no fan-out).
    const searchNothing = { ...crossConfig, searchAggr: [{ $project: { _id: 0, ids: '$names' } }] }
    const noIds = await computeTailLog({
      ...options,
      aggrStats: {
        minerpool: { ops: { ...options.aggrStats.minerpool.ops, names: { op: 'arr_concat', src: 'names' } } },
      },
      aggrCrossthg: { 'minerpool-x': searchNothing },
      request: { type: 'minerpool-x', applyAggrCrossthg: true, aggrFields: { workers: 1 } },
      fetchRackReplies: async () => [[{ ts: 1, workers: [{ hashrate: 4 }], names: [] }]],
    })
    expect(noIds).toEqual([
      {
        workers: [{ container: null, hashrate: 4, active_workers_count: 0 }],
        ts: 1,
        aggrTsRange: '',
        aggrCount: 1,
        aggrIntervals: 1,
      },
    ])
    expect(listCalls).toEqual([])
  })

  it('computeTailLog runs the whole pipeline with injected I/O', async () => {
    const listCalls: unknown[] = []
    const result = await computeTailLog({
      request: { type: 'minerpool-x', applyAggrCrossthg: true, aggrFields: { workers: 1 } },
      aggrStats: { minerpool: { ops: { workers: { op: 'arr_concat', src: 'workers' } } } },
      aggrCrossthg: { 'minerpool-x': crossConfig },
      fetchRackReplies: async (rackRequest) => {
        expect(rackRequest.fields).toEqual({ workers: 1, ts: 1 })
        // The second rack failed: the fan-out hands its reply over as [].
        return [[{ ts: 1, workers: rows[0]?.workers.slice(0, 2) }], []]
      },
      listThings: async (query) => {
        listCalls.push(query)
        return things
      },
    })
    expect(listCalls).toHaveLength(1)
    expect(result).toEqual([
      {
        workers: [
          { container: 'c-A', hashrate: 10, active_workers_count: 1 },
          { container: 'c-B', hashrate: 5, active_workers_count: 1 },
        ],
        ts: 1,
        aggrTsRange: '',
        aggrCount: 1,
        aggrIntervals: 1,
      },
    ])
  })
})
