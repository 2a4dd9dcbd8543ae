import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TailLogAggregationJob } from '../src/tail-log/aggregate-job.ts'
import { type Harness, startHarness } from './support/harness.ts'
import { historyConfig } from './support/history-config.ts'

/**
 * What racks reply, fuzzed: a "chaos" rack registered next to simulated racks answers every
 * read and metrics fan-out with odd JSON (wrong types, `toString`/`__proto__` keys, huge
 * strings, 10,000 items, nested arrays), from a fixed table and from fast-check with a fixed
 * seed. Every call must resolve or fail with a coded error; where the method leaves a failing
 * rack out, the simulated racks' data must still be there; the ork must keep serving; and the
 * daily history job must store the other racks' data, never a day cut short by one rack.
 */

const CODED = /^\[HRPC_ERR\]=(\[HRPC_ERR\]=)?ERR_[A-Z0-9_]+$/
const NOW = Date.parse('2024-03-05T12:00:00Z')
const DAY = 86_400_000
const YESTERDAY = NOW - DAY
const MINER_RACK = 'miner-chaos-1'

/** What the chaos rack answers to every method, as raw bytes, unless `chaosByMethod` names the method. */
let chaosReply = Buffer.from('[]')
const chaosByMethod = new Map<string, Buffer>()

const UNCONVERTIBLE = { toString: 1 }
const TABLE: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  'str',
  '[HRPC_ERR]=ERR_CHAOS',
  'x[HRPC_ERR]=ERR_CHAOS',
  {},
  [],
  [null],
  [1, 'x', true],
  [[1, [2]], [[]]],
  [[{ id: 'nested-thing' }]],
  [{ code: {} }, { id: null }, { ts: 'x' }, { ts: {} }, { ts: [1] }, { ts: null }, { ts: 1e308 }, { ts: -1 }],
  [{ info: 5, last: 'x', tags: 5, comments: 'x' }],
  UNCONVERTIBLE,
  [UNCONVERTIBLE],
  { ts: UNCONVERTIBLE },
  [{ ts: UNCONVERTIBLE }],
  [{ id: UNCONVERTIBLE, code: UNCONVERTIBLE }],
  [{ id: 'chaos-a', code: { valueOf: 1, toString: 1 } }],
  [{ id: 'chaos-b', code: [UNCONVERTIBLE] }],
  [{ ts: NOW, hashrate_mhs_5m_sum: UNCONVERTIBLE, alerts_cnt: { x: UNCONVERTIBLE } }],
  [{ ts: NOW, hashrate_mhs_5m_sum: 'abc', alerts_cnt: { constructor: 1, __proto__: 2 } }],
  [{ ts: 1, workers: UNCONVERTIBLE, count: UNCONVERTIBLE }],
  [{ ts: 1, id: 'm1', info: { container: UNCONVERTIBLE }, workers: [{ name: 'm1', hashrate: 1 }] }],
  [{ ts: 1, workers: [{ name: UNCONVERTIBLE, hashrate: UNCONVERTIBLE }] }],
  [{ ts: 1, workers: 5 }],
  [{ constructor: 1, prototype: 2, ts: 1 }],
  'x'.repeat(1_000_000),
  Array.from({ length: 10_000 }, (_, index) => ({ id: `chaos-${index}`, code: `CHAOS-${index}`, ts: NOW })),
]

/** JSON text of a value, with `__proto__` keys kept as data (the way JSON.parse makes them). */
const toJson = (value: unknown) => JSON.stringify(value, (_key, child) => child)
/** `{"__proto__": …}` in a literal sets the prototype: the table's one is written as text. */
const PROTO_REPLIES = ['{"__proto__":{"x":1}}', '[{"__proto__":{"ts":1}}]', '[{"__proto__":null,"ts":1}]']

const oddKey = fc.constantFrom(
  'toString',
  'valueOf',
  '__proto__',
  'constructor',
  'ts',
  'id',
  'code',
  'info',
  'tags',
  'comments',
  'last',
  'workers',
  'name',
  'hashrate',
  'alerts_cnt',
  'hashrate_mhs_5m_sum',
  'container',
)
const oddLeaf = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 0.5, 1e308, -1e308, '', 'str', '[HRPC_ERR]=ERR_CHAOS', NOW, YESTERDAY),
  fc.string({ maxLength: 8 }),
)
const { value: oddValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, oddLeaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(oddKey, tie('value'), { maxKeys: 5 }),
}))
/** Mostly lists of records, as racks answer, with odd keys and values; sometimes any odd value. */
const oddReply = fc.oneof(oddValue, fc.array(fc.dictionary(oddKey, oddValue, { maxKeys: 6 }), { maxLength: 6 }))

