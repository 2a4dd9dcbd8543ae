import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { elementBoundary, parseJsonBytes } from './json-bytes.ts'

/** Tiny pieces, so every body takes the cutting path. */
const tiny = { thresholdBytes: 0, pieceBytes: 8 }

function outcome(parse: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: parse() }
  } catch (error) {
    return { error: String(error) }
  }
}

const sameAsJsonParse = (text: string) => {
  const bytes = Buffer.from(text)
  expect(outcome(() => parseJsonBytes(bytes, tiny))).toEqual(outcome(() => JSON.parse(text)))
}

describe('parseJsonBytes', () => {
  it('equals JSON.parse on any JSON text, arrays cut into pieces', () => {
    const arrays = fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 30 })
    fc.assert(
      fc.property(fc.oneof(arrays, fc.jsonValue()), fc.constantFrom('', ' ', '\n\t '), (value, space) => {
        sameAsJsonParse(`${space}${JSON.stringify(value, null, space.length ? 1 : 0)}${space}`)
      }),
      { numRuns: 500 },
    )
  })

  it('throws what JSON.parse throws on broken or trailing input', () => {
    const texts = fc
      .array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 10 })
      .map((value) => JSON.stringify(value))
    fc.assert(
      fc.property(texts, fc.nat(), fc.constantFrom(']', '}', ',', '"', '[', 'x', '\\'), (text, at, inserted) => {
        const cut = at % (text.length + 1)
        sameAsJsonParse(text.slice(0, cut) + inserted + text.slice(cut))
        sameAsJsonParse(text.slice(0, cut))
      }),
      { numRuns: 500 },
    )
  })

  it('keeps strings holding brackets, commas, quotes and multi-byte characters intact', () => {
    sameAsJsonParse('["a,b", "[x]", "{\\"k\\":1}", "é,€,😀", {"s": "\\\\", "t": ["],"]}, [1, [2, 3]], "\\\\\\""]')
    sameAsJsonParse('[{"__proto__": {"polluted": 1}}, {"a": 1, "a": 2}]')
  })

  it('cuts arrays of objects only where a piece parses: boundaries inside strings or nested arrays are skipped', () => {
    sameAsJsonParse('[{"a":"},{"},{"b":[{"c":1},{"d":2},{"e":"},{"}]},{"f":3},{"g":{"h":[{},{}]}},{}]')
    sameAsJsonParse('[{"a":"\\"},{\\""},{"b":1}]')
    const objects = fc.array(fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 })), {
      maxLength: 20,
    })
    fc.assert(
      fc.property(objects, fc.integer({ min: 1, max: 64 }), (value, pieceBytes) => {
        const text = JSON.stringify(value)
        expect(outcome(() => parseJsonBytes(Buffer.from(text), { thresholdBytes: 0, pieceBytes }))).toEqual(
          outcome(() => JSON.parse(text)),
        )
      }),
      { numRuns: 500 },
    )
  })

  it("cuts between the array's elements, not inside the arrays of objects they hold", () => {
    // Like a listThings reply with status: every thing holds its pools, an array of objects.
    const things = Array.from({ length: 3000 }, (_, index) => ({
      id: `thing-${index}`,
      pools: [
        { url: 'stratum+tcp://a', user: `w${index}` },
        { url: 'stratum+tcp://b', user: `w${index}` },
      ],
    }))
    const bytes = Buffer.from(JSON.stringify(things))
    const parse = vi.spyOn(JSON, 'parse')
    try {
      expect(parseJsonBytes(bytes)).toEqual(things)
      // Pieces of about 64 KiB, none parsed in vain, and no whole-body parse.
      expect(parse.mock.results.every((result) => result.type === 'return')).toBe(true)
      expect(parse.mock.calls.length).toBeGreaterThan(1)
      expect(parse.mock.calls.length).toBeLessThanOrEqual(Math.ceil(bytes.length / (64 * 1024)))
    } finally {
      parse.mockRestore()
    }
  })

  it('takes the first key of the first element into the boundary when it is plain', () => {
    const boundaryOf = (text: string) => elementBoundary(Buffer.from(text), 0).toString()
    expect(boundaryOf('[{"id":1},{"id":2}]')).toBe('},{"id":')
    expect(boundaryOf('[{"a\\"b":1}]')).toBe('},{')
    expect(boundaryOf('[{}, {}]')).toBe('},{')
    expect(boundaryOf('[1,2]')).toBe('},{')
    expect(boundaryOf(`[{"${'k'.repeat(100)}":1}]`)).toBe('},{')
  })

  it('refuses stray commas as JSON.parse does', () => {
    for (const text of ['[,1]', '[1,]', '[1,,2]', '[ , ]', '[1,2],', '[1,2]]']) sameAsJsonParse(text)
  })

  it('parses a large rack reply with the default sizes', () => {
    const records = Array.from({ length: 4000 }, (_, index) => ({ ts: index, name: `rack-${index}`, v: [index, null] }))
    const bytes = Buffer.from(JSON.stringify(records))
    expect(bytes.length).toBeGreaterThan(96 * 1024)
    expect(parseJsonBytes(bytes)).toEqual(records)
  })
})
