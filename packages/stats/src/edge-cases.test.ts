import { afterEach, describe, expect, it } from 'vitest'
import { applyStats, applyStatsBatch, groupBy, type StatsPack, tallyStats } from './index.ts'

/**
 * Edge cases the recorded vectors do not cover. Rack replies are network input: keys taken from
 * them (`__proto__`, `constructor`) must never reach objects shared by the whole process (the
 * reference changed `Object.prototype` here). Plans and the op-after-op path must give what
 * applyStats gives.
 */
const sharedObjects = [Object.prototype, Object, Function.prototype]
const NAMES = ['polluted', 'acc', 'cnt', 'res']
/** Names the tests write that ended up on an object every other object shares. */
const pollution = () => NAMES.filter((name) => sharedObjects.some((shared) => Object.hasOwn(shared, name)))

afterEach(() => {
  for (const shared of sharedObjects)
    for (const name of ['polluted', 'acc', 'cnt', 'res']) delete (shared as never)[name]
})

describe('keys from the data', () => {
  it('nested_obj_concat merges neither into __proto__ nor into inherited constructor.prototype', () => {
    const ops = { n: { op: 'nested_obj_concat', src: 'v', nestedOps: [{ src: 'polluted', op: 'sum' }] } }
    const pack: StatsPack = {}
    for (const text of [
      '{"v":{"constructor":{"prototype":{"polluted":5}}}}',
      '{"v":{"constructor":{"prototype":{"polluted":5}}}}',
      '{"v":{"__proto__":{"polluted":5}}}',
      '{"v":{"__proto__":{"polluted":5}}}',
    ]) {
      applyStats({ ops }, pack, JSON.parse(text))
    }
    expect(pollution()).toEqual([])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    // `constructor` is an ordinary group of the data here
    expect(pack.n.res.constructor).toEqual({ prototype: { polluted: 10 } })
  })

  it('group ops keep `__proto__` out and treat `constructor` as an ordinary group', () => {
    const ops = { g: { op: 'group_avg', src: 'v', group: groupBy('type') } }
    const pack: StatsPack = {}
    for (const type of ['__proto__', 'constructor', 'constructor']) applyStats({ ops }, pack, { v: 4 }, { type })
    tallyStats({ ops }, pack)
    expect(pollution()).toEqual([])
    expect(pack).toEqual({ g: { constructor: 4 } })
  })

  it('a nested sub-object missing from the accumulated one is a coded error', () => {
    const ops = { n: { op: 'nested_obj_concat', src: 'v', nestedOps: [{ src: 'a', op: 'sum' }] } }
    const pack: StatsPack = {}
    applyStats({ ops }, pack, { v: { g: { a: 1 } } })
    expect(() => applyStats({ ops }, pack, { v: { g: { s: { a: 1 } } } })).toThrow('ERR_STATS_VALUE_INVALID')
  })
})

describe('compiled plans', () => {
  it('follow an op spec object replaced under the same key', () => {
    const ops: Record<string, { op: string; src: string }> = { x: { op: 'sum', src: 'v' } }
    const first: StatsPack = {}
    applyStats({ ops }, first, { v: 2, w: 10 })
    ops.x = { op: 'sum', src: 'w' }
    const second: StatsPack = {}
    applyStats({ ops }, second, { v: 2, w: 10 })
    tallyStats({ ops }, second)
    expect(second).toEqual({ x: 10 })
  })
})

describe('applyStatsBatch of a large plan (17 ops)', () => {
  it('folds entry after entry when two keys share one accumulator, as applyStats', () => {
    const ops: Record<string, { op: string; src?: string }> = {
      a: { op: 'obj_concat', src: 'x' },
      b: { op: 'obj_concat', src: 'y' },
    }
    for (let index = 0; index < 15; index++) ops[`c${index}`] = { op: 'cnt' }
    const entries = [
      { x: { k: '1' }, y: { k: '2' } },
      { x: { k: '3' }, y: { k: '4' } },
    ]
    const shared = { res: {} }
    const batched: StatsPack = { a: shared, b: shared }
    applyStatsBatch({ ops }, batched, entries)
    const sharedPerEntry = { res: {} }
    const perEntry: StatsPack = { a: sharedPerEntry, b: sharedPerEntry }
    for (const entry of entries) applyStats({ ops }, perEntry, entry)
    expect(shared.res).toEqual({ k: '1234' })
    expect(batched).toEqual(perEntry)
  })
})
