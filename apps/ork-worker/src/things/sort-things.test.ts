import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sortThingsInPlace } from './sort-things.ts'

interface SortCase {
  name: string
  sort: Record<string, unknown>
  things: { id: string }[]
  expectedIds: string[]
}

const vectors = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../../../fixtures/reference/sort-vectors.json'), 'utf8'),
) as { cases: SortCase[] }

describe('sortThingsInPlace matches the reference on every recorded vector', () => {
  it.each(vectors.cases.map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
    const things = structuredClone(entry.things)
    sortThingsInPlace(things, entry.sort)
    expect(things.map((thing) => thing.id)).toEqual(entry.expectedIds)
  })

  it('has vectors to check', () => {
    expect(vectors.cases.length).toBeGreaterThan(100)
  })
})

describe('sortThingsInPlace edges', () => {
  it('leaves the order alone without a sort', () => {
    const things = [{ id: 'b' }, { id: 'a' }]
    expect(sortThingsInPlace(things, undefined).map((thing) => thing.id)).toEqual(['b', 'a'])
  })

  it('orders names naturally and puts undefined last in both directions', () => {
    const things = [{ code: 'miner-10' }, {}, { code: 'miner-2' }]
    expect(sortThingsInPlace([...things], { code: 1 })).toEqual([{ code: 'miner-2' }, { code: 'miner-10' }, {}])
    expect(sortThingsInPlace([...things], { code: -1 })).toEqual([{ code: 'miner-10' }, { code: 'miner-2' }, {}])
  })
})
