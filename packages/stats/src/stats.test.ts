import { isOrkError } from '@ork/errors'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  applyStats,
  applyStatsBatch,
  compilePath,
  defaults,
  getVal,
  groupBy,
  type OpSpec,
  opNames,
  ops,
  parsePath,
  type StatsState,
  tallyStats,
} from './index.ts'

function aggregate(
  opsByKey: Record<string, OpSpec>,
  entries: unknown[],
  exts: unknown[] = [],
): Record<string, unknown> {
  const state: StatsState = { ops: opsByKey }
  const pack: Record<string, unknown> = {}
  entries.forEach((entry, index) => {
    applyStats(state, pack, entry, exts[index])
  })
  tallyStats(state, pack)
  return pack
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action()
  } catch (error) {
    return isOrkError(error) ? error.code : `not an OrkError: ${String(error)}`
  }
  return undefined
}

describe('worked examples of spec libraries.md 2.7', () => {
  it('sum and avg', () => {
    const pack = aggregate({ total: { op: 'sum', src: 'value' }, average: { op: 'avg', src: 'value' } }, [
      { value: 10 },
      { value: 20 },
      { value: 30 },
    ])
    expect(pack).toEqual({ total: 60, average: 20 })
  })

  it('sum coercions, avg counting missing values, cnt counting null entries', () => {
    const values = [1, '2', null, undefined, Number.NaN, true, '0', -3]
    const entries: unknown[] = values.map((v) => (v === undefined ? {} : { v }))
    entries.push(null)
    expect(aggregate({ s: { op: 'sum', src: 'v' } }, entries)).toEqual({ s: 1 })
    expect(aggregate({ a: { op: 'avg', src: 'v' } }, [{ v: 10 }, { v: null }, {}, { v: '20' }, null])).toEqual({
      a: 7.5,
    })
    expect(aggregate({ c: { op: 'cnt' } }, [{}, null, undefined])).toEqual({ c: 3 })
  })

  it('avg: accumulator created but nothing applied → 0; never created → absent', () => {
    expect(aggregate({ a: { op: 'avg', src: 'v' } }, [null])).toEqual({ a: 0 })
    expect(aggregate({ a: { op: 'avg', src: 'v' } }, [])).toEqual({})
  })

  it('obj_concat, arr_concat, alerts_aggr, alerts_group_cnt', () => {
    expect(
      aggregate({ o: { op: 'obj_concat', src: 'v' } }, [
        { v: { a: 1, b: 0, c: 's' } },
        { v: { a: 2, b: 5, c: 't', d: null } },
        { v: { d: 3 } },
      ]),
    ).toEqual({ o: { a: 3, b: 5, c: 'st', d: 3 } })
    expect(
      aggregate({ r: { op: 'arr_concat', src: 'v' } }, [{ v: [1, [2]] }, { v: 3 }, { v: null }, { v: 'ab' }]),
    ).toEqual({ r: [1, [2], 3, 'ab'] })
    expect(
      aggregate({ al: { op: 'alerts_aggr', src: 'v' } }, [
        { v: { alert1: 5, alert2: 3 } },
        { v: { alert1: 2, alert2: 4, alert3: 1 } },
      ]),
    ).toEqual({ al: { alert1: 7, alert2: 7, alert3: 1 } })
    const alerts: { severity?: string }[] = [{ severity: 'high' }, {}, { severity: '' }]
    expect(aggregate({ g: { op: 'alerts_group_cnt', src: 'alerts' } }, [{ alerts }])).toEqual({
      g: { high: 1, medium: 2 },
    })
    // COPY: the default severity is written into the input alerts.
    expect(alerts.map((alert) => alert.severity)).toEqual(['high', 'medium', 'medium'])
  })

  it('group_sum with groupBy reading ext, group_avg, group_max', () => {
    const byType = groupBy('type')
    expect(
      aggregate(
        { g: { op: 'group_sum', src: 'v', group: byType } },
        [{ v: 1 }, { v: 2 }],
        [{ type: 'm1' }, { type: 'm1' }],
      ),
    ).toEqual({ g: { m1: 3 } })
    const byName = (entry: { name?: string }) => entry.name
    expect(
      aggregate({ g: { op: 'group_avg', src: 'v', group: byName } }, [
        { v: 1, name: 'a' },
        { v: null, name: 'a' },
        { v: 4, name: 'b' },
        { v: 9 },
      ]),
    ).toEqual({ g: { a: 0.5, b: 4 } })
    expect(aggregate({ g: { op: 'group_max', src: 'v', group: () => 'g' } }, [{ v: -5 }, { v: -1 }])).toEqual({
      g: { g: 0 },
    })
    // a miner without the value counts as 0: the maximum is still the largest reading
    expect(aggregate({ g: { op: 'group_max', src: 'v', group: () => 'g' } }, [{ v: 5 }, {}, { v: 3 }])).toEqual({
      g: { g: 5 },
    })
  })

  it('nested_obj_concat and array_obj_calc', () => {
    expect(
      aggregate({ n: { op: 'nested_obj_concat', src: 'v', nestedOps: [{ src: 'a', op: 'sum' }] } }, [
        { v: { g1: { a: 1, sub: { a: 10 } } } },
        { v: { g1: { a: 2, sub: { a: 5 } }, g2: { a: 7 } } },
      ]),
    ).toEqual({ n: { g1: { a: 3, sub: { a: 15 } }, g2: { a: 7 } } })
    // a `__proto__` key from JSON is skipped: it would replace the result's prototype
    const nested = aggregate({ n: { op: 'nested_obj_concat', src: 'v', nestedOps: [] } }, [
      JSON.parse('{"v":{"__proto__":{"polluted":1},"g1":{"a":1}}}'),
    ]) as { n: Record<string, unknown> }
    expect(Object.getPrototypeOf(nested.n)).toBe(Object.prototype)
    expect(Object.keys(nested.n)).toEqual(['g1'])
    const objOps = [
      { src: 'value', op: 'sum' },
      { src: 'count', op: 'cnt' },
    ]
    expect(
      aggregate({ x: { op: 'array_obj_calc', src: 'items', objOps } }, [
        {
          items: [
            { value: 10, count: 1 },
            { value: 20, count: 1 },
          ],
        },
        { items: [{ value: 5, count: 1 }] },
      ]),
    ).toEqual({ x: { value: 35, count: 3 } })
  })

  it('defaults.timeframes', () => {
    expect(defaults.timeframes).toEqual([
      ['5m', '0 */5 * * * *'],
      ['30m', '0 */30 * * * *'],
      ['3h', '0 0 */3 * * *'],
      ['1D', '0 0 0 * * *'],
    ])
  })
})

