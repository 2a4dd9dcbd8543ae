import { join } from 'node:path'
import { createLogger } from '@ork/logger'
import { SimulatedRack } from '@ork/rack-simulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkerConfig } from '../src/config/load-config.ts'
import type { TailLogAggregationJob } from '../src/tail-log/aggregate-job.ts'
import type { StoredDay } from '../src/tail-log/history-store.ts'
import { type Harness, startHarness } from './support/harness.ts'
import { type HistoryOptions, historyConfig } from './support/history-config.ts'

/**
 * The daily history job end to end: simulated racks over a loopback testnet, the ork and
 * the racks on one controllable clock, short histories (3-6 days) and a 1 ms pause
 * between rack queries.
 */

const HOUR = 3_600_000
const DAY = 24 * HOUR
const at = (iso: string) => Date.parse(iso)

let clock = at('2024-03-05T12:00:00Z')
const now = () => clock
const logLines: string[] = []

let harness: Harness

const UTC_ONLY = [{ code: 'UTC', offset: 0 }]

/** Restarts the ork on the same root with a history config (one UTC zone unless told); returns the config. */
async function restartWithHistory(options: HistoryOptions, adjust?: (config: WorkerConfig) => void) {
  const config = historyConfig({ timezones: UTC_ONLY, ...options })
  adjust?.(config)
  await harness.restartOrk({ config })
  return config
}
const job = () => harness.ork.context.tailLogAggregation as TailLogAggregationJob
const store = () => harness.ork.context.tailLogHistory
const fetchedDates = () => job().lastRun?.fetched.map((day) => `${day.code} ${day.date}`)

async function storedDay(code: string, date: string): Promise<StoredDay | null> {
  return store().getDay('miner', code, Math.floor(at(`${date}T00:00:00Z`) / DAY))
}

beforeAll(async () => {
  harness = await startHarness({
    racks: [{ type: 'miner-am-s19xp', count: 3 }],
    now,
    orkOptions: {
      now,
      config: historyConfig(),
      logger: createLogger('ork', { write: (line) => logLines.push(line), level: 'info', debug: '' }),
    },
  })
}, 60_000)

afterAll(async () => {
  await harness?.close()
})