const REPLIES: string[] = [
  ...TABLE.map(toJson),
  ...PROTO_REPLIES,
  ...fc.sample(oddReply, { numRuns: 40, seed: 20_240_305 }).map(toJson),
]

/** The message a rack's `[HRPC_ERR]` string reply becomes when the ork passes it on, or null. */
function rackErrorOf(reply: string): string | null {
  const value: unknown = JSON.parse(reply)
  return typeof value === 'string' && value.slice(0, 15).includes('[HRPC_ERR]=') ? value : null
}

const TAIL_LOG = { type: 'miner', key: 'stat-5m', tag: 't-miner' }
const CALLS: [string, Record<string, unknown>][] = [
  ['listThings', {}],
  ['listThings', { sort: { code: 1 } }],
  ['listThings', { sort: { 'info.pos': -1, id: 1 } }],
  ['listThings', { sort: { ts: 1 } }],
  ['getThingsCount', {}],
  ['getHistoricalLogs', { logType: 'alerts' }],
  ['getHistoricalLogs', { logType: 'alerts', sort: { ts: -1, code: 1 } }],
  ['forgetThings', { query: { id: 'does-not-exist' } }],
  ['saveThingComment', { rackId: MINER_RACK, thingId: 'x', comment: 'c', user: 'u' }],
  ['editThingComment', { rackId: MINER_RACK, thingId: 'x', id: 'c', comment: 'c', user: 'u' }],
  ['deleteThingComment', { rackId: MINER_RACK, thingId: 'x', id: 'c', user: 'u' }],
  ['getWrkConf', { type: 'miner' }],
  ['getThingConf', { type: 'miner', requestType: 'nextAvailableCode' }],
  ['getWrkSettings', { rackId: MINER_RACK }],
  ['saveWrkSettings', { rackId: MINER_RACK, entries: { a: 1 } }],
  ['tailLog', TAIL_LOG],
  ['tailLog', { ...TAIL_LOG, aggrFields: { hashrate_mhs_5m_sum_aggr: 1 } }],
  [
    'tailLog',
    {
      ...TAIL_LOG,
      aggrTimes: [
        { start: 0, end: 4e12 },
        { start: NOW - DAY, end: NOW },
      ],
    },
  ],
  ['tailLog', { ...TAIL_LOG, groupRange: '1D' }],
  ['tailLog', { type: 'minerpool', key: 'stat-5m', tag: 't-minerpool', applyAggrCrossthg: true }],
  ['tailLogMulti', { keys: [TAIL_LOG, { type: 'container', key: 'stat-5m', tag: 't-container' }] }],
  ['getWrkExtData', { type: 'miner' }],
  ['getWrkExtData', { type: 'minerpool', applyAggrCrossthg: true }],
]

type Outcome = { ok: true; value: unknown } | { ok: false; message: string }

let harness: Harness

async function outcome(method: string, payload: unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await harness.call(method, payload) }
  } catch (error) {
    return { ok: false, message: (error as Error).message }
  }
}

const callAll = () => Promise.all(CALLS.map(([method, payload]) => outcome(method, payload)))

const idsOf = (value: unknown) =>
  new Set(
    (Array.isArray(value) ? value : []).map((thing) =>
      thing && typeof thing === 'object' ? (thing as { id?: unknown }).id : undefined,
    ),
  )
const tsOf = (value: unknown) =>
  (Array.isArray(value) ? value : []).map((row) =>
    row && typeof row === 'object' ? (row as { ts?: unknown }).ts : row,
  )
const answer = (result: Outcome | undefined) => (result?.ok ? result.value : undefined)

/** What the simulated racks answer, with the chaos rack answering `[]`. */
let baseline: Outcome[]

beforeAll(async () => {
  harness = await startHarness({
    racks: [
      { type: 'miner-am-s19xp', count: 4, racks: 2 },
      { type: 'container-bd-d40', count: 1 },
    ],
    now: NOW,
    orkOptions: { now: () => NOW, config: historyConfig({ days: 2, timezones: [{ code: 'UTC', offset: 0 }] }) },
  })
  const node = await harness.newClient()
  for (const method of new Set([...CALLS.map(([name]) => name), 'tailLog'])) {
    if (method !== 'tailLogMulti') node.respondRaw(method, () => chaosByMethod.get(method) ?? chaosReply)
  }
  await node.listen()
  const rpcPublicKey = node.rpcPublicKey.toString('hex')
  await harness.call('registerRack', { id: MINER_RACK, type: 'miner-chaos', info: { rpcPublicKey } })
  await harness.call('registerRack', { id: 'minerpool-chaos-1', type: 'minerpool-chaos', info: { rpcPublicKey } })
  chaosReply = Buffer.from('[]')
  baseline = await callAll()
}, 60_000)

