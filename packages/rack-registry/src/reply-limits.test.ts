import { describe, expect, it } from 'vitest'
import { parsedSizeEstimate } from './reply-limits.ts'

describe('parsedSizeEstimate', () => {
  it('adds 64 bytes to the size for each object or array', () => {
    expect(parsedSizeEstimate(Buffer.from('"text"'))).toBe(6)
    expect(parsedSizeEstimate(Buffer.from('[{},{"a":[1]}]'))).toBe(14 + 4 * 64)
  })
})
