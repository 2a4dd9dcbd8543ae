import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyStats, applyStatsBatch, type OpSpec, type StatsPack, type StatsState, tallyStats } from './index.ts'

/** JSON text that also tells `-0`, `NaN`, `±Infinity` and `undefined` apart, and keeps key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item) => {
    if (item === undefined) return '#undefined'
    if (typeof item === 'number' && (Object.is(item, -0) || !Number.isFinite(item))) {
      return Object.is(item, -0) ? '#-0' : `#${item}`
    }
    if (typeof item === 'function') return `#function ${item.name}`
    return item
  })
}

type Outcome = { pack: string; entries: string } | { threw: true }

/** The reference behaviour: applyStats entry after entry (never fused). */
function perEntry(opsByKey: Record<string, OpSpec>, pack: StatsPack, entries: unknown[]): Outcome {
  const state: StatsState = { ops: opsByKey }
  try {
    for (const entry of entries) applyStats(state, pack, entry)
  } catch {
    return { threw: true }
  }
  return { pack: canonical(pack), entries: canonical(entries) }
}

function batched(opsByKey: Record<string, OpSpec>, pack: StatsPack, entries: unknown[]): Outcome {
  try {
    applyStatsBatch({ ops: opsByKey }, pack, entries)
  } catch {
    return { threw: true }
  }
  return { pack: canonical(pack), entries: canonical(entries) }
}

/** Both ways on separate deep copies (aliasing inside the entries kept); a throw must be a throw both ways. */
function expectSameAsPerEntry(opsByKey: Record<string, OpSpec>, entries: unknown[], seed?: () => StatsPack): void {
  const expected = perEntry(opsByKey, seed?.() ?? {}, structuredClone(entries))
  const actual = batched(opsByKey, seed?.() ?? {}, structuredClone(entries))
  expect(actual).toEqual(expected)
}

const keys = ['a', 'b', 'c', '0'] as const
const leaf = fc.oneof(
  fc.integer({ min: -50, max: 50 }),
  fc.double({ noDefaultInfinity: true, noNaN: true, min: -1e3, max: 1e3 }),
  fc.constantFrom(null, 0, -0, '', '7', 'x', '0.5', true, false, Number.NaN),
  fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('x', 'y'), fc.integer({ min: 0, max: 9 }), { maxKeys: 2 }),
)
const { node } = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.dictionary(fc.constantFrom(...keys), tie('node'), { maxKeys: 3 }),
    fc.array(tie('node'), { maxLength: 2 }),
  ),
}))
const entry = fc.oneof(node, fc.dictionary(fc.constantFrom(...keys), node, { maxKeys: 4 }))
const path = fc
  .array(fc.constantFrom(...keys), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.map((part, index) => (part === '0' ? '[0]' : index === 0 ? part : `.${part}`)).join(''))
  .filter((text) => !text.startsWith('['))
const fusableOp = fc.record({
  op: fc.constantFrom('sum', 'avg', 'cnt', 'obj_concat', 'arr_concat', 'alerts_aggr'),
  src: fc.oneof({ weight: 6, arbitrary: path }, fc.constantFrom(null, '', 5)),
})
const plan = fc
  .array(fusableOp, { minLength: 1, maxLength: 6 })
  .map((list) => Object.fromEntries(list.map((spec, index) => [`k${index}`, spec as OpSpec])))

