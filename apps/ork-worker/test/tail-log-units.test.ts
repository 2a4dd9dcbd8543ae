import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@ork/logger'
import type { RackRecord } from '@ork/rack-registry'
import { RemoteError, TRANSPORT_MAX_PAYLOAD_BYTES } from '@ork/rpc-transport'
import type { AggrStatsConfig, CrossThingConfig, TailLogRequest } from '@ork/stats'
import Corestore from 'corestore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AggrDataConfig } from '../src/config/schemas.ts'
import { tailLogMultiRequests } from '../src/methods/tail-log.ts'
import { DAY_SETTLE_MS, DEFAULT_TAIL_LOG_STORE_DAYS, TailLogAggregationJob } from '../src/tail-log/aggregate-job.ts'
import { customRangeAggr } from '../src/tail-log/custom-range.ts'
import { TailLogHistoryStore } from '../src/tail-log/history-store.ts'
import { OffThreadAggregation } from '../src/tail-log/off-thread-aggregation.ts'
import { runTailLog, runWrkExtData, type TailLogDependencies } from '../src/tail-log/run-tail-log.ts'
import {
  DAY_MS,
  daysTo24HrIntervals,
  isCurrentDay,
  isoDate,
  resolveHistoryZone,
  type TimezoneConfig,
} from '../src/tail-log/zones.ts'
import { refusingStore } from './support/refusing-store.ts'

const HOUR = 3_600_000
const at = (iso: string) => Date.parse(iso)
const dayNumber = (date: string) => Math.floor(at(`${date}T00:00:00Z`) / DAY_MS)

describe('reference util tests (10.5), ported as real assertions', () => {
  it('daysTo24HrIntervals', () => {
    const [only] = daysTo24HrIntervals(1)
    expect(only?.index).toBe(0)
    expect(only?.startTs).toBeTruthy()
    expect(only?.endTs).toBeGreaterThanOrEqual(only?.startTs ?? Number.POSITIVE_INFINITY)
    const three = daysTo24HrIntervals(3)
    expect(three.map((interval) => interval.index)).toEqual([0, 1, 2])
    for (let i = 1; i < 3; i++) expect(three[i]?.endTs).toBeLessThanOrEqual(three[i - 1]?.startTs as number)
    const withOffset = daysTo24HrIntervals(1, 5 * HOUR)
    expect(withOffset).toHaveLength(1)
    expect(withOffset[0]?.startTs && withOffset[0]?.endTs).toBeTruthy()
    const two = daysTo24HrIntervals(2)
    expect((two[0]?.startTs as number) - (two[1]?.startTs as number)).toBe(DAY_MS)
  })

  it('isCurrentDay', () => {
    const now = Date.now()
    expect(isCurrentDay(now)).toBe(true)
    expect(isCurrentDay(now - DAY_MS)).toBe(false)
    expect(isCurrentDay(now + DAY_MS)).toBe(false)
    expect(typeof isCurrentDay(now, 5 * HOUR)).toBe('boolean')
  })

  it('FIX Q32: day 0 starts at the zone midnight and never exceeds 24 hours or starts after now', () => {
    const now = at('2024-03-05T02:00:00Z')
    // At +5 h it is 07:00 on the 5th: local midnight is 19:00 UTC on the 4th.
    expect(daysTo24HrIntervals(2, 5 * HOUR, now)).toEqual([
      { index: 0, startTs: at('2024-03-04T19:00:00Z'), endTs: now },
      { index: 1, startTs: at('2024-03-03T19:00:00Z'), endTs: at('2024-03-04T19:00:00Z') },
    ])
    // At −5 h it is 21:00 on the 4th: the reference would start day 0 at 05:00 on the 5th, after now.
    expect(daysTo24HrIntervals(1, -5 * HOUR, now)[0]?.startTs).toBe(at('2024-03-04T05:00:00Z'))
  })

  it('FIX Q33: isCurrentDay compares the full local date of both instants', () => {
    const now = at('2024-04-05T12:00:00Z')
    expect(isCurrentDay(at('2024-03-05T12:00:00Z'), 0, now)).toBe(false)
    expect(isCurrentDay(at('2024-04-05T20:00:00Z'), 5 * HOUR, now)).toBe(false)
    expect(isCurrentDay(at('2024-04-05T18:00:00Z'), 5 * HOUR, now)).toBe(true)
  })
})

