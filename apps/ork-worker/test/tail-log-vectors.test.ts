import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isOrkError } from '@ork/errors'
import { silentLogger } from '@ork/logger'
import { RackFanOut, RackRegistry } from '@ork/rack-registry'
import { TRANSPORT_MAX_PAYLOAD_BYTES } from '@ork/rpc-transport'
import { type AggrStatsConfig, type CrossThingConfig, projectRows, type TailLogRequest } from '@ork/stats'
import Corestore from 'corestore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OffThreadAggregation } from '../src/tail-log/off-thread-aggregation.ts'
import { runTailLog, type TailLogDependencies } from '../src/tail-log/run-tail-log.ts'
import { type FakeRequestOptions, replyAsTransport } from './support/fake-transport.ts'

/**
 * The recorded reference tailLog vectors replayed through the worker's own tailLog path:
 * a real RackRegistry (Hyperbee on a temp dir) and a real RackFanOut, over a transport
 * stub that answers each rack's key with the vector's canned replies (the fixture
 * defines the rack replies, so this is the one place a stub stands for the racks).
 */

interface RackReply {
  rackId: string
  type: string
  reply?: unknown
  error?: string
}

interface Vector {
  name: string
  request: TailLogRequest
  aggrStats: AggrStatsConfig | null
  aggrCrossthg?: Record<string, CrossThingConfig>
  rackReplies: RackReply[]
  listThingsReplies?: RackReply[] | null
  sentToRacks: { rackId: string; method: string; payload: unknown }[]
  expected?: unknown
  throws?: boolean
  error?: string
  swallowedErrors?: unknown[]
  nonJsonValues?: { path: (string | number)[]; value: string }[]
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/reference/taillog-vectors.json', import.meta.url), 'utf8'),
) as { cases: Vector[] }

/** FIX Q55: the worker ignores null rack items instead of failing the call. */
const nullItemCases = new Set(['null/null element in a rack reply', 'null/rack replies null'])

let directory: string
let store: Corestore
let registry: RackRegistry

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'ork-taillog-vectors-'))
  store = new Corestore(join(directory, 'db'))
  await store.ready()
  registry = new RackRegistry({ store })
  await registry.ready()
})

const aggregation = new OffThreadAggregation({ logger: silentLogger })

afterAll(async () => {
  await aggregation.close()
  await registry?.close()
  await store?.close()
  rmSync(directory, { recursive: true, force: true })
})

const keyOf = (index: number) => index.toString(16).padStart(64, '0')

async function run(vector: Vector) {
  await registry.forget({ all: true })
  const racksByKey = new Map<string, { rack: RackReply; things: RackReply | undefined }>()
  for (const [index, rack] of vector.rackReplies.entries()) {
    const key = keyOf(index + 1)
    racksByKey.set(key, { rack, things: vector.listThingsReplies?.[index] })
    await registry.register({ id: rack.rackId, type: rack.type, info: { rpcPublicKey: key } })
  }
  const sent: { rackId: string; method: string; payload: unknown }[] = []
  const transport = {
    async request(key: string | Buffer, method: string, data: unknown, options?: FakeRequestOptions) {
      const entry = racksByKey.get(String(key))
      if (!entry) throw new Error('unknown rack')
      // What crosses the wire is JSON, both ways; the reply's bytes go to the aggregation thread.
      sent.push({ rackId: entry.rack.rackId, method, payload: JSON.parse(JSON.stringify(data)) })
      const answer = method === 'listThings' ? entry.things : entry.rack
      if (!answer) return []
      if (answer.error !== undefined) throw new Error(answer.error)
      return replyAsTransport(Buffer.from(JSON.stringify(answer.reply)), options)
    },
  }
  const request = structuredClone(vector.request)
  const requestBefore = structuredClone(request)
  const aggrStats = structuredClone(vector.aggrStats)
  const aggrStatsBefore = structuredClone(aggrStats)
  const warnings: string[] = []
  const logger = {
    ...silentLogger,
    warn: (message: string) => warnings.push(message),
    child: () => logger,
  }
  const racks = new RackFanOut({ transport, logger: silentLogger })
  const dependencies: TailLogDependencies = {
    aggrStats: () => aggrStats ?? undefined,
    aggrCrossthg: () => vector.aggrCrossthg,
    selectRacks: (type) => registry.select(type),
    allRacks: () => registry.all(),
    maxReplyBytes: TRANSPORT_MAX_PAYLOAD_BYTES,
    fanOut: (selected, method, payload, options) => racks.fanOut(selected, method, payload, options),
    aggregation,
    logger,
  }
  const outcome = await runTailLog(dependencies, request).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  )
  // FIX Q2: neither the request nor the config is modified.
  expect(request).toEqual(requestBefore)
  expect(aggrStats).toEqual(aggrStatsBefore)
  return { ...outcome, sent, warnings }
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let value = root as Record<string | number, unknown> | undefined
  for (const key of path) value = value?.[key] as Record<string | number, unknown> | undefined
  return value
}