describe('fused applyStatsBatch (shared path prefixes)', () => {
  it('equals applyStats entry by entry for any plan of fusable ops over overlapping paths', () => {
    fc.assert(
      fc.property(plan, fc.array(entry, { maxLength: 40 }), (opsByKey, entries) => {
        expectSameAsPerEntry(opsByKey, entries)
      }),
      { numRuns: 400 },
    )
  })

  it('large plans (17 to 24 ops, one generated loop) also equal applyStats entry by entry', () => {
    const largePlan = fc
      .array(fusableOp, { minLength: 17, maxLength: 24 })
      .map((list) => Object.fromEntries(list.map((spec, index) => [`k${index}`, spec as OpSpec])))
    fc.assert(
      fc.property(largePlan, fc.array(entry, { maxLength: 300 }), (opsByKey, entries) => {
        expectSameAsPerEntry(opsByKey, entries)
      }),
      { numRuns: 60 },
    )
  })

  it('equals applyStats entry by entry when continuing a pack already folded entry by entry', () => {
    fc.assert(
      fc.property(
        plan,
        fc.array(entry, { maxLength: 20 }),
        fc.array(entry, { maxLength: 20 }),
        (opsByKey, head, tail) => {
          const seed = () => {
            const pack: StatsPack = {}
            perEntry(opsByKey, pack, structuredClone(head))
            return pack
          }
          expectSameAsPerEntry(opsByKey, tail, seed)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('reads deep paths sharing long prefixes like applyStats (chains longer than the pooled edges)', () => {
    const opsByKey: Record<string, OpSpec> = {
      deep: { op: 'sum', src: 'a.b.c.d.e.f' },
      sibling: { op: 'avg', src: 'a.b.c.d.e.g' },
      middle: { op: 'obj_concat', src: 'a.b.c.d' },
      list: { op: 'arr_concat', src: 'a.b.c.d.e.h' },
      fourth: { op: 'sum', src: 'a["b"].c[0].x' },
    }
    const deep = (f: unknown, g: unknown, h: unknown) => ({ a: { b: { c: { d: { e: { f, g, h } } } } } })
    const entries = [
      deep(1, 2, [3]),
      deep('4', null, 0),
      { a: { b: { c: [{ x: 5 }] } } },
      { a: { b: null } },
      deep(Number.NaN, '', undefined),
      7,
    ]
    expectSameAsPerEntry(opsByKey, entries)
  })

  it('resolves a shared prefix once per entry (a getter on it runs once, not once per op)', () => {
    let reads = 0
    const sample = {
      get last() {
        reads++
        return { x: 1, y: { z: 2 }, w: [3] }
      },
    }
    const opsByKey: Record<string, OpSpec> = {
      x: { op: 'sum', src: 'last.x' },
      z: { op: 'avg', src: 'last.y.z' },
      w: { op: 'arr_concat', src: 'last.w' },
      n: { op: 'cnt' },
    }
    const pack: StatsPack = {}
    applyStatsBatch({ ops: opsByKey }, pack, [sample, sample])
    expect(reads).toBe(2)
    tallyStats({ ops: opsByKey }, pack)
    expect(pack).toEqual({ x: 2, z: 2, w: [3, 3], n: 2 })

    // Entry by entry, every op walks its own path.
    reads = 0
    const onePack: StatsPack = {}
    applyStats({ ops: opsByKey }, onePack, sample)
    expect(reads).toBe(3)
  })

  it('an op that writes into the entry is seen through a shared prefix by the ops after it', () => {
    // alerts_group_cnt writes severity: 'medium' into the alerts; the ops after it read the
    // same objects through the shared prefix last.alerts and must see the write, as upstream.
    const opsByKey: Record<string, OpSpec> = {
      before: { op: 'obj_concat', src: 'last.alerts[0]' },
      groups: { op: 'alerts_group_cnt', src: 'last.alerts' },
      after: { op: 'obj_concat', src: 'last.alerts[0]' },
      all: { op: 'arr_concat', src: 'last.alerts' },
      severities: { op: 'alerts_aggr', src: 'last.counts' },
    }
    const entries = [
      { last: { alerts: [{ name: 'hot' }, { name: 'fan', severity: 'high' }], counts: { a: 1 } } },
      { last: { alerts: [{ name: 'cold' }], counts: { a: 2 } } },
      null,
      { last: { alerts: [] } },
    ]
    expectSameAsPerEntry(opsByKey, entries)
    const pack: StatsPack = {}
    const copy = structuredClone(entries)
    applyStatsBatch({ ops: opsByKey }, pack, copy)
    tallyStats({ ops: opsByKey }, pack)
    expect(pack.before).toEqual({ name: 'hotcold' })
    expect(pack.after).toEqual({ name: 'hotcold', severity: 'mediummedium' })
    expect(copy[0]?.last.alerts[0]).toEqual({ name: 'hot', severity: 'medium' })
  })

  it('nested_obj_concat mutating an object that later entries share is seen by the other ops', () => {
    const shared = { hashrate: { avg: 1 }, power: 5 }
    const entries = [
      { last: { snap: { stats: shared } } },
      { last: { snap: { stats: { hashrate: { avg: 2 }, power: 7 } } } },
      { last: { snap: { stats: shared } } },
    ]
    const opsByKey: Record<string, OpSpec> = {
      nested: { op: 'nested_obj_concat', src: 'last.snap', nestedOps: [{ op: 'sum', src: 'power' }] },
      power: { op: 'sum', src: 'last.snap.stats.power' },
      stats: { op: 'obj_concat', src: 'last.snap.stats' },
    }
    expectSameAsPerEntry(opsByKey, entries)
  })

  it('declines accumulators it cannot hold exactly and gives the per-entry result', () => {
    const opsByKey: Record<string, OpSpec> = {
      s: { op: 'sum', src: 'v' },
      t: { op: 'sum', src: 'w' },
      a: { op: 'avg', src: 'v' },
      c: { op: 'cnt' },
      o: { op: 'obj_concat', src: 'o' },
      l: { op: 'alerts_aggr', src: 'o' },
    }
    // The second list adds nothing but zeros: -0 + 0 is +0 entry by entry.
    const lists = [
      [{ v: null, w: 0, o: { x: 1 } }, { v: 2 }, null, { v: '' }],
      [{ v: null }, {}, { v: 0 }],
    ]
    const seeds: (() => StatsPack)[] = [
      () => ({ s: { res: -0 } }),
      () => ({ s: { res: 'text' } }),
      () => ({ s: { res: Number.NaN } }),
      () => ({ a: { acc: 1, cnt: 0.5, res: 0 } }),
      () => ({ a: { acc: -0, cnt: 0, res: 0 } }),
      () => ({ c: { res: Number.MAX_SAFE_INTEGER } }),
      () => ({ c: { res: '3' } }),
      () => {
        const accumulator = { res: 1 }
        return { s: accumulator, t: accumulator }
      },
      () => {
        const result = {}
        return { o: { res: result }, l: { res: result } }
      },
      () => ({ s: 1 }),
    ]
    for (const entries of lists) for (const seed of seeds) expectSameAsPerEntry(opsByKey, entries, seed)
  })

  it('refuses op keys every object inherits, on both paths', () => {
    for (const key of ['toString', 'constructor', '__proto__']) {
      const ops = JSON.parse(`{"${key}": {"op": "sum", "src": "v"}}`)
      expect(() => applyStats({ ops }, {}, { v: 1 })).toThrow('ERR_STATS_OP_KEY_INVALID')
      expect(() => applyStatsBatch({ ops }, {}, [{ v: 1 }])).toThrow('ERR_STATS_OP_KEY_INVALID')
    }
    expect(Object.hasOwn(Object.prototype, 'res')).toBe(false)
  })

  it('an entry calling back into the same plan while being read gives the per-entry result', () => {
    const state: StatsState = { ops: { s: { op: 'sum', src: 'last.v' }, n: { op: 'cnt' } } }
    const inner: StatsPack = {}
    const sample = {
      get last() {
        applyStatsBatch(state, inner, [{ last: { v: 10 } }])
        return { v: 1 }
      },
    }
    const outer: StatsPack = {}
    applyStatsBatch(state, outer, [sample, { last: { v: 2 } }])
    tallyStats(state, outer)
    tallyStats(state, inner)
    expect(outer).toEqual({ s: 3, n: 2 })
    expect(inner).toEqual({ s: 10, n: 1 })
  })

  it('follows a filter added to an op spec after its plan was compiled', () => {
    const state: StatsState = { ops: { s: { op: 'sum', src: 'v' } } }
    const pack: StatsPack = {}
    applyStatsBatch(state, pack, [{ v: 1 }, { v: 2 }])
    ;(state.ops.s as OpSpec).filter = (sample) => sample.v > 2
    applyStatsBatch(state, pack, [{ v: 2 }, { v: 3 }])
    tallyStats(state, pack)
    expect(pack).toEqual({ s: 6 })
  })
})
