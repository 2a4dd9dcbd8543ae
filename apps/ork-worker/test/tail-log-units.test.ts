import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tailLogMultiRequests } from '../src/methods/tail-log.ts'
import { customRangeAggr } from '../src/tail-log/custom-range.ts'
import { TailLogHistoryStore } from '../src/tail-log/history-store.ts'
import { DAY_MS, daysTo24HrIntervals, isCurrentDay, isoDate, resolveHistoryZone } from '../src/tail-log/zones.ts'

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