describe('group ops', () => {
  const byKind = (entry: { kind?: string }) => entry.kind

  it('group keeps the last value, needs src and group', () => {
    const entries = [{ kind: 'a', v: 1 }, { kind: 'a', v: 2 }, { kind: 'b' }, { v: 3 }]
    expect(aggregate({ g: { op: 'group', src: 'v', group: byKind } }, entries)).toEqual({ g: { a: 2 } })
    expect(JSON.stringify(aggregate({ g: { op: 'group', src: 'v', group: byKind } }, entries))).toBe('{"g":{"a":2}}')
    expect(aggregate({ g: { op: 'group', group: byKind } }, entries)).toEqual({ g: {} })
    expect(aggregate({ g: { op: 'group', src: 'v' } }, entries)).toEqual({ g: {} })
  })

  it('group_cnt and group_multiple_stats', () => {
    const entries = [
      { kind: 'a', v: 1, w: 'x' },
      { kind: 'a', v: 2 },
      { kind: 'b', v: 3, w: 'y' },
    ]
    expect(aggregate({ g: { op: 'group_cnt', group: byKind } }, entries)).toEqual({ g: { a: 2, b: 1 } })
    const srcs = [
      { name: 'value', src: 'v' },
      { name: 'label', src: 'w' },
    ]
    expect(aggregate({ g: { op: 'group_multiple_stats', srcs, group: byKind } }, entries)).toEqual({
      g: { a: { value: 2, label: undefined }, b: { value: 3, label: 'y' } },
    })
    expect(aggregate({ g: { op: 'group_multiple_stats', group: byKind } }, entries)).toEqual({ g: {} })
  })

  it('COPY: group_sum and group_max restart a NaN group from 0, plain sum stays NaN', () => {
    const entries = [
      { kind: 'a', v: 'abc' },
      { kind: 'a', v: 4 },
    ]
    expect(aggregate({ g: { op: 'group_sum', src: 'v', group: byKind } }, entries)).toEqual({ g: { a: 4 } })
    expect(aggregate({ s: { op: 'sum', src: 'v' } }, entries).s).toBeNaN()
  })

  it('filter skips entries; only sum passes ext to it', () => {
    const seen: unknown[] = []
    const filter = (entry: { v: number }, ext?: unknown) => {
      seen.push(ext)
      return entry.v > 1
    }
    const pack = aggregate(
      { s: { op: 'sum', src: 'v', filter }, c: { op: 'cnt', filter } },
      [{ v: 1 }, { v: 2 }, { v: 3 }],
      ['e1', 'e2', 'e3'],
    )
    expect(pack).toEqual({ s: 5, c: 2 })
    expect(seen).toEqual(['e1', undefined, 'e2', undefined, 'e3', undefined])
  })
})