describe('daily history job', () => {
  it('stores each local day once, keeps finished days and refetches only today', async () => {
    expect(await job().run()).toBe(true)
    expect(fetchedDates()).toEqual([
      'UTC 2024-03-05',
      'UTC 2024-03-04',
      'UTC 2024-03-03',
      'NY 2024-03-05',
      'NY 2024-03-04',
      'NY 2024-03-03',
    ])
    const utcDay = await storedDay('UTC', '2024-03-04')
    expect(utcDay).toMatchObject({
      startTs: at('2024-03-04T00:00:00Z'),
      endTs: at('2024-03-05T00:00:00Z'),
      complete: true,
    })
    const row = utcDay?.rows[0] as Record<string, unknown>
    expect(row.aggrTsRange).toBe(`${at('2024-03-04T00:00:00Z')}-${at('2024-03-05T00:00:00Z')}`)
    expect(row.aggrIntervals).toBe(288)
    expect(typeof row.hashrate_mhs_5m_sum_aggr).toBe('number')
    // FIX Q32: New York days start at its midnight (05:00 UTC in winter).
    expect(await storedDay('NY', '2024-03-04')).toMatchObject({
      startTs: at('2024-03-04T05:00:00Z'),
      endTs: at('2024-03-05T05:00:00Z'),
    })
    // Today is live: stored, not complete, up to now.
    expect(await storedDay('UTC', '2024-03-05')).toMatchObject({ endTs: clock, complete: false })
    // The reference's index keys hold the same rows.
    expect(await store().getIndexRows('miner', 'UTC', 1)).toEqual(utcDay?.rows)
    expect(logLines.some((line) => line.includes('tail-log aggregation progress') && line.includes('"todo":6'))).toBe(
      true,
    )

    clock += HOUR
    await job().run()
    expect(fetchedDates()).toEqual(['UTC 2024-03-05', 'NY 2024-03-05'])
  })

  it('after a day change every index holds its own day (FIX Q31)', async () => {
    const before = await store().getIndexRows('miner', 'UTC', 1)
    clock = at('2024-03-06T12:00:00Z')
    await job().run()
    // The new day, and yesterday once more now that it is over.
    expect(fetchedDates()).toEqual(['UTC 2024-03-06', 'UTC 2024-03-05', 'NY 2024-03-06', 'NY 2024-03-05'])
    expect(await store().getIndexRows('miner', 'UTC', 2)).toEqual(before)
    const ranges = []
    for (let index = 0; index < 3; index++) {
      const rows = (await store().getIndexRows('miner', 'UTC', index)) as { aggrTsRange: string }[]
      ranges.push(rows[0]?.aggrTsRange.split('-')[0])
    }
    expect(ranges).toEqual([
      String(at('2024-03-06T00:00:00Z')),
      String(at('2024-03-05T00:00:00Z')),
      String(at('2024-03-04T00:00:00Z')),
    ])
    // Days that left the window are pruned.
    expect(await storedDay('UTC', '2024-03-03')).toBeNull()
  })

  it('serves tailLogCustomRangeAggr from the stored days: range, daily, monthly', async () => {
    const days = await Promise.all(['2024-03-04', '2024-03-05'].map((date) => storedDay('UTC', date)))
    const rows = days.map((day) => day?.rows[0] as Record<string, number>)
    const [range, daily, monthly, missing, badZone] = (await harness.call('tailLogCustomRangeAggr', {
      keys: [
        { type: 'miner', startDate: '2024-03-04', endDate: '2024-03-05' },
        {
          type: 'miner',
          startDate: '2024-03-04',
          endDate: '2024-03-06',
          shouldReturnDailyData: 1,
          fields: { aggrCount: 1 },
        },
        { type: 'miner', startDate: '2024-03-01', endDate: '2024-03-06', shouldReturnMonthlyData: true },
        { type: 'container', startDate: '2024-03-04', endDate: '2024-03-05' },
        { type: 'miner', startDate: '2024-03-04', endDate: '2024-03-05', timezoneOffset: 3_600_000 },
      ],
    })) as { type: string; data: unknown; error: string | null }[]
    const sum = (field: string) => (rows[0]?.[field] ?? 0) + (rows[1]?.[field] ?? 0)
    expect(range?.error).toBeNull()
    expect(range?.data).toMatchObject({
      hashrate_mhs_5m_sum_aggr: sum('hashrate_mhs_5m_sum_aggr'),
      hashrate_mhs_5m_avg_aggr: sum('hashrate_mhs_5m_avg_aggr') / 2,
      aggrCount: sum('aggrCount'),
      aggrIntervals: 576,
    })
    // FIX Q36: each day labelled with its own date, oldest first.
    expect(daily?.data).toEqual([
      { ts: at('2024-03-04T00:00:00Z'), val: { aggrCount: rows[0]?.aggrCount } },
      { ts: at('2024-03-05T00:00:00Z'), val: { aggrCount: rows[1]?.aggrCount } },
      { ts: at('2024-03-06T00:00:00Z'), val: { aggrCount: expect.any(Number) } },
    ])
    // FIX Q37: every stored day of the month counts.
    const [march] = (monthly?.data ?? []) as { month: number; year: number; val: Record<string, number> }[]
    expect(march).toMatchObject({ month: 3, year: 2024 })
    expect(march?.val.hashrate_mhs_5m_sum_aggr).toBeGreaterThan(sum('hashrate_mhs_5m_sum_aggr'))
    expect(missing).toEqual({ type: 'container', data: {}, error: null })
    expect(badZone).toEqual({ type: 'miner', data: null, error: 'ERR_TIMEZONE_OFFSET_INVALID' })
    const nyDaily = (await harness.call('tailLogCustomRangeAggr', {
      keys: [
        {
          type: 'miner',
          startDate: '2024-03-05',
          endDate: '2024-03-05',
          timezone: 'America/New_York',
          shouldReturnDailyData: true,
        },
      ],
    })) as { data: { ts: number }[] }[]
    expect(nyDaily[0]?.data.map((day) => day.ts)).toEqual([at('2024-03-05T05:00:00Z')])
  })

  it('follows daylight saving: 23- and 25-hour New York days', async () => {
    clock = at('2024-03-11T16:00:00Z')
    await job().run()
    const spring = await storedDay('NY', '2024-03-10')
    expect(spring).toMatchObject({
      startTs: at('2024-03-10T05:00:00Z'),
      endTs: at('2024-03-11T04:00:00Z'),
      complete: true,
    })
    expect(spring?.rows[0]).toMatchObject({ aggrIntervals: 23 * 12 })

    clock = at('2024-11-04T16:00:00Z')
    await job().run()
    const autumn = await storedDay('NY', '2024-11-03')
    expect(autumn).toMatchObject({
      startTs: at('2024-11-03T04:00:00Z'),
      endTs: at('2024-11-04T05:00:00Z'),
      complete: true,
    })
    expect(autumn?.rows[0]).toMatchObject({ aggrIntervals: 25 * 12 })
    // A plain UTC day next to it still has 288 five-minute records.
    expect((await storedDay('UTC', '2024-11-03'))?.rows[0]).toMatchObject({ aggrIntervals: 288 })
  })

  it('never runs twice at once', async () => {
    clock += HOUR
    const first = job().run()
    expect(job().running).toBe(true)
    expect(await job().run()).toBe(false)
    expect(await first).toBe(true)
  })

  it('a restart in the middle of a run resumes without refetching finished days (Q35)', async () => {
    const config = await restartWithHistory({ days: 6, delay: 25 })
    clock = at('2024-03-20T12:00:00Z')
    const interrupted = job().run()
    while ((job().lastRun?.done ?? 0) < 3) await new Promise((resolve) => setTimeout(resolve, 5))
    const firstJob = job()
    await harness.restartOrk({ config })
    await interrupted
    const before = firstJob.lastRun
    expect(before?.interrupted).toBe(true)
    const finished = new Set(before?.fetched.filter((day) => day.complete).map((day) => day.date))
    expect(finished.size).toBeGreaterThanOrEqual(2)
    expect(finished.size).toBeLessThan(5)

    await job().run()
    const all = ['2024-03-20', '2024-03-19', '2024-03-18', '2024-03-17', '2024-03-16', '2024-03-15']
    expect(job().lastRun?.fetched.map((day) => day.date)).toEqual(all.filter((date) => !finished.has(date)))
    expect(job().lastRun?.todo).toBe(6 - finished.size)
  })

  it('keeps the days of a type without racks open, and refetches finished days when the config changes', async () => {
    await restartWithHistory({ days: 3, extraKeys: [{ key: 'stat-5m', type: 'powermeter', tag: 't-powermeter' }] })
    clock = at('2024-04-10T12:00:00Z')
    const fetched = () => job().lastRun?.fetched.map((day) => `${day.type} ${day.date} ${day.complete}`)
    await job().run()
    // No powermeter rack: one empty, open day, then the others wait for racks to register.
    expect(fetched()).toEqual([
      'powermeter 2024-04-10 false',
      'miner 2024-04-10 false',
      'miner 2024-04-09 true',
      'miner 2024-04-08 true',
    ])
    expect(job().lastRun?.todo).toBe(4)
    clock += HOUR
    await job().run()
    expect(fetched()).toEqual(['powermeter 2024-04-10 false', 'miner 2024-04-10 false'])

    // The miner's aggrFields change: its finished days were computed without the new field.
    await restartWithHistory({ days: 3 }, (changed) => {
      const minerKey = changed.aggrData!.aggrTailLogKeys!.find((entry) => entry.type === 'miner')!
      minerKey.aggrFields = { ...minerKey.aggrFields, site_power_w: 1 }
    })
    await job().run()
    expect(fetched()).toEqual(['miner 2024-04-10 false', 'miner 2024-04-09 true', 'miner 2024-04-08 true'])
    await job().run()
    expect(fetched()).toEqual(['miner 2024-04-10 false'])
  })

  it("finishes the days before the racks' history: racks answer ERR_LOG_NOTFOUND for them, which is no failure", async () => {
    await restartWithHistory({ days: 10 })
    logLines.length = 0
    // The simulated racks keep 7 days of records: 2024-05-13 12:00 to now.
    clock = at('2024-05-20T12:00:00Z')
    await job().run()
    const finished = job()
      .lastRun?.fetched.filter((day) => day.complete)
      .map((day) => day.date)
    expect(finished).toEqual([
      '2024-05-19',
      '2024-05-18',
      '2024-05-17',
      '2024-05-16',
      '2024-05-15',
      '2024-05-14',
      '2024-05-13',
      '2024-05-12',
      '2024-05-11',
    ])
    expect((await storedDay('UTC', '2024-05-12'))?.rows).toEqual([])
    // the day the history starts in holds its afternoon
    const firstDay = (await storedDay('UTC', '2024-05-13'))?.rows[0] as { aggrCount: number }
    expect(firstDay.aggrCount).toBeGreaterThan(0)
    expect(logLines.filter((line) => line.includes('rack request failed'))).toEqual([])
    clock += HOUR
    await job().run()
    expect(fetchedDates()).toEqual(['UTC 2024-05-20'])
  })

  it('gives up on a rack that fails a past day at every fetch, and stops a run early when no rack answers', async () => {
    // A second miner rack that fails every tailLog (a rack gone bad but still registered).
    const failing = new SimulatedRack({
      type: 'miner-am-s19xp',
      count: 2,
      seed: 11,
      rackNumber: 2,
      now,
      storeDir: join(harness.root, 'failing-rack'),
      dhtOpts: harness.testnet.dhtOpts,
      faults: { failMethods: ['tailLog'] },
    })
    await failing.ready()
    await harness.call('registerRack', failing.registration())
    try {
      await restartWithHistory({ days: 3 })
      clock = at('2024-06-10T12:00:00Z')
      const run = async () => {
        await job().run()
        return job().lastRun?.fetched.map((day) => `${day.date} ${day.complete}`)
      }
      const open = ['2024-06-10 false', '2024-06-09 false', '2024-06-08 false']
      expect(await run()).toEqual(open)
      clock += HOUR
      expect(await run()).toEqual(open)
      clock += HOUR
      // the third fetch of the ended days with the same rack failing: kept with what the other answered
      expect(await run()).toEqual(['2024-06-10 false', '2024-06-09 true', '2024-06-08 true'])
      expect(await storedDay('UTC', '2024-06-09')).toMatchObject({ complete: true, failedFetches: 3 })
      // One line for the days given up on in a run, not one per day.
      const kept = logLines
        .filter((line) => line.includes('tail-log days kept without the racks that failed them'))
        .map((line) => JSON.parse(line))
      expect(kept).toMatchObject([
        { level: 'warn', type: 'miner', zone: 'UTC', days: 2, newest: '2024-06-09', oldest: '2024-06-08', fetches: 3 },
      ])
      clock += HOUR
      expect(await run()).toEqual(['2024-06-10 false'])

      // With every rack failing, the run stops after its first day instead of asking for every day.
      harness.site.racks[0]!.setFaults({ failMethods: ['tailLog'] })
      clock = at('2024-06-20T12:00:00Z')
      expect(await run()).toEqual(['2024-06-20 false'])
      expect(job().lastRun?.todo).toBe(1)
      expect(logLines.some((line) => line.includes('no rack of the type answered, its days stay open'))).toBe(true)
    } finally {
      harness.site.racks[0]!.setFaults({})
      await harness.call('forgetRacks', { ids: [failing.id] })
      await failing.close()
    }
  })

  it('stores the last of several entries of one type, without refetching them at every run', async () => {
    await restartWithHistory({ days: 2, extraKeys: [{ key: 'stat-3h', type: 'miner', tag: 't-miner' }] })
    logLines.length = 0
    clock = at('2024-07-10T12:00:00Z')
    await job().run()
    expect(fetchedDates()).toEqual(['UTC 2024-07-10', 'UTC 2024-07-09'])
    expect(
      logLines.some((line) => line.includes('several aggrTailLogKeys entries of a type') && line.includes('miner')),
    ).toBe(true)
    clock += HOUR
    await job().run()
    expect(fetchedDates()).toEqual(['UTC 2024-07-10'])
  })

  it('a broken entry is logged and does not stop the other entries', async () => {
    await restartWithHistory({ days: 1, extraKeys: [{ key: 'stat-5m', type: 'nospec', tag: 't-nospec' }] })
    logLines.length = 0
    clock = at('2024-03-25T12:00:00Z')
    expect(await job().run()).toBe(true)
    expect(fetchedDates()).toEqual(['UTC 2024-03-25'])
    expect(logLines.some((line) => line.includes('failed for a key') && line.includes('ERR_TYPE_AGGR_INVALID'))).toBe(
      true,
    )
  })
})

describe('the ork and its periodic jobs', () => {
  it('does not start the daily job with aggr.data.json but without aggr.stats.json (1.5)', async () => {
    await restartWithHistory({}, (config) => {
      config.aggrStats = undefined
    })
    expect(harness.ork.context.tailLogAggregation).toBeUndefined()
  })

  it('runs the daily job and the automation at their configured periods', async () => {
    await restartWithHistory({ days: 1 }, (config) => {
      config.aggrData!.agrrTailLogIntvlMs = 50
      // An automation config refused at every run: its log line tells that a run happened.
      config.crossAggrAction = { agrrListThingsIntvlMs: 50 } as WorkerConfig['crossAggrAction']
      config.globalConfig = { ...config.globalConfig, isAutoSleepAllowed: true }
    })
    logLines.length = 0
    const automationRan = () => logLines.some((line) => line.includes('ERR_CROSS_AGGR_ACTIONS_INVALID_CONFIG'))
    // The defaults are 1 h and 10 s: well past this deadline.
    const deadline = Date.now() + 3_000
    while ((job().lastRun === null || !automationRan()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(job().lastRun).not.toBeNull()
    expect(automationRan()).toBe(true)
  })
})