afterAll(async () => {
  await harness?.close()
})

describe('odd rack replies', () => {
  it('the baseline has the simulated racks in it', () => {
    expect(idsOf(answer(baseline[0])).size).toBe(9)
    expect(answer(baseline[4])).toBe(9)
    expect(tsOf(answer(baseline[15])).length).toBeGreaterThan(0)
  })

  it('never make a call fail uncoded, and never hide the other racks', async () => {
    const problems: string[] = []
    for (const reply of REPLIES) {
      chaosReply = Buffer.from(reply)
      const label = reply.length > 80 ? `${reply.slice(0, 60)}… (${reply.length} chars)` : reply
      const results = await callAll()
      results.forEach((result, index) => {
        const [method, payload] = CALLS[index] as [string, unknown]
        const call = `${method} ${JSON.stringify(payload)}`
        if (result.ok) return
        if (CODED.test(result.message)) return
        // COPY 4.6 / Q13: forgetThings fails with the failing rack's own error, double-prefixed.
        const rackError = rackErrorOf(reply)
        if (method === 'forgetThings' && rackError !== null && result.message === `[HRPC_ERR]=${rackError}`) return
        problems.push(`${label} → ${call}: ${result.message}`)
      })
      // Methods that leave a failing rack out keep every simulated rack's data.
      for (const index of [0, 1, 2, 3]) {
        const ids = idsOf(answer(results[index]))
        for (const id of idsOf(answer(baseline[index]))) {
          if (!ids.has(id)) problems.push(`${label} → ${CALLS[index]?.[0]} #${index} lost thing ${String(id)}`)
        }
      }
      const count = answer(results[4])
      if (!Number.isSafeInteger(count) || (count as number) < 9) problems.push(`${label} → getThingsCount ${count}`)
      for (const index of [5, 6]) {
        const logs = answer(results[index])
        if (!Array.isArray(logs) || logs.length < (answer(baseline[index]) as unknown[]).length) {
          problems.push(
            `${label} → getHistoricalLogs #${index} lost logs ${JSON.stringify(results[index]).slice(0, 300)} FULL ${reply}`,
          )
        }
      }
      // getWrkConf: the simulated racks' entries are unchanged (rack order, 4.21).
      const confs = answer(results[11]) as { rackId: string }[]
      for (const entry of answer(baseline[11]) as { rackId: string }[]) {
        if (entry.rackId === MINER_RACK) continue
        if (!confs?.some((other) => JSON.stringify(other) === JSON.stringify(entry))) {
          problems.push(`${label} → getWrkConf lost ${entry.rackId}`)
        }
      }
      // tailLog: every row of the simulated racks is still there (same ts).
      for (const index of [15, 16]) {
        const rows = tsOf(answer(results[index]))
        const lost = tsOf(answer(baseline[index])).filter((ts) => !rows.includes(ts))
        if (lost.length > 0) problems.push(`${label} → tailLog #${index} lost ${lost.length} rows`)
      }
      const multi = answer(results[20]) as unknown[][] | undefined
      if (!multi || tsOf(multi[0]).length < tsOf(answer(baseline[15])).length) {
        problems.push(`${label} → tailLogMulti lost rows`)
      }
    }
    expect(problems).toEqual([])
  })

  it('still answers normally afterwards', async () => {
    chaosReply = Buffer.from('[]')
    const after = await callAll()
    expect(idsOf(answer(after[0]))).toEqual(idsOf(answer(baseline[0])))
    expect(answer(after[4])).toBe(9)
    expect(tsOf(answer(after[15]))).toEqual(tsOf(answer(baseline[15])))
    expect(answer(after[11])).toEqual(answer(baseline[11]))
  })
})

