import { readFileSync } from 'node:fs'
import { isOrkError } from '@ork/errors'
import { describe, expect, it } from 'vitest'
import { applyStats, type StatsState, tallyStats } from '../src/index.ts'

interface NonJsonValue {
  path: (string | number)[]
  value: string
}

interface StatsVector {
  name: string
  ops: StatsState['ops']
  entries: unknown[]
  expected?: unknown
  throws?: boolean
  errorName?: string
  nonJsonValues?: NonJsonValue[]
  crossOpAliasing?: boolean
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/reference/stats-vectors.json', import.meta.url), 'utf8'),
) as { cases: StatsVector[] }

function run(vector: StatsVector): Record<string, unknown> {
  // Fresh copies: ops such as alerts_group_cnt write into their entries (COPY).
  const entries = structuredClone(vector.entries)
  const state = { ops: structuredClone(vector.ops) }
  const pack: Record<string, unknown> = {}
  for (const entry of entries) applyStats(state, pack, entry)
  tallyStats(state, pack)
  return pack
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let value = root as Record<string | number, unknown> | undefined
  for (const key of path) value = value?.[key] as Record<string | number, unknown> | undefined
  return value
}

describe('reference stats vectors', () => {
  it('holds the recorded cases', () => {
    expect(fixture.cases.length).toBeGreaterThan(150)
  })

  for (const vector of fixture.cases) {
    it(vector.name, () => {
      if (vector.throws) {
        expect(() => run(vector)).toThrow()
        return
      }
      const pack = run(vector)
      expect(JSON.stringify(pack)).toBe(JSON.stringify(vector.expected))
      for (const special of vector.nonJsonValues ?? []) {
        expect(String(valueAt(pack, special.path))).toBe(special.value)
      }
    })
  }

  it('reports unknown ops and malformed paths with coded errors', () => {
    const unknown = fixture.cases.filter((vector) => vector.name.startsWith('throws/unknown op'))
    const malformed = fixture.cases.filter((vector) => vector.name.startsWith('throws/malformed path'))
    expect(unknown.length).toBe(2)
    expect(malformed.length).toBe(2)
    for (const vector of unknown) {
      try {
        run(vector)
        expect.unreachable()
      } catch (error) {
        expect(isOrkError(error, 'ERR_STATS_OP_UNKNOWN')).toBe(true)
      }
    }
    for (const vector of malformed) {
      try {
        run(vector)
        expect.unreachable()
      } catch (error) {
        expect(isOrkError(error, 'ERR_STATS_PATH_INVALID')).toBe(true)
      }
    }
  })
})
