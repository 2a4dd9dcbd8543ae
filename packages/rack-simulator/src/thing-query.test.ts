import { describe, expect, it } from 'vitest'
import { queryIdCandidates } from './thing-query.ts'

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