describe('specific replies', () => {
  const withReply = async <T>(reply: unknown, work: () => Promise<T>): Promise<T> => {
    chaosReply = Buffer.from(toJson(reply))
    try {
      return await work()
    } finally {
      chaosReply = Buffer.from('[]')
    }
  }

  it('listThings leaves out a rack whose reply holds an object that cannot be converted to text', async () => {
    // `{"toString": 1}` makes String() throw: the transport refuses such a reply (ERR_FACS_NET_DATA_FORMAT).
    for (const request of [{ sort: { code: 1 } }, {}]) {
      const listed = (await withReply([{ id: 'chaos-a', code: UNCONVERTIBLE }], () =>
        harness.call('listThings', request),
      )) as { id: string }[]
      const expected = answer(baseline[request.sort ? 1 : 0]) as { id: string }[]
      expect(listed.map((thing) => thing.id)).toEqual(expected.map((thing) => thing.id))
    }
  })

  it('getHistoricalLogs with sort leaves out a rack whose logs mingo cannot compare (not ERR_SORT_INVALID)', async () => {
    const reply = [{ ts: UNCONVERTIBLE }, { ts: { a: 1 } }]
    const logs = await withReply(reply, () =>
      harness.call('getHistoricalLogs', { logType: 'alerts', sort: { ts: -1 } }),
    )
    const expected = await harness.call('getHistoricalLogs', { logType: 'alerts', sort: { ts: -1 } })
    expect(logs).toEqual(expected)
    expect(logs).toHaveLength((answer(baseline[5]) as unknown[]).length)
  })

  it('tailLog leaves out a rack whose records cannot be converted, instead of failing or cutting every row', async () => {
    for (const reply of [[{ ts: UNCONVERTIBLE }], [{ ts: NOW, hashrate_mhs_5m_sum: UNCONVERTIBLE }]]) {
      const rows = await withReply(reply, () => harness.call('tailLog', TAIL_LOG))
      expect(rows).toEqual(answer(baseline[15]))
    }
  })

  it('getWrkExtData and the cross-thing lookup leave out such a rack', async () => {
    const extData = await withReply([{ ts: 1, hashrate_mhs_5m_sum: UNCONVERTIBLE }], () =>
      harness.call('getWrkExtData', { type: 'miner' }),
    )
    expect(extData).toEqual(answer(baseline[21]))
    // The pool's workers are fine; the thing the cross-thing lookup finds for worker m1 is not.
    chaosByMethod.set('getWrkExtData', Buffer.from(toJson([{ ts: 1, workers: [{ name: 'm1', hashrate: 1 }] }])))
    try {
      const rows = await withReply([{ id: 'm1', info: { container: UNCONVERTIBLE } }], () =>
        harness.call('getWrkExtData', { type: 'minerpool', applyAggrCrossthg: true }),
      )
      expect(rows).toEqual([
        expect.objectContaining({ ts: '1', workers: [expect.objectContaining({ container: null })] }),
      ])
    } finally {
      chaosByMethod.clear()
    }
  })

  it('getThingsCount leaves out counts that are not counts', async () => {
    for (const reply of [-1, 1.5, 1e308, '3', UNCONVERTIBLE]) {
      expect(await withReply(reply, () => harness.call('getThingsCount', {}))).toBe(9)
    }
  })

  it('forgetThings fails with ERR_RACK_REPLY_INVALID when a rack answers something else than a count', async () => {
    for (const reply of ['str', {}, 1e308]) {
      await withReply(reply, () =>
        expect(harness.call('forgetThings', { query: { id: 'does-not-exist' } })).rejects.toThrow(
          /^\[HRPC_ERR\]=ERR_RACK_REPLY_INVALID$/,
        ),
      )
    }
    // The transport already refuses a reply JavaScript cannot convert: the rack's failure fails the call.
    await withReply(UNCONVERTIBLE, () =>
      expect(harness.call('forgetThings', { query: { id: 'does-not-exist' } })).rejects.toThrow(
        /^\[HRPC_ERR\]=ERR_FACS_NET_DATA_FORMAT$/,
      ),
    )
    // Racks answer 1 each (Q12): the chaos rack is registered twice, five racks in all.
    expect(await withReply(1, () => harness.call('forgetThings', { query: { id: 'does-not-exist' } }))).toBe(5)
  })
})

describe('daily history job', () => {
  const job = () => harness.ork.context.tailLogAggregation as TailLogAggregationJob
  const yesterday = () => harness.ork.context.tailLogHistory.getDay('miner', 'UTC', Math.floor(YESTERDAY / DAY))

  it("stores the other racks' day, held open, when a rack answers records that cannot be converted", async () => {
    const replies = [
      [{ ts: YESTERDAY, hashrate_mhs_5m_sum: UNCONVERTIBLE }, { ts: UNCONVERTIBLE }],
      [{ ts: YESTERDAY, hashrate_mhs_5m_sum: UNCONVERTIBLE }],
    ]
    for (const [index, reply] of replies.entries()) {
      chaosReply = Buffer.from(toJson(reply))
      try {
        expect(await job().run()).toBe(true)
      } finally {
        chaosReply = Buffer.from('[]')
      }
      const day = await yesterday()
      expect(day).toMatchObject({ complete: false, failedFetches: index + 1 })
      expect(day?.rows).toHaveLength(1)
      expect((day?.rows[0] as Record<string, unknown> | undefined)?.hashrate_mhs_5m_sum_aggr).toBeGreaterThan(0)
    }
    const range = await harness.call('tailLogCustomRangeAggr', {
      keys: [{ type: 'miner', startDate: '2024-03-04', endDate: '2024-03-05' }],
    })
    expect(range).toEqual([expect.objectContaining({ type: 'miner', error: null })])
  })
})
