import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compareThings } from '@ork/rack-simulator'
import fc from 'fast-check'
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

describe('sortThingsInPlace against the reference comparator on random things', () => {
  // Values that reach every branch: digit and non-digit runs, whitespace-only runs (numeric 0),
  // Infinity spellings, digit runs too long for exact integers, case, accents, non-ASCII spaces.
  const piece = fc.constantFrom(
    'miner',
    'Miner',
    'am-s19xp',
    '-',
    ' ',
    '\t',
    '\u00a0',
    '\u3000',
    'Infinity',
    '+Infinity',
    '-Infinity',
    'I',
    'é',
    'e',
    'x.',
    '0',
    '7',
    '10',
    '0001',
    '12345678901234567890',
    '9'.repeat(400),
    '',
  )
  const text = fc.array(piece, { maxLength: 5 }).map((parts) => parts.join(''))
  const value = fc.oneof(
    { weight: 6, arbitrary: text },
    fc.integer({ min: -20, max: 20 }),
    fc.double({ noNaN: false }),
    fc.constantFrom(null, true, false, 0, '', undefined),
  )
  const thing = fc.record(
    { code: value, info: fc.oneof(fc.record({ pos: value }), fc.constantFrom(null, 0, '')) },
    { requiredKeys: [] },
  )
  const order = fc.constantFrom<unknown>(1, -1, '-1', 2, 0, Number.NaN, 'x')
  const sort = fc.oneof(
    fc.record({ code: order }),
    fc.record({ 'info.pos': order, code: order }),
    fc.record({ code: order, 'info.pos': order }),
  )

  it('orders like things.sort((a, b) => sortThings(a, b, sort))', () => {
    fc.assert(
      fc.property(fc.array(thing, { maxLength: 40 }), sort, (things, spec) => {
        const indexed = things.map((entry, id) => ({ ...entry, id }))
        const expected = [...indexed].sort((a, b) => compareThings(a, b, spec as Record<string, unknown>))
        const actual = sortThingsInPlace([...indexed], spec)
        expect(actual.map((entry) => entry.id)).toEqual(expected.map((entry) => entry.id))
      }),
      { numRuns: 3000 },
    )
  })

  it('orders non-object items (a rack replying null or a number adds it as one item) like the reference', () => {
    // Compared by value: items equal in value may swap places without any visible difference.
    const item = fc.oneof(thing, fc.constantFrom(null, 0, 7, 'miner-2', true))
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), sort, (items, spec) => {
        const expected = [...items].sort((a, b) => compareThings(a, b, spec as Record<string, unknown>))
        expect(sortThingsInPlace([...items], spec)).toEqual(expected)
      }),
      { numRuns: 1000 },
    )
  })
})