describe('IANA zones', () => {
  it('23- and 25-hour days on daylight-saving changes', () => {
    const newYork = resolveHistoryZone({ code: 'NY', timezone: 'America/New_York' })
    const length = (date: string) => newYork.startOfDay(dayNumber(date) + 1) - newYork.startOfDay(dayNumber(date))
    expect(newYork.startOfDay(dayNumber('2024-03-10'))).toBe(at('2024-03-10T05:00:00Z'))
    expect(length('2024-03-10')).toBe(23 * HOUR)
    expect(length('2024-11-03')).toBe(25 * HOUR)
    expect(length('2024-07-01')).toBe(24 * HOUR)
    expect(isoDate(newYork.dayOf(at('2024-03-11T03:59:59Z')))).toBe('2024-03-10')
    expect(isoDate(newYork.dayOf(at('2024-03-11T04:00:00Z')))).toBe('2024-03-11')
  })

  it('a day whose midnight does not exist starts at its first instant', () => {
    // Chile moved from 00:00 to 01:00 on 2024-09-08.
    const santiago = resolveHistoryZone({ code: 'CL', timezone: 'America/Santiago' })
    expect(santiago.startOfDay(dayNumber('2024-09-08'))).toBe(at('2024-09-08T04:00:00Z'))
    expect(santiago.startOfDay(dayNumber('2024-09-09')) - santiago.startOfDay(dayNumber('2024-09-08'))).toBe(23 * HOUR)
  })

  it('refuses unknown names and bad offsets with a code', () => {
    expect(() => resolveHistoryZone({ code: 'X', timezone: 'Mars/Olympus' })).toThrow('ERR_TIMEZONE_INVALID')
    expect(() => resolveHistoryZone({ code: 'X', offset: Number.NaN })).toThrow('ERR_TIMEZONE_INVALID')
    expect(() => resolveHistoryZone({ code: '' })).toThrow('ERR_TIMEZONE_INVALID')
  })
})

