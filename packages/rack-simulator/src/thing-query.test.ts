import { describe, expect, it } from 'vitest'
import { applyThingFilters, compareThings, queryIdCandidates } from './thing-query.ts'

describe('queryIdCandidates', () => {
  it('reads ids a query requires at its top level', () => {
    expect(queryIdCandidates({ id: 'a' })).toEqual(['a'])
    expect(queryIdCandidates({ id: { $eq: 'a' }, code: 'x' })).toEqual(['a'])
    expect(queryIdCandidates({ id: { $in: ['a', 'b'] } })).toEqual(['a', 'b'])
  })

  it('scans everything when the ids are not plain string equality', () => {
    for (const query of [
      undefined,
      null,
      {},
      [],
      { code: 'x' },
      { $or: [{ id: 'a' }] },
      { id: { $ne: 'a' } },
      { id: { $in: ['a', 1] } },
      { id: { $in: ['a'], $ne: 'b' } },
      { id: 3 },
      { id: /a/ },
      { id: ['a'] },
      { id: null },
      Object.create({ id: 'a' }),
    ]) {
      expect(queryIdCandidates(query)).toBeNull()
    }
  })
})

describe('compareThings (the rack natural sorter)', () => {
  const sortBy = (documents: Record<string, unknown>[], sort: Record<string, unknown>) =>
    applyThingFilters(documents, { sort, limit: 100 })

  it('compares digit runs as numbers: 1-9 before 1-10', () => {
    const things = [{ pos: '1-10' }, { pos: '1-9' }, { pos: '2-1' }]
    expect(sortBy(things, { pos: 1 }).map((thing) => thing.pos)).toEqual(['1-9', '1-10', '2-1'])
    expect(sortBy(things, { pos: -1 }).map((thing) => thing.pos)).toEqual(['2-1', '1-10', '1-9'])
  })

  it('puts things without the key last, in either order', () => {
    const things = [{ id: 'a' }, { id: 'b', code: 'X-2' }, { id: 'c', code: 'X-1' }]
    expect(sortBy(things, { code: 1 }).map((thing) => thing.id)).toEqual(['c', 'b', 'a'])
    expect(sortBy(things, { code: -1 }).map((thing) => thing.id)).toEqual(['b', 'c', 'a'])
  })

  it('breaks ties with the next key', () => {
    const things = [
      { id: 'a', container: 'c1', pos: '2' },
      { id: 'b', container: 'c1', pos: '1' },
      { id: 'c', container: 'c0', pos: '9' },
    ]
    expect(compareThings(things[0], things[1], { container: 1, pos: 1 })).toBeGreaterThan(0)
    expect(sortBy(things, { container: 1, pos: 1 }).map((thing) => thing.id)).toEqual(['c', 'b', 'a'])
  })

  it('takes limit 0 as a limit: nothing', () => {
    // the rack checks limit with isNil, not truthiness
    expect(applyThingFilters([{ id: 'a' }], { limit: 0 })).toEqual([])
  })
})