describe('reference tailLog vectors through the worker', () => {
  it('covers the recorded families', () => {
    expect(fixture.cases.length).toBeGreaterThan(70)
  })

  for (const vector of fixture.cases.filter((candidate) => !nullItemCases.has(candidate.name))) {
    it(vector.name, async () => {
      const { value, error, sent, warnings } = await run(vector)
      if (vector.throws) {
        expect(error).toBeInstanceOf(Error)
        if (vector.error?.startsWith('ERR_')) expect(isOrkError(error, vector.error)).toBe(true)
        else expect((error as Error).message).toBe(vector.error)
      } else {
        if (error !== undefined) throw error
        expect(JSON.stringify(value?.rows)).toBe(JSON.stringify(vector.expected))
        for (const special of vector.nonJsonValues ?? []) {
          expect(String(valueAt(value?.rows, special.path))).toBe(special.value)
        }
        const failing = vector.rackReplies.filter(
          (rack) => rack.error !== undefined && sent.some((call) => call.rackId === rack.rackId),
        )
        expect(value?.failedRacks).toBe(failing.length)
      }
      expect(warnings.filter((message) => message.includes('aggregation')).length).toBe(
        vector.swallowedErrors?.length ?? 0,
      )
      // Same rack calls with the same payloads, except the listThings fan-out without ids (FIX Q43).
      const expectedCalls = vector.sentToRacks.filter(
        (call) => !(call.method === 'listThings' && !(call.payload as { limit?: number }).limit),
      )
      const byRack = (calls: typeof sent) =>
        [...calls].sort((a, b) => `${a.method}${a.rackId}`.localeCompare(`${b.method}${b.rackId}`))
      expect(JSON.stringify(byRack(sent))).toBe(JSON.stringify(byRack(expectedCalls)))
    })
  }

  it('FIX Q55: null rack items are ignored, the other items aggregated', async () => {
    const vector = fixture.cases.find((candidate) => candidate.name === 'null/null element in a rack reply') as Vector
    const withoutNulls: Vector = {
      ...vector,
      rackReplies: vector.rackReplies.map((rack) =>
        Array.isArray(rack.reply) ? { ...rack, reply: rack.reply.filter((item) => item !== null) } : rack,
      ),
    }
    const withNull = await run(vector)
    const reference = await run(withoutNulls)
    expect(withNull.error).toBeUndefined()
    expect(withNull.value?.rows.length).toBeGreaterThan(0)
    expect(JSON.stringify(withNull.value?.rows)).toBe(JSON.stringify(reference.value?.rows))
  })
})

describe('computing only the ops aggrFields names gives the rows of computing them all', () => {
  // The example of spec 4.7: ops s = sum(hr), a = avg(v) over two racks.
  const rackReplies: RackReply[] = [
    {
      rackId: 'miner-x-rack-1',
      type: 'miner-x',
      reply: [{ ts: 1000, hr: 10, v: 4 }, { ts: 2000, hr: 20, v: 6 }, { ts: 3000 }],
    },
    {
      rackId: 'miner-x-rack-2',
      type: 'miner-x',
      reply: [
        { ts: 1000, hr: 5 },
        { ts: 3000, hr: 1 },
      ],
    },
  ]
  const vectorWith = (ops: Record<string, unknown>, aggrFields?: Record<string, unknown>): Vector => ({
    name: 'pruning',
    request: { type: 'miner', key: 'stat-5m', tag: 't-miner', ...(aggrFields ? { aggrFields } : {}) } as TailLogRequest,
    aggrStats: { miner: { ops } } as unknown as AggrStatsConfig,
    rackReplies,
    sentToRacks: [],
  })
  /**
   * What the reference does: every op of the spec (Step D), then the mingo projection by
   * `aggrFields` with `ts`, `aggrTsRange`, `aggrCount` and `aggrIntervals` added (Steps A, G).
   */
  const everyOpThenProjected = async (ops: Record<string, unknown>, aggrFields: Record<string, unknown>) => {
    const all = await run(vectorWith(ops))
    if (all.error !== undefined) throw all.error
    const projection: Record<string, unknown> = { ...aggrFields }
    for (const key of ['ts', 'aggrTsRange', 'aggrCount', 'aggrIntervals']) projection[key] ||= 1
    return { rows: projectRows(all.value?.rows ?? [], projection as never), warnings: all.warnings }
  }
  const sumAndAvg = { s: { op: 'sum', src: 'hr' }, a: { op: 'avg', src: 'v' } }

  it('a projection that computes from an op (`$s`) still gets that op', async () => {
    const aggrFields = { total: '$s', ts: 1 }
    const { value, error } = await run(vectorWith(sumAndAvg, aggrFields))
    expect(error).toBeUndefined()
    expect(value?.rows.map((row) => (row as { total: number }).total)).toEqual([15, 20, 1])
    expect(value?.rows).toEqual((await everyOpThenProjected(sumAndAvg, aggrFields)).rows)
  })

  it('an unnamed op that throws on the data still stops the aggregation (Q5)', async () => {
    const ops = { ...sumAndAvg, counted: { op: 'alerts_group_cnt', src: 'hr' } }
    const { value, warnings } = await run(vectorWith(ops, { s: 1 }))
    const reference = await everyOpThenProjected(ops, { s: 1 })
    expect(reference.rows).toEqual([])
    expect(value?.rows).toEqual(reference.rows)
    expect(warnings.filter((message) => message.includes('aggregation'))).toHaveLength(1)
  })

  it('an unnamed op with a malformed path or a filter that is not a function is still computed', async () => {
    for (const broken of [
      { op: 'sum', src: 'hr..v' },
      { op: 'sum', src: 'hr', filter: { hr: 1 } },
    ]) {
      const ops = { ...sumAndAvg, broken }
      const { value } = await run(vectorWith(ops, { s: 1 }))
      expect(value?.rows).toEqual((await everyOpThenProjected(ops, { s: 1 })).rows)
    }
  })

  it('plain inclusions give the same rows with or without the unnamed ops', async () => {
    for (const aggrFields of [{ s: 1 }, { a: true, ts: 1 }, { s: 1, aggrCount: 1 }]) {
      const { value } = await run(vectorWith(sumAndAvg, aggrFields))
      expect(value?.rows).toEqual((await everyOpThenProjected(sumAndAvg, aggrFields)).rows)
    }
  })
})