describe('tailLogCustomRangeAggr over stored days (hand-computed)', () => {
  let directory: string
  let corestore: Corestore
  let store: TailLogHistoryStore
  // Daily rows as the job stores them: s = sum op, a = avg op.
  const days: [string, Record<string, unknown>][] = [
    ['2024-01-30', { s: 10, a: 2, aggrCount: 5, aggrIntervals: 4 }],
    ['2024-01-31', { s: 20, aggrCount: 3, aggrIntervals: 2 }],
    ['2024-02-01', { s: 1, a: 8, aggrCount: 1, aggrIntervals: 1 }],
    ['2025-02-01', { s: 100, a: 1, aggrCount: 1, aggrIntervals: 1 }],
  ]
  const aggrStats = { miner: { ops: { s: { op: 'sum', src: 'x' }, a: { op: 'avg', src: 'y' } } } }
  const context = () => ({
    store,
    aggrData: {
      aggrTailLogKeys: [
        { key: 'stat-5m', type: 'miner', tag: 't-miner' },
        { key: 'k', type: 'other' },
        { key: 'stat-5m', type: 'miner-x', tag: 't-miner' },
      ],
    },
    aggrStats,
    timezones: undefined,
  })

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'ork-taillog-units-'))
    corestore = new Corestore(join(directory, 'db'))
    store = new TailLogHistoryStore({ store: corestore })
    await store.ready()
    for (const [date, row] of days) {
      const day = dayNumber(date)
      const startTs = day * DAY_MS
      const rows = [{ ts: 0, aggrTsRange: `${startTs}-${startTs + DAY_MS}`, ...row }]
      await store.putDay(
        'miner',
        'UTC',
        day,
        { date, startTs, endTs: startTs + DAY_MS, fetchedAt: 0, complete: true, rows },
        null,
      )
    }
  })

  afterAll(async () => {
    await store?.close()
    await corestore?.close()
    rmSync(directory, { recursive: true, force: true })
  })

  it('range: sums add up, averages are the mean of the days (a day lacking the value counts as 0)', async () => {
    const [entry] = await customRangeAggr(context(), [
      { type: 'miner', startDate: '2024-01-30', endDate: '2024-02-01' },
    ])
    expect(entry).toEqual({ type: 'miner', data: { s: 31, a: 10 / 3, aggrCount: 9, aggrIntervals: 7 }, error: null })
    const [empty] = await customRangeAggr(context(), [
      { type: 'miner', startDate: '2023-01-01', endDate: '2023-01-05' },
    ])
    expect(empty?.data).toEqual({ aggrCount: 0, aggrIntervals: 0 })
  })

  it('monthly: per year and month, every day of each month (FIX Q37)', async () => {
    const [entry] = await customRangeAggr(context(), [
      { type: 'miner', startDate: '2024-01-01', endDate: '2025-12-31', shouldReturnMonthlyData: true },
    ])
    expect(entry?.data).toEqual([
      { month: 1, year: 2024, val: { s: 30, a: 1 } },
      { month: 2, year: 2024, val: { s: 1, a: 8 } },
      { month: 2, year: 2025, val: { s: 100, a: 1 } },
    ])
  })

  it('daily: oldest first, each labelled with its own day (FIX Q36), projected with fields', async () => {
    const [entry] = await customRangeAggr(context(), [
      {
        type: 'miner',
        startDate: at('2024-01-30T00:00:00Z'),
        endDate: '2024-02-01',
        shouldReturnDailyData: 1,
        fields: { s: 1 },
      },
    ])
    expect(entry?.data).toEqual([
      { ts: at('2024-01-30T00:00:00Z'), val: { s: 10 } },
      { ts: at('2024-01-31T00:00:00Z'), val: { s: 20 } },
      { ts: at('2024-02-01T00:00:00Z'), val: { s: 1 } },
    ])
  })

  it('reads a date-time without a zone as wall-clock time in the zone, with one as an instant', async () => {
    // The 'UTC' code with a -5 h offset: the zone of the stored days, picked by timezoneOffset.
    const fiveHoursWest = { ...context(), timezones: [{ code: 'UTC', offset: -5 * HOUR }] }
    const range = (startDate: unknown, endDate: unknown) =>
      customRangeAggr(fiveHoursWest, [{ type: 'miner', startDate, endDate, timezoneOffset: -5 * HOUR }])
    // 00:30 on 31 January there is 31 January...
    expect((await range('2024-01-31T00:30:00', '2024-01-31T00:30'))[0]?.data).toMatchObject({ s: 20 })
    // ...while 00:30 UTC on 31 January is still 30 January there.
    expect((await range('2024-01-31T00:30:00Z', at('2024-01-31T00:30:00Z')))[0]?.data).toMatchObject({ s: 10 })
    expect((await range('2024-01-31T05:30:00+05:00', '2024-01-31T00:30:00.000Z'))[0]?.data).toMatchObject({ s: 10 })
  })

  it('refuses date strings that Date reads in the process time zone (FIX Q38)', async () => {
    for (const startDate of ['01/31/2024', '2024-01-31 00:30', 'Jan 31 2024', '2024-13-01', '1706659200000']) {
      const [entry] = await customRangeAggr(context(), [{ type: 'miner', startDate, endDate: '2024-02-01' }])
      expect(entry?.error, startDate).toBe('ERR_START_DATE_INVALID')
    }
  })

  it('reads a date-time without a zone the same whatever the process time zone (FIX Q38)', async () => {
    const request = { type: 'miner', startDate: '2024-01-31T00:30:00', endDate: '2024-01-31T23:30' }
    const savedZone = process.env.TZ
    try {
      for (const zone of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
        process.env.TZ = zone
        const [entry] = await customRangeAggr(context(), [request])
        expect(entry?.data).toEqual({ s: 20, a: 0, aggrCount: 3, aggrIntervals: 2 })
      }
    } finally {
      if (savedZone === undefined) delete process.env.TZ
      else process.env.TZ = savedZone
    }
  })

  it('reports each key error in its own entry, in the reference order of checks', async () => {
    const entries = await customRangeAggr(context(), [
      { startDate: '2024-01-01' },
      { type: 'miner', startDate: 'not a date', endDate: '2024-01-02' },
      { type: 'miner', startDate: '2024-01-01' },
      { type: 'miner', startDate: '2024-01-01', endDate: '2024-01-02', timezoneOffset: '0' },
      { type: 'other', startDate: '2024-01-01', endDate: '2024-01-02' },
      { type: 'unknown', startDate: '2024-01-01', endDate: '2024-01-02' },
      null,
    ])
    expect(entries.map((entry) => entry.error)).toEqual([
      'ERR_TYPE_INVALID',
      'ERR_START_DATE_INVALID',
      'ERR_END_DATE_INVALID',
      'ERR_TIMEZONE_OFFSET_INVALID',
      'ERR_TYPE_AGGR_INVALID',
      null,
      'ERR_TYPE_INVALID',
    ])
    expect(entries[5]).toEqual({ type: 'unknown', data: {}, error: null })
  })
  it('checks the start date before the end date, and reads a null timezoneOffset as no zone (not 0)', async () => {
    const entries = await customRangeAggr(context(), [
      { type: 'miner', startDate: 'not a date', endDate: 'not a date either' },
      // The reference's default (`timezoneOffset = 0`) applies to undefined only: null matches no offset.
      { type: 'miner', startDate: '2024-01-30', endDate: '2024-01-31', timezoneOffset: null },
    ])
    expect(entries.map((entry) => entry.error)).toEqual(['ERR_START_DATE_INVALID', 'ERR_TIMEZONE_OFFSET_INVALID'])
  })

  it("re-aggregates with the exact type's spec, not its base type's (COPY Q39): a subtype without one is refused", async () => {
    // aggr.stats.json has `miner` only; the `miner-x` entry has no ops of its own.
    const [entry] = await customRangeAggr(context(), [
      { type: 'miner-x', startDate: '2024-01-30', endDate: '2024-01-31' },
    ])
    expect(entry).toEqual({ type: 'miner-x', data: null, error: 'ERR_TYPE_AGGR_INVALID' })
  })
})