describe('COPY quirks', () => {
  it('tallyStats is not idempotent', () => {
    const state: StatsState = { ops: { a: { op: 'avg', src: 'v' }, s: { op: 'sum', src: 'v' } } }
    const pack: Record<string, unknown> = {}
    applyStats(state, pack, { v: 4 })
    tallyStats(state, pack)
    expect(pack).toEqual({ a: 4, s: 4 })
    tallyStats(state, pack)
    expect(pack).toEqual({ a: 0, s: undefined })
  })

  it('array_obj_calc: avg keeps the seed, cnt adds one per later object, zeros skipped', () => {
    const objOps = [
      { src: 'n', op: 'avg' },
      { src: 'c', op: 'cnt' },
    ]
    const items = [5, 7, 0, 1].map((value) => ({ n: value, c: value }))
    expect(aggregate({ x: { op: 'array_obj_calc', src: 'items', objOps } }, [{ items }])).toEqual({ x: { n: 5, c: 7 } })
  })

  it('obj_concat on strings and arrays iterates their indices; alerts_aggr concatenates strings', () => {
    expect(aggregate({ o: { op: 'obj_concat', src: 'v' } }, [{ v: 'xy' }, { v: [3, 4] }])).toEqual({
      o: { 0: 'x3', 1: 'y4' },
    })
    expect(aggregate({ al: { op: 'alerts_aggr', src: 'v' } }, [{ v: { a: '3' } }, { v: { a: 2 } }])).toEqual({
      al: { a: '032' },
    })
  })

  it('nested_obj_concat keeps the first nested object by reference and mutates it', () => {
    const first = { g: { a: 1 } }
    const pack = aggregate({ n: { op: 'nested_obj_concat', src: 'v', nestedOps: [{ src: 'a', op: 'sum' }] } }, [
      { v: first },
      { v: { g: { a: 2 } } },
    ])
    expect(pack).toEqual({ n: { g: { a: 3 } } })
    expect(first.g.a).toBe(3)
  })
})

