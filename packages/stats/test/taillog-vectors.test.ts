import { readFileSync } from 'node:fs'
import { isOrkError } from '@ork/errors'
import { describe, expect, it } from 'vitest'
import { type AggrStatsConfig, type CrossThingConfig, computeTailLog, type TailLogRequest } from '../src/index.ts'

interface RackReply {
  rackId: string
  type: string
  reply?: unknown
  error?: string
}

interface SentCall {
  rackId: string
  method: string
  payload: unknown
}

interface TailLogVector {
  name: string
  request: TailLogRequest
  aggrStats: AggrStatsConfig | null
  aggrCrossthg?: Record<string, CrossThingConfig>
  rackReplies: RackReply[]
  listThingsReplies?: RackReply[] | null
  sentToRacks: SentCall[]
  expected?: unknown
  throws?: boolean
  errorName?: string
  error?: string
  swallowedErrors?: { errorName: string; error: string }[]
  nonJsonValues?: { path: (string | number)[]; value: string }[]
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/reference/taillog-vectors.json', import.meta.url), 'utf8'),
) as { cases: TailLogVector[] }

/** The ork's TYPE rack selection (ork-behaviour.md 3.1), done by the worker's rack registry. */
function selectsRack(requestType: string, rackType: string): boolean {
  return rackType === requestType || rackType.startsWith(`${requestType}-`)
}

/** Runs the pure core against the vector's canned racks, recording what they were sent. */
async function run(vector: TailLogVector) {
  const request = structuredClone(vector.request)
  const requestBefore = structuredClone(request)
  const aggrStats = structuredClone(vector.aggrStats)
  const aggrStatsBefore = structuredClone(aggrStats)
  const sent: SentCall[] = []
  const swallowed: unknown[] = []
  const answer = (rack: RackReply, method: string, payload: unknown): unknown => {
    sent.push({ rackId: rack.rackId, method, payload: JSON.parse(JSON.stringify(payload)) })
    // A failed rack contributes [] (ork-behaviour.md 3.3); replies cross the wire as JSON.
    return rack.error === undefined ? structuredClone(rack.reply) : []
  }
  const outcome = await computeTailLog({
    request,
    aggrStats,
    aggrCrossthg: vector.aggrCrossthg ?? null,
    fetchRackReplies: async (rackRequest) =>
      vector.rackReplies
        .filter((rack) => selectsRack(String(vector.request.type), rack.type))
        .map((rack) => answer(rack, 'tailLog', rackRequest)),
    listThings: async (query) => {
      const replies = (vector.listThingsReplies ?? []).map((rack) => answer(rack, 'listThings', query))
      return replies.flatMap((reply) => (Array.isArray(reply) ? reply : [reply]))
    },
    onAggregationError: (error) => swallowed.push(error),
  }).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  )
  // FIX Q2: neither the request nor the config is mutated.
  expect(request).toEqual(requestBefore)
  expect(aggrStats).toEqual(aggrStatsBefore)
  return { ...outcome, sent, swallowed }
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let value = root as Record<string | number, unknown> | undefined
  for (const key of path) value = value?.[key] as Record<string | number, unknown> | undefined
  return value
}

/** Cases where this implementation deliberately differs from the reference (spec FIX marks). */
const nullItemCases = new Set(['null/null element in a rack reply', 'null/rack replies null'])

describe('reference tailLog vectors', () => {
  it('holds the recorded cases', () => {
    expect(fixture.cases.length).toBeGreaterThan(70)
  })

  for (const vector of fixture.cases.filter((candidate) => !nullItemCases.has(candidate.name))) {
    it(vector.name, async () => {
      const { result, error, sent, swallowed } = await run(vector)
      if (vector.throws) {
        expect(error).toBeInstanceOf(Error)
        if (vector.error?.startsWith('ERR_')) expect(isOrkError(error, vector.error)).toBe(true)
        else expect((error as Error).message).toBe(vector.error)
      } else {
        if (error !== undefined) throw error
        expect(JSON.stringify(result)).toBe(JSON.stringify(vector.expected))
        for (const special of vector.nonJsonValues ?? []) {
          expect(String(valueAt(result, special.path))).toBe(special.value)
        }
      }
      expect(swallowed.length).toBe(vector.swallowedErrors?.length ?? 0)
      // Same calls with the same payloads, except the listThings fan-out without ids (FIX Q43).
      const expectedCalls = vector.sentToRacks.filter(
        (call) => !(call.method === 'listThings' && !(call.payload as { limit?: number }).limit),
      )
      expect(JSON.stringify(sent)).toBe(JSON.stringify(expectedCalls))
    })
  }

  it('FIX Q55: a null rack item is ignored instead of failing the call', async () => {
    const repliesNull = fixture.cases.find((vector) => vector.name === 'null/rack replies null') as TailLogVector
    const { result, error } = await run(repliesNull)
    expect(error).toBeUndefined()
    expect(result).toEqual([
      {
        ts: 1700000100000,
        aggrTsRange: '',
        aggrCount: 1,
        alerts_aggr: { critical: 2 },
        container_status_aggr: { 'bitdeer-3a': 'running' },
        container_power_w_sum_aggr: 115584,
        container_nominal_hashrate_mhs_avg_aggr: 0,
        aggrIntervals: 1,
      },
    ])

    const nullElement = fixture.cases.find(
      (vector) => vector.name === 'null/null element in a rack reply',
    ) as TailLogVector
    const withoutNulls: TailLogVector = {
      ...nullElement,
      rackReplies: nullElement.rackReplies.map((rack) =>
        Array.isArray(rack.reply) ? { ...rack, reply: rack.reply.filter((item) => item !== null) } : rack,
      ),
    }
    const [withNull, reference] = await Promise.all([run(nullElement), run(withoutNulls)])
    expect(withNull.error).toBeUndefined()
    expect((withNull.result as unknown[]).length).toBeGreaterThan(0)
    expect(JSON.stringify(withNull.result)).toBe(JSON.stringify(reference.result))
  })
})