describe('the reference-layout index keys', () => {
  it('are written only when their rows change: the bee keeps every put', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ork-taillog-index-'))
    const corestore = new Corestore(join(directory, 'db'))
    const store = new TailLogHistoryStore({ store: corestore })
    try {
      await store.ready()
      const today = dayNumber('2024-03-10')
      const putDay = (day: number, rows: unknown[]) =>
        store.putDay(
          'miner',
          'UTC',
          day,
          { date: isoDate(day), startTs: 0, endTs: 0, fetchedAt: 0, complete: true, rows },
          null,
        )
      for (let index = 0; index < 5; index++) await putDay(today - index, [{ s: index }])
      expect(await store.writeIndex('miner', 'UTC', today, 180)).toBe(180)
      const core = corestore.get({ name: 'tail-log-aggr' })
      await core.ready()
      const length = core.length
      expect(length).toBeGreaterThan(180)
      expect(await store.writeIndex('miner', 'UTC', today, 180)).toBe(0)
      expect(core.length).toBe(length)
      await core.close()
      // today's rows change: only index 0 is written
      await putDay(today, [{ s: 42 }])
      expect(await store.writeIndex('miner', 'UTC', today, 180)).toBe(1)
      expect(await store.getIndexRows('miner', 'UTC', 0)).toEqual([{ s: 42 }])
      // the next day every stored day moves one index back
      expect(await store.writeIndex('miner', 'UTC', today + 1, 180)).toBe(6)
      expect(await store.getIndexRows('miner', 'UTC', 1)).toEqual([{ s: 42 }])
      // a stopped run keeps the index of a day it has no record of (the reference's, on its root):
      // day today+1 has none, so index 1 keeps what it held
      await store.writeIndex('miner', 'UTC', today + 2, 180, { keepDaysNotStored: true })
      expect(await store.getIndexRows('miner', 'UTC', 1)).toEqual([{ s: 42 }])
      expect(await store.getIndexRows('miner', 'UTC', 3)).toEqual([{ s: 1 }])
    } finally {
      await store.close()
      await corestore.close()
      rmSync(directory, { recursive: true, force: true })
    }
  })
})

