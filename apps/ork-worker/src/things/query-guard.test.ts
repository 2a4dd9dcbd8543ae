import { describe, expect, it } from 'vitest'
import { assertSafeQuery, MAX_QUERY_DEPTH } from './query-guard.ts'

describe('assertSafeQuery', () => {
  it('lets ordinary queries, projections and pipelines through', () => {
    expect(() => assertSafeQuery({ 'info.container': { $in: ['a', 'b'] }, $or: [{ type: 'miner' }] })).not.toThrow()
    expect(() => assertSafeQuery([{ $unwind: '$workers' }, { $group: { _id: null } }])).not.toThrow()
    expect(() => assertSafeQuery(undefined)).not.toThrow()
  })

  it.each(['$where', '$function', '$accumulator'])('refuses %s at any depth', (operator) => {
    expect(() => assertSafeQuery({ [operator]: 'return true' })).toThrow('ERR_QUERY_INVALID')
    expect(() => assertSafeQuery({ $and: [{ a: 1 }, { nested: { [operator]: {} } }] })).toThrow('ERR_QUERY_INVALID')
  })

  it('refuses regexes that backtrack catastrophically, in queries and in expressions', () => {
    expect(() => assertSafeQuery({ code: { $regex: '^AM-S19', $options: 'i' } })).not.toThrow()
    expect(() => assertSafeQuery({ votesPos: { $regex: '^(.*?){12}!$' } })).toThrow('ERR_QUERY_INVALID')
    expect(() => assertSafeQuery({ $or: [{ a: { $not: { $regex: '(a+)+$' } } }] })).toThrow('ERR_QUERY_INVALID')
    expect(() => assertSafeQuery({ f: { $elemMatch: { name: { $regex: '(x?){20}' } } } })).toThrow('ERR_QUERY_INVALID')
    expect(() => assertSafeQuery({ $expr: { $regexMatch: { input: '$code', regex: '(a+)+' } } })).toThrow(
      'ERR_QUERY_INVALID',
    )
  })

  it('refuses absurd nesting instead of overflowing the stack', () => {
    let deep: Record<string, unknown> = {}
    for (let level = 0; level < MAX_QUERY_DEPTH + 5; level++) deep = { a: deep }
    expect(() => assertSafeQuery(deep)).toThrow('ERR_QUERY_INVALID')
  })

  it('takes exactly MAX_QUERY_DEPTH nested objects or arrays, not one more', () => {
    const nested = (levels: number, wrap: (inner: unknown) => unknown) => {
      let value: unknown = {}
      for (let level = 1; level < levels; level++) value = wrap(value)
      return value
    }
    for (const wrap of [(inner: unknown) => ({ a: inner }), (inner: unknown) => [inner]]) {
      expect(() => assertSafeQuery(nested(MAX_QUERY_DEPTH, wrap))).not.toThrow()
      expect(() => assertSafeQuery(nested(MAX_QUERY_DEPTH + 1, wrap))).toThrow('ERR_QUERY_INVALID')
    }
  })
})
