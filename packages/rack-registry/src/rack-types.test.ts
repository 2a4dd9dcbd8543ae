import { describe, expect, it } from 'vitest'
import { baseTypeOf, matchesTypeFamily, matchesTypePrefix } from './rack-types.ts'

describe('type matching', () => {
  it('listRacks prefix also matches longer words (Q9)', () => {
    expect(matchesTypePrefix('minerpool', 'miner')).toBe(true)
    expect(matchesTypePrefix('miner-am-s19', 'miner')).toBe(true)
    expect(matchesTypePrefix('wrk-miner-s19', 'wrk-miner')).toBe(true)
    expect(matchesTypePrefix('wrk-container', 'wrk-miner')).toBe(false)
    expect(matchesTypePrefix('anything', '')).toBe(true)
  })

  it('fan-out family matches the type and its dash subtypes only', () => {
    expect(matchesTypeFamily('miner', 'miner')).toBe(true)
    expect(matchesTypeFamily('miner-am-s19', 'miner')).toBe(true)
    expect(matchesTypeFamily('minerpool', 'miner')).toBe(false)
    expect(matchesTypeFamily('miner', 'miner-am')).toBe(false)
    expect(matchesTypeFamily('miner-am-s19', 'miner-am')).toBe(true)
  })

  it('non-string stored types match nothing instead of throwing', () => {
    expect(matchesTypePrefix(42, '')).toBe(false)
    expect(matchesTypeFamily(undefined, 'miner')).toBe(false)
  })

  it('base type is the text before the first dash', () => {
    expect(baseTypeOf('miner-am-s19xp')).toBe('miner')
    expect(baseTypeOf('wrk-miner-s19')).toBe('wrk')
    expect(baseTypeOf('container')).toBe('container')
    expect(baseTypeOf('-x')).toBe('')
    expect(baseTypeOf('miner-am-s19xp')).toBe('miner-am-s19xp'.split('-')[0])
  })
})