describe('the daily history on a full disk', () => {
  it('refuses a day with ERR_STORE_WRITE_FAILED, reports it, and keeps the days stored', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ork-taillog-full-'))
    const corestore = new Corestore(join(directory, 'db'))
    const refusing = refusingStore(corestore)
    const failures: unknown[] = []
    const store = new TailLogHistoryStore({ store: refusing.store, onWriteFailed: (error) => failures.push(error) })
    try {
      await store.ready()
      const day = dayNumber('2024-03-10')
      const record = (rows: unknown[]) => ({
        date: '2024-03-10',
        startTs: 0,
        endTs: 0,
        fetchedAt: 0,
        complete: true,
        rows,
      })
      await store.putDay('miner', 'UTC', day, record([{ s: 1 }]), 0)
      refusing.refuse()
      await expect(store.putDay('miner', 'UTC', day, record([{ s: 2 }]), 0)).rejects.toMatchObject({
        message: 'ERR_STORE_WRITE_FAILED',
        details: { code: 'EIO' },
      })
      await expect(store.pruneBefore('miner', 'UTC', day + 1)).rejects.toThrow('ERR_STORE_WRITE_FAILED')
      expect(failures).toHaveLength(2)
      expect((await store.getDay('miner', 'UTC', day))?.rows).toEqual([{ s: 1 }])
    } finally {
      await store.close()
      await corestore.close()
      rmSync(directory, { recursive: true, force: true })
    }
  })
})

describe('tailLogMulti requests', () => {
  it('merge each key with the shared params (which win, Q3) and share them instead of copying them per key', () => {
    const shared = { type: 'miner', limit: 3, extra: { rows: Array.from({ length: 1000 }, (_, index) => index) } }
    const requests = tailLogMultiRequests(
      [
        { type: 'container', key: 'stat-5m', limit: 9 },
        { type: 'powermeter', key: 'stat-3h' },
      ],
      shared,
    )
    expect(requests.map(({ type, key, limit }) => ({ type, key, limit }))).toEqual([
      { type: 'miner', key: 'stat-5m', limit: 3 },
      { type: 'miner', key: 'stat-3h', limit: 3 },
    ])
    // One large parameter and many keys: a copy per key took gigabytes for a request of a few MB.
    const [first, second] = requests as Record<string, unknown>[]
    expect(first?.extra).toBe(shared.extra)
    expect(second?.extra).toBe(shared.extra)
  })
})