describe('malformed input', () => {
  it('null, primitive and string entries, missing paths, NaN', () => {
    const opsByKey: Record<string, OpSpec> = {
      s: { op: 'sum', src: 'a.b' },
      a: { op: 'avg', src: 'a.b' },
      c: { op: 'cnt' },
      o: { op: 'obj_concat', src: 'a' },
      r: { op: 'arr_concat', src: 'a.b' },
      al: { op: 'alerts_aggr', src: 'a' },
    }
    const pack = aggregate(opsByKey, [
      null,
      0,
      '',
      'text',
      5,
      { a: null },
      { a: { b: Number.NaN } },
      {},
      { a: { b: 2 } },
    ])
    expect(pack.s).toBe(2)
    expect(pack.a).toBeCloseTo(2 / 6)
    expect(pack.c).toBe(9)
    expect(pack.o).toEqual({ b: 2 })
    expect(pack.r).toEqual([Number.NaN, 2])
    // NaN is falsy, so the next value replaces it (COPY Q46).
    expect(pack.al).toEqual({ b: 2 })
  })

  it('a string value poisons sum and avg with NaN (JSON null)', () => {
    const pack = aggregate({ s: { op: 'sum', src: 'v' }, a: { op: 'avg', src: 'v' } }, [{ v: 1 }, { v: 'abc' }])
    expect(pack.s).toBeNaN()
    expect(pack.a).toBeNaN()
    expect(JSON.stringify(pack)).toBe('{"s":null,"a":null}')
  })

  it('values an op cannot handle throw coded errors', () => {
    expect(codeOf(() => aggregate({ g: { op: 'alerts_group_cnt', src: 'v' } }, [{ v: { high: 1 } }]))).toBe(
      'ERR_STATS_VALUE_INVALID',
    )
    expect(codeOf(() => aggregate({ g: { op: 'alerts_group_cnt', src: 'v' } }, [{ v: [null] }]))).toBe(
      'ERR_STATS_VALUE_INVALID',
    )
    expect(codeOf(() => aggregate({ x: { op: 'array_obj_calc', src: 'v', objOps: [] } }, [{ v: 'abc' }]))).toBe(
      'ERR_STATS_VALUE_INVALID',
    )
    expect(codeOf(() => aggregate({ x: { op: 'array_obj_calc', src: 'v' } }, [{ v: [{}] }]))).toBe(
      'ERR_STATS_OP_INVALID',
    )
    // Without items the missing objOps is never read, as upstream.
    expect(aggregate({ x: { op: 'array_obj_calc', src: 'v' } }, [{ v: [] }])).toEqual({ x: {} })
  })
})

