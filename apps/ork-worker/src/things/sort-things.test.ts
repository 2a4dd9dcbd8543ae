import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compareThings } from '@ork/rack-simulator'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KeyTokens } from './key-tokens.ts'
import { rankedOrder, sortThingsInPlace } from './sort-things.ts'

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

describe('sortThingsInPlace without comparisons (values with one kind of run per position)', () => {
  // Codes as sites name devices: text and digit runs alternating from the same kind, of any
  // length; collator ties (case, accents), leading zeros (numeric ties), digit runs too long
  // to rank as themselves, empty values, and things without the key.
  // 'e\u0301' ties with 'é' and 'Z\u0000' with 'Z' under the collator.
  const textRun = fc.constantFrom(
    'AM-S',
    'am-s',
    'WM-M',
    'XP-',
    'xp-',
    'é',
    'e\u0301',
    'e',
    'E',
    '.',
    '-',
    'Z',
    'Z\u0000',
  )
  const digitRun = fc.oneof(
    fc.integer({ min: 0, max: 120 }).map(String),
    fc.constantFrom('0001', '01', '1', '00', '12345678901234567890', '9007199254740993', '100000000'),
  )
  const code = (startWithText: boolean) =>
    fc.array(fc.tuple(textRun, digitRun), { maxLength: 3 }).map((pairs) => {
      const runs = pairs.flatMap(([text, digits]) => (startWithText ? [text, digits] : [digits, text]))
      return runs.slice(0, runs.length - (runs.length > 0 && pairs.length % 2 === 1 ? 1 : 0)).join('')
    })
  const thing = fc.record(
    { code: code(true), info: fc.record({ pos: code(false) }, { requiredKeys: [] }) },
    { requiredKeys: [] },
  )
  const order = fc.constantFrom(1, -1)
  const sort = fc.oneof(
    fc.record({ code: order }),
    fc.record({ 'info.pos': order }),
    fc.record({ code: order, 'info.pos': order }),
    fc.record({ 'info.pos': order, code: order }),
  )

  it('takes the counting sort and orders like the reference comparator', () => {
    fc.assert(
      fc.property(fc.array(thing, { maxLength: 60 }), sort, (things, spec) => {
        const keys = Object.entries(spec).map(([key, value]) => ({ path: key.split('.'), order: value }))
        const tokens = keys.map(({ path }) => new KeyTokens(things, path))
        expect(rankedOrder(tokens, keys, things.length)).not.toBeNull()
        const indexed = things.map((entry, id) => ({ ...entry, id }))
        const expected = [...indexed].sort((a, b) => compareThings(a, b, spec))
        const actual = sortThingsInPlace([...indexed], spec)
        expect(actual.map((entry) => entry.id)).toEqual(expected.map((entry) => entry.id))
      }),
      { numRuns: 3000 },
    )
  })

  it('leaves values whose comparison can contradict itself to the comparator', () => {
    const mixed = [{ code: 'a1' }, { code: '1a' }]
    const infinite = [{ code: `x${'9'.repeat(400)}` }, { code: 'x1' }]
    const whitespace = [{ code: 'a1 2' }, { code: 'a1x2' }] // Number(' ') is 0
    for (const things of [mixed, infinite, whitespace]) {
      expect(rankedOrder([new KeyTokens(things, ['code'])], [{ order: 1 }], things.length)).toBeNull()
    }
    const things = [{ code: 'a1' }, { code: 'a2' }]
    expect(rankedOrder([new KeyTokens(things, ['code'])], [{ order: 0 }], things.length)).toBeNull()
  })
})