describe('the daily history job decisions (a fake tailLog, one fixed-offset zone per test)', () => {
  const HOUR_MS = 3_600_000
  let directory: string
  let corestore: Corestore
  let store: TailLogHistoryStore
  let clock = 0

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'ork-taillog-job-'))
    corestore = new Corestore(join(directory, 'db'))
    store = new TailLogHistoryStore({ store: corestore })
    await store.ready()
  })

  afterAll(async () => {
    await store?.close()
    await corestore?.close()
    rmSync(directory, { recursive: true, force: true })
  })

  interface FakeJobOptions {
    /** Zone code: the days of each test are stored apart. */
    code: string
    aggrData?: Partial<AggrDataConfig>
    /** How many racks answered and failed a request (default: one answered). */
    answer?: (request: TailLogRequest) => { answeredRacks: number; failedRacks: number }
    /** The rows of a request (default `[{ts: 0}]`). */
    rows?: (request: TailLogRequest) => unknown[]
  }

  function fakeJob(options: FakeJobOptions) {
    const requests: TailLogRequest[] = []
    const zones: TimezoneConfig[] = [{ code: options.code, offset: 0 }]
    const job = new TailLogAggregationJob({
      store,
      aggrData: () => ({
        aggrTailLogStoreDays: 2,
        aggrTailLogApiDelay: 1,
        aggrTailLogKeys: [{ key: 'stat-5m', type: 'miner', tag: 't-miner' }],
        ...options.aggrData,
      }),
      timezones: () => zones,
      tailLog: async (request) => {
        requests.push(request)
        const rows = options.rows?.(request) ?? [{ ts: 0 }]
        return { rows, ...(options.answer?.(request) ?? { answeredRacks: 1, failedRacks: 0 }) }
      },
      now: () => clock,
    })
    const run = async () => {
      await job.run()
      return job.lastRun?.fetched.map((day) => `${day.date} ${day.complete}`)
    }
    const day = (date: string) => store.getDay('miner', options.code, dayNumber(date))
    return { job, requests, zones, run, day }
  }

  it('keeps yesterday open until DAY_SETTLE_MS after midnight: racks write its last records a little after', async () => {
    const { run } = fakeJob({ code: 'SETTLE' })
    clock = at('2024-03-05T00:05:00Z')
    expect(await run()).toEqual(['2024-03-05 false', '2024-03-04 false'])
    clock = at('2024-03-05T00:00:00Z') + DAY_SETTLE_MS
    expect(await run()).toEqual(['2024-03-05 false', '2024-03-04 true'])
  })

  it('fetches a finished day again when it was fetched later than now: judged over by a clock since stepped back', async () => {
    const { run, day } = fakeJob({ code: 'AHEAD' })
    // The clock is five hours ahead: at 21:00 on the 5th it reads 02:00 on the 6th, and the 5th looks over.
    clock = at('2024-03-06T02:00:00Z')
    expect(await run()).toEqual(['2024-03-06 false', '2024-03-05 true'])
    // NTP steps it back at 00:30 on the 6th: the 5th is fetched again, its last three hours included.
    clock = at('2024-03-06T00:30:00Z')
    expect(await run()).toEqual(['2024-03-06 false', '2024-03-05 true'])
    expect(await day('2024-03-05')).toMatchObject({ fetchedAt: clock, complete: true })
    clock += HOUR_MS
    expect(await run()).toEqual(['2024-03-06 false'])
  })

  it('counts failed fetches towards giving up on a rack only once the day has settled', async () => {
    // One rack of two fails every fetch. Its failures while the day is live (or not yet settled)
    // must not use up the 3 fetches after which the day is kept without it.
    const { run, day } = fakeJob({ code: 'LIVEFAIL', answer: () => ({ answeredRacks: 1, failedRacks: 1 }) })
    clock = at('2024-03-05T12:00:00Z')
    await run()
    clock = at('2024-03-06T00:05:00Z')
    await run()
    clock = at('2024-03-06T00:00:00Z') + DAY_SETTLE_MS
    expect(await run()).toEqual(['2024-03-06 false', '2024-03-05 false'])
    expect(await day('2024-03-05')).toMatchObject({ complete: false, failedFetches: 1 })
  })

  it('never finishes a past day no rack answered, even once it gave up on the failing racks', async () => {
    // Racks answer today but every rack fails the past day (a run stops at a day no rack answered,
    // so only a past day can be the one nobody answers).
    const { run, day } = fakeJob({
      code: 'NOANSWER',
      answer: (request) =>
        request.end === clock ? { answeredRacks: 1, failedRacks: 0 } : { answeredRacks: 0, failedRacks: 2 },
    })
    clock = at('2024-03-06T12:00:00Z')
    for (let fetch = 0; fetch < 3; fetch++) {
      expect(await run()).toEqual(['2024-03-06 false', '2024-03-05 false'])
      clock += HOUR_MS
    }
    expect(await day('2024-03-05')).toMatchObject({ complete: false, failedFetches: 3 })
  })

  it("fetches finished days again when the zone's offset changes under the same code (its days moved)", async () => {
    const { run, zones, day } = fakeJob({ code: 'MOVED' })
    clock = at('2024-03-06T12:00:00Z')
    expect(await run()).toEqual(['2024-03-06 false', '2024-03-05 true'])
    zones[0] = { code: 'MOVED', offset: HOUR_MS }
    clock += HOUR_MS
    expect(await run()).toEqual(['2024-03-06 false', '2024-03-05 true'])
    expect(await day('2024-03-05')).toMatchObject({ startTs: at('2024-03-04T23:00:00Z') })
  })

  it('asks the racks with the last of several aggrTailLogKeys entries of a type', async () => {
    const { run, requests } = fakeJob({
      code: 'LASTENTRY',
      aggrData: {
        aggrTailLogStoreDays: 1,
        aggrTailLogKeys: [
          { key: 'stat-3h', type: 'miner', tag: 't-first' },
          { key: 'stat-5m', type: 'miner', tag: 't-last' },
        ],
      },
    })
    clock = at('2024-03-06T12:00:00Z')
    await run()
    expect(requests.map(({ key, tag }) => `${key} ${tag}`)).toEqual(['stat-5m t-last'])
  })

  it('reads aggrTailLogStoreDays: 0 as the default 180 days (`value || default`, as the reference)', async () => {
    let job: TailLogAggregationJob | undefined
    // Stop at the first rack query: the plan (todo) is what counts.
    ;({ job } = fakeJob({
      code: 'DAYS0',
      aggrData: { aggrTailLogStoreDays: 0 },
      answer: () => {
        void job?.close()
        return { answeredRacks: 1, failedRacks: 0 }
      },
    }))
    clock = at('2024-03-06T12:00:00Z')
    await job.run()
    expect(job.lastRun).toMatchObject({ todo: DEFAULT_TAIL_LOG_STORE_DAYS, interrupted: true })
  })

  it('renumbers the index keys for the new day also when a run is stopped half-way', async () => {
    // Stopped after today's fetch: without the renumbering, index 1 still held the day before
    // yesterday (yesterday's numbering) and yesterday had no index: what the reference reads.
    let stop = false
    let job: TailLogAggregationJob | undefined
    ;({ job } = fakeJob({
      code: 'STOPPED',
      aggrData: { aggrTailLogStoreDays: 3 },
      rows: (request) => [{ ts: 0, start: request.start }],
      answer: () => {
        if (stop) void job?.close()
        return { answeredRacks: 1, failedRacks: 0 }
      },
    }))
    clock = at('2024-03-05T12:00:00Z')
    await job.run()
    clock = at('2024-03-06T12:00:00Z')
    stop = true
    await job.run()
    expect(job.lastRun).toMatchObject({ interrupted: true, done: 1 })
    const starts = []
    for (let index = 0; index < 3; index++) {
      starts.push(((await store.getIndexRows('miner', 'STOPPED', index)) as { start: number }[])[0]?.start)
    }
    expect(starts).toEqual([at('2024-03-06T00:00:00Z'), at('2024-03-05T00:00:00Z'), at('2024-03-04T00:00:00Z')])
  })

  it('reads aggrTailLogApiDelay: 0 as the default 1 s pause before each rack query (`value || default`)', async () => {
    const { job, requests } = fakeJob({ code: 'DELAY0', aggrData: { aggrTailLogApiDelay: 0 } })
    clock = at('2024-03-06T12:00:00Z')
    const running = job.run()
    await new Promise((resolve) => setTimeout(resolve, 200))
    // Still in the pause before the first query.
    expect(requests).toHaveLength(0)
    await job.close()
    await running
    expect(job.lastRun?.interrupted).toBe(true)
  })
})