describe('op names and paths (FIX)', () => {
  it('unknown op names throw ERR_STATS_OP_UNKNOWN naming the op, even through the op table', () => {
    for (const name of ['max', 'median', '__proto__', 'constructor', '../index', undefined]) {
      let caught: unknown
      try {
        aggregate({ k: { op: name as string, src: 'v' } }, [{ v: 1 }])
      } catch (error) {
        caught = error
      }
      expect(isOrkError(caught, 'ERR_STATS_OP_UNKNOWN')).toBe(true)
      expect((caught as { details: { op: unknown } }).details.op).toBe(name)
    }
    expect(
      codeOf(() =>
        aggregate({ x: { op: 'array_obj_calc', src: 'v', objOps: [{ src: 'a', op: 'max' }] } }, [
          { v: [{ a: 1 }, { a: 2 }] },
        ]),
      ),
    ).toBe('ERR_STATS_OP_UNKNOWN')
  })

  it('every op of the spec is in the table', () => {
    expect([...opNames].sort()).toEqual(
      [
        'sum',
        'avg',
        'cnt',
        'obj_concat',
        'arr_concat',
        'nested_obj_concat',
        'alerts_aggr',
        'alerts_group_cnt',
        'array_obj_calc',
        'group',
        'group_sum',
        'group_avg',
        'group_cnt',
        'group_max',
        'group_multiple_stats',
      ].sort(),
    )
    expect(typeof ops.avg.tally).toBe('function')
    expect(ops.sum.tally).toBeUndefined()
    expect(ops.sum.calc({ op: 'sum', src: 'v' }, undefined, { v: 2 })).toEqual({ res: 2 })
  })

  it('parses dots, brackets and quoted keys', () => {
    expect(parsePath('a.b.c')).toEqual(['a', 'b', 'c'])
    expect(parsePath('a[0].b')).toEqual(['a', '0', 'b'])
    expect(parsePath('o["x-y"]')).toEqual(['o', 'x-y'])
    expect(parsePath("o['x\\'y'].$z._w")).toEqual(['o', "x'y", '$z', '_w'])
    expect(parsePath('o["\\u0041\\n"]')).toEqual(['o', 'A\n'])
    expect(parsePath(' a . b [ 1 ] ')).toEqual(['a', 'b', '1'])
    expect(parsePath('a?.b?.[2]')).toEqual(['a', 'b', '2'])
  })

  it('malformed paths throw ERR_STATS_PATH_INVALID naming the path; nothing is evaluated', () => {
    for (const path of [
      'a..b',
      '[0].a',
      'a.',
      'a[',
      'a[01]',
      'a[-1]',
      'a[b]',
      'a["x]',
      'a.0',
      'a;b',
      'a()',
      'a.b=1',
      '1a',
    ]) {
      let caught: unknown
      try {
        compilePath(path)
      } catch (error) {
        caught = error
      }
      expect(isOrkError(caught, 'ERR_STATS_PATH_INVALID')).toBe(true)
      expect((caught as { details: { path: string } }).details.path).toBe(path)
    }
    const marker = globalThis as { statsPathProbe?: number }
    expect(codeOf(() => getVal({}, 'constructor.constructor("globalThis.statsPathProbe = 1")()'))).toBe(
      'ERR_STATS_PATH_INVALID',
    )
    expect(marker.statsPathProbe).toBeUndefined()
  })

  it('cnt never reads src, so a malformed src there is no error (as upstream)', () => {
    expect(aggregate({ c: { op: 'cnt', src: 'a..b' } }, [{}])).toEqual({ c: 1 })
  })

  it('getVal follows the reference rules', () => {
    const entry = { a: [{ b: 2 }], s: 'text', n: null }
    expect(getVal(entry, 'a[0].b')).toBe(2)
    expect(getVal(entry, 's.length')).toBe(4)
    expect(getVal(entry, 'n.x')).toBeUndefined()
    expect(getVal(null, 'a')).toBeUndefined()
    expect(getVal(entry, '')).toBeNull()
    expect(getVal(entry, null)).toBeNull()
    expect(getVal(entry, 5 as unknown as string)).toBeNull()
    expect(getVal(entry, (value: typeof entry) => value.s)).toBe('text')
    expect(getVal({ a: { b: { c: { d: { e: { f: 6 } } } } } }, 'a.b.c.d.e.f')).toBe(6)
    expect(groupBy('kind')({}, undefined)).toBeNull()
    expect(groupBy('kind')({ kind: 'entry' }, { kind: 'ext' })).toBe('ext')
  })

  it('a plan follows changes of an op spec', () => {
    const state: StatsState = { ops: { s: { op: 'sum', src: 'a' } } }
    const pack: Record<string, unknown> = {}
    applyStats(state, pack, { a: 1, b: 10 })
    ;(state.ops.s as OpSpec).src = 'b'
    applyStats(state, pack, { a: 1, b: 10 })
    tallyStats(state, pack)
    expect(pack).toEqual({ s: 11 })
  })
})

// `sum` adds with `+` as the reference does, so an object whose toString or valueOf is not a
// function throws there (in the reference too); such objects are not what racks send.
const jsonValue = fc
  .jsonValue({ maxDepth: 3 })
  .filter((value) => !/"(toString|valueOf)":/.test(JSON.stringify(value) ?? ''))
const entryArbitrary = fc.oneof(
  fc.record({ v: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constant(null), fc.string({ maxLength: 3 })) }),
  fc.record({ v: fc.array(jsonValue, { maxLength: 3 }) }),
  fc.constant(null),
  fc.constant({}),
)

function applyAll(opsByKey: Record<string, OpSpec>, entries: unknown[]): Record<string, unknown> {
  const state: StatsState = { ops: opsByKey }
  const pack: Record<string, unknown> = {}
  for (const entry of entries) applyStats(state, pack, entry)
  return pack
}