describe('runTailLog against fake racks', () => {
  const rack = (id: string) => ({ id, type: 'pool-x', info: {} }) as RackRecord
  const aggregation = new OffThreadAggregation({ logger: silentLogger })
  afterAll(() => aggregation.close())
  type Reply = { ok: true; value: unknown } | { ok: false; error: Error }

  function dependencies(
    racks: RackRecord[],
    reply: (rack: RackRecord, method: string, payload: unknown) => Reply,
    config: { aggrStats: AggrStatsConfig; aggrCrossthg?: Record<string, CrossThingConfig> },
  ): TailLogDependencies {
    return {
      aggrStats: () => config.aggrStats,
      aggrCrossthg: () => config.aggrCrossthg,
      selectRacks: () => racks,
      allRacks: () => racks,
      maxReplyBytes: TRANSPORT_MAX_PAYLOAD_BYTES,
      fanOut: async (targets, method, payload) =>
        targets.map((target) => ({ rack: target, ...reply(target, method, payload) })),
      aggregation,
      logger: silentLogger,
    }
  }

  it("counts a rack's ERR_LOG_NOTFOUND as an empty answer, any other rack error (even ERR_LOG_…) as a failure", async () => {
    const errors: Record<string, Error> = {
      empty: new RemoteError('[HRPC_ERR]=ERR_LOG_NOTFOUND'),
      badKey: new RemoteError('[HRPC_ERR]=ERR_LOG_KEY_NOTFOUND'),
      down: new Error('TIMEOUT_EXCEEDED'),
    }
    const racks = ['ok', 'empty', 'badKey', 'down'].map(rack)
    const outcome = await runTailLog(
      dependencies(
        racks,
        (target) => {
          const error = errors[target.id]
          return error ? { ok: false, error } : { ok: true, value: [{ ts: 1, x: 1 }] }
        },
        { aggrStats: { pool: { ops: { x: { op: 'sum', src: 'x' } } } } as AggrStatsConfig },
      ),
      { type: 'pool-x' } as TailLogRequest,
    )
    expect(outcome).toMatchObject({ answeredRacks: 2, failedRacks: 2 })
  })

  // Pool racks whose rows name their workers in `names`; cross-thing aggregation counts the workers per container.
  const poolConfig = {
    aggrStats: {
      pool: { ops: { workers: { op: 'arr_concat', src: 'workers' }, names: { op: 'arr_concat', src: 'names' } } },
    } as unknown as AggrStatsConfig,
    aggrCrossthg: {
      'pool-x': {
        searchAggr: [{ $unwind: '$names' }, { $group: { _id: null, ids: { $addToSet: '$names' } } }],
        searchFields: { id: 1, 'info.container': 1 },
        crossArrKey: 'workers',
        crossObjKey: 'name',
        thgProperty: ['info', 'container'],
        groupAggr: [{ $group: { _id: '$crossThg', count: { $sum: 1 } } }],
      },
    } as unknown as Record<string, CrossThingConfig>,
  }

  it('computes every op when cross-thing aggregation applies, also those the inclusion aggrFields leaves out', async () => {
    // The cross-thing id lookup reads `names`, which aggrFields does not ask for: pruning that op
    // would leave the lookup without ids and every worker without its container.
    const reply = (_target: RackRecord, method: string): Reply =>
      method === 'listThings'
        ? {
            ok: true,
            value: [
              { id: 'm1', info: { container: 'c-A' } },
              { id: 'm2', info: { container: 'c-A' } },
            ],
          }
        : { ok: true, value: [{ ts: 1, workers: [{ name: 'm1' }, { name: 'm2' }], names: ['m1', 'm2'] }] }
    const { rows } = await runTailLog(dependencies([rack('pool-rack')], reply, poolConfig), {
      type: 'pool-x',
      applyAggrCrossthg: true,
      aggrFields: { workers: 1 },
    } as TailLogRequest)
    expect(rows).toEqual([
      { ts: 1, aggrTsRange: '', aggrCount: 1, workers: [{ _id: 'c-A', count: 2 }], aggrIntervals: 1 },
    ])
  })

  it('getWrkExtData links things across when asked, with string ts rows and the full type config', async () => {
    const lookups: unknown[] = []
    const reply = (_target: RackRecord, method: string, payload: unknown): Reply => {
      if (method !== 'listThings') {
        return { ok: true, value: [{ ts: 1, workers: [{ name: 'm1' }, { name: 'm2' }], names: ['m1', 'm2'] }] }
      }
      lookups.push(payload)
      return { ok: true, value: [{ id: 'm1', info: { container: 'c-A' } }] }
    }
    const racks = dependencies([rack('pool-rack')], reply, poolConfig)
    expect(await runWrkExtData(racks, { type: 'pool-x', applyAggrCrossthg: true })).toEqual([
      {
        ts: '1',
        workers: [
          { _id: 'c-A', count: 1 },
          { _id: null, count: 1 },
        ],
        names: ['m1', 'm2'],
      },
    ])
    expect(lookups).toHaveLength(1)
    expect(await runWrkExtData(racks, { type: 'pool-x' })).toEqual([
      { ts: '1', workers: [{ name: 'm1' }, { name: 'm2' }], names: ['m1', 'm2'] },
    ])
    expect(lookups).toHaveLength(1)
  })
})