describe('laws (property-based)', () => {
  it('sum, cnt and arr_concat of a list equal the combination of its parts', () => {
    const lawOps = { s: { op: 'sum', src: 'v' }, c: { op: 'cnt' }, r: { op: 'arr_concat', src: 'v' } }
    fc.assert(
      fc.property(fc.array(entryArbitrary, { maxLength: 30 }), fc.nat(30), (entries, cut) => {
        const split = Math.min(cut, entries.length)
        const whole = aggregate(lawOps, structuredClone(entries))
        const left = aggregate(lawOps, structuredClone(entries.slice(0, split)))
        const right = aggregate(lawOps, structuredClone(entries.slice(split)))
        const combinedSum = ((left.s as number | undefined) ?? 0) + ((right.s as number | undefined) ?? 0)
        if (entries.length > 0) {
          expect(
            Object.is(whole.s, combinedSum) ||
              whole.s === combinedSum ||
              (Number.isNaN(whole.s) && Number.isNaN(combinedSum)),
          ).toBe(true)
          expect(whole.c).toBe(((left.c as number | undefined) ?? 0) + ((right.c as number | undefined) ?? 0))
          expect(whole.r).toEqual([...((left.r as unknown[]) ?? []), ...((right.r as unknown[]) ?? [])])
        }
      }),
    )
  })

  it('arr_concat equals res = res.concat(val) value after value, and never changes a caller array', () => {
    const values = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.string(),
      fc.array(fc.oneof(fc.integer(), fc.array(fc.integer()))),
    )
    fc.assert(
      fc.property(fc.array(values, { minLength: 1, maxLength: 40 }), (list) => {
        const entries = list.map((v) => ({ v }))
        const before = structuredClone(entries)
        let expected: unknown[] = []
        for (const value of list) if (value !== null) expected = expected.concat(value)
        expect(aggregate({ r: { op: 'arr_concat', src: 'v' } }, entries).r).toEqual(expected)
        expect(entries).toEqual(before)
      }),
    )
    // array_obj_calc seeds the accumulator with the first object's own array; later values must not grow it.
    const first = { list: [1] }
    const items = [first, { list: [2] }, { list: 3 }, { list: [4, 5] }]
    const objOps = [{ src: 'list', op: 'arr_concat' }]
    expect(aggregate({ x: { op: 'array_obj_calc', src: 'items', objOps } }, [{ items }])).toEqual({
      x: { list: [1, 2, 3, 4, 5] },
    })
    expect(first.list).toEqual([1])
  })

  it('sum over integers is the sum of the parts, in any split', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 50 }), fc.nat(50), (values, cut) => {
        const entries = values.map((v) => ({ v }))
        const split = Math.min(cut, entries.length)
        const total = (list: unknown[]) =>
          (aggregate({ s: { op: 'sum', src: 'v' } }, list).s as number | undefined) ?? 0
        expect(total(entries)).toBe(total(entries.slice(0, split)) + total(entries.slice(split)))
      }),
    )
  })

  it('results survive a JSON round trip for every JSON-safe op', () => {
    const allOps: Record<string, OpSpec> = {
      s: { op: 'sum', src: 'v' },
      a: { op: 'avg', src: 'v' },
      c: { op: 'cnt' },
      o: { op: 'obj_concat', src: 'o' },
      r: { op: 'arr_concat', src: 'v' },
      al: { op: 'alerts_aggr', src: 'o' },
    }
    const finite = fc.record({
      v: fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.constant(null)),
      o: fc.dictionary(fc.constantFrom('x', 'y', 'z'), fc.integer({ min: 0, max: 100 })),
    })
    fc.assert(
      fc.property(fc.array(finite, { maxLength: 20 }), (entries) => {
        const pack = aggregate(allOps, entries)
        expect(JSON.parse(JSON.stringify(pack))).toEqual(pack)
      }),
    )
  })

  it('applyStatsBatch equals applyStats entry by entry', () => {
    const batchOps: Record<string, OpSpec> = {
      s: { op: 'sum', src: 'v' },
      a: { op: 'avg', src: 'v' },
      c: { op: 'cnt' },
      r: { op: 'arr_concat', src: 'v' },
    }
    fc.assert(
      fc.property(fc.array(entryArbitrary, { maxLength: 600 }), (entries) => {
        const one = applyAll(batchOps, structuredClone(entries))
        const batch: Record<string, unknown> = {}
        applyStatsBatch({ ops: batchOps }, batch, structuredClone(entries))
        expect(batch).toEqual(one)
      }),
      { numRuns: 50 },
    )
  })
})
