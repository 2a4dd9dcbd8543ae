import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Logger, silentLogger } from '@ork/logger'
import type { TailLogRequest } from '@ork/stats'
import type { AggrDataConfig, AggrTailLogKey } from '../config/schemas.ts'
import type { TailLogHistoryStore } from './history-store.ts'
import type { TailLogOutcome } from './run-tail-log.ts'
import {
  DAY_MS,
  type DayInterval,
  DEFAULT_TIMEZONES,
  dayIntervals,
  type HistoryZone,
  isoDate,
  resolveHistoryZone,
  type TimezoneConfig,
} from './zones.ts'

/** Default period of the job (`aggrData.agrrTailLogIntvlMs`, key typo as the reference, Q1). */
export const DEFAULT_TAIL_LOG_INTERVAL_MS = 3_600_000
/** Default history length (`aggrTailLogStoreDays`). */
export const DEFAULT_TAIL_LOG_STORE_DAYS = 180
/** Default pause before each rack query (`aggrTailLogApiDelay`; 0 also means this, as the reference). */
export const DEFAULT_TAIL_LOG_API_DELAY_MS = 1_000
/**
 * A finished day is fetched once more if it was last fetched less than this long after it
 * ended: racks write the last 5-minute records of a day a little after midnight.
 */
export const DAY_SETTLE_MS = 10 * 60_000
/**
 * A past day that some rack failed to answer is fetched again at the next runs, but at most this
 * many times once it has ended: a rack that is gone for good (down, decommissioned but still
 * registered) must not make every run fetch the whole history again. The day is then kept with
 * what the other racks answered, as the reference keeps whatever its one fetch returned.
 */
export const MAX_FAILED_DAY_FETCHES = 3

export interface TailLogAggregationOptions {
  store: TailLogHistoryStore
  /** `conf.aggrData` (read at every run). */
  aggrData: () => AggrDataConfig | undefined
  /** `globalConfig.aggrTailLogTimezones` (read at every run). */
  timezones: () => readonly TimezoneConfig[] | undefined
  /** The ork's tailLog. */
  tailLog: (request: TailLogRequest) => Promise<TailLogOutcome>
  /** The aggr.stats.json spec a type is aggregated with (part of each day's fingerprint). */
  aggrSpec?: (type: string) => unknown
  now?: () => number
  logger?: Logger
}

/** One day fetched by a run. */
export interface FetchedDay {
  type: string
  code: string
  date: string
  complete: boolean
}

/** The days of one log key and zone that a run fetches. */
interface KeyPlan {
  logKey: AggrTailLogKey
  zone: HistoryZone
  /** The fingerprint the key's days are stored with (see {@link daySource}). */
  source: string
  /** Today's local day number in the zone. */
  today: number
  /** Days to fetch, today first. */
  missing: DayInterval[]
  /** Failed fetches of ended days stored so far, by date (same `source` only). */
  failedFetches: Map<string, number>
}

/** What the last run did. */
export interface TailLogRunSummary {
  startedAt: number
  /** Days that needed a rack query when the run started. */
  todo: number
  done: number
  fetched: FetchedDay[]
  /** True when the run stopped early (closing). */
  interrupted: boolean
}

/** The reference's tailLog request of one day (`_getTailLogAggrParams`), built from a copy of the config entry. */
function dayRequest(logKey: AggrTailLogKey, interval: DayInterval, limit: number | undefined): TailLogRequest {
  return {
    key: logKey.key,
    type: logKey.type,
    tag: logKey.tag,
    ...(logKey.fields ? { fields: structuredClone(logKey.fields) } : {}),
    ...(logKey.aggrFields ? { aggrFields: structuredClone(logKey.aggrFields) } : {}),
    start: interval.startTs,
    end: interval.endTs,
    limit,
    aggrTimes: [{ start: interval.startTs, end: interval.endTs }],
  } as TailLogRequest
}

/**
 * Fingerprint of what a key's days are computed from: the request the job sends, the zone's
 * definition and the type's aggregation spec. A stored day with another one (the config
 * changed, or it was stored before days had one) is fetched again.
 */
function daySource(logKey: AggrTailLogKey, zone: HistoryZone, spec: unknown): string {
  const { key, tag, fields, aggrFields, limit } = logKey
  const basis = JSON.stringify({ key, tag, fields, aggrFields, limit, zone: [zone.offset, zone.timezone], spec })
  return createHash('sha256').update(basis).digest('hex').slice(0, 32)
}

/**
 * The per-day record limit: the configured one (288 = a day of 5-minute records), scaled
 * for the 23- and 25-hour days of a zone with daylight saving, so those days are cut the
 * same way as 24-hour days.
 */
function dayLimit(limit: number | undefined, zone: HistoryZone, interval: DayInterval): number | undefined {
  if (limit === undefined) return undefined
  const length = zone.startOfDay(interval.day + 1) - interval.startTs
  return length === DAY_MS ? limit : Math.ceil((limit * length) / DAY_MS)
}

/**
 * The daily history job (ork-behaviour.md 7.1, aggregateTailLogs): every period, for each
 * `aggrTailLogKeys` entry and each zone, the aggregate of each of the last
 * `aggrTailLogStoreDays` local days is stored in the `tail-log-aggr` bee.
 *
 * Fixes of the reference: days start at the zone's midnight (Q32, Q33; IANA zones follow
 * daylight saving), the number of days is per zone (Q34), finished days are stored by
 * date and not fetched again — also after a restart (Q31, Q35) — unless what they were
 * computed from changed (see {@link daySource}), and no date maths uses the process time
 * zone (Q38). A day is finished only when at least one rack, and every rack, answered.
 * A run never overlaps another, never throws (errors are logged), logs its progress, and
 * stops between two days when the job is closed.
 */
export class TailLogAggregationJob {
  readonly #options: TailLogAggregationOptions
  readonly #logger: Logger
  readonly #now: () => number
  readonly #abort = new AbortController()
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #closed = false
  /** Progress of the run in progress, or the summary of the last one. */
  lastRun: TailLogRunSummary | null = null

  constructor(options: TailLogAggregationOptions) {
    this.#options = options
    this.#logger = options.logger ?? silentLogger
    this.#now = options.now ?? Date.now
  }

  /** Starts the period (first run one period after start, as the reference); no-op when started or closed. */
  start(intervalMs: number = DEFAULT_TAIL_LOG_INTERVAL_MS): void {
    if (this.#timer || this.#closed) return
    this.#timer = setInterval(() => {
      void this.run()
    }, intervalMs)
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.#running !== null
  }

  /** One run; resolves false at once when a run is already in progress or the job is closed. */
  async run(): Promise<boolean> {
    if (this.#running || this.#closed) return false
    this.#running = this.#run()
      .catch((error: unknown) => this.#logger.error('tail-log aggregation failed', { error }))
      .finally(() => {
        this.#running = null
      })
    await this.#running
    return true
  }

  /** Stops the period, interrupts the run in progress between two days and waits for it. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    this.#abort.abort()
    await this.#running
  }

  /**
   * One entry per type, the last: days are stored per type, so two entries of a type would
   * overwrite each other's days (the reference keeps the last one written) and, stored with
   * different fingerprints, be fetched again at every run.
   */
  #lastEntryPerType(entries: readonly AggrTailLogKey[]): AggrTailLogKey[] {
    const byType = new Map<string, AggrTailLogKey>()
    const repeated = new Set<string>()
    for (const entry of entries) {
      if (byType.has(entry.type)) repeated.add(entry.type)
      byType.set(entry.type, entry)
    }
    if (repeated.size > 0) {
      // tailLogCustomRangeAggr re-aggregates stored days with the first entry (spec 4.9, as the
      // reference): with different ops or aggrFields, ranges would not match the stored days.
      this.#logger.warn(
        'aggr.data.json has several aggrTailLogKeys entries of a type: the last one is stored, tailLogCustomRangeAggr uses the first; keep one',
        { types: [...repeated] },
      )
    }
    return [...byType.values()]
  }

  #zones(): HistoryZone[] {
    const configured = this.#options.timezones() ?? DEFAULT_TIMEZONES
    const zones: HistoryZone[] = []
    for (const config of configured) {
      try {
        zones.push(resolveHistoryZone(config))
      } catch (error) {
        this.#logger.error('tail-log aggregation skips an invalid time zone', { timezone: config, error })
      }
    }
    return zones
  }

  async #run(): Promise<void> {
    const aggrData = this.#options.aggrData()
    if (!aggrData) return
    const { store } = this.#options
    const days = aggrData.aggrTailLogStoreDays || DEFAULT_TAIL_LOG_STORE_DAYS
    const logKeys = this.#lastEntryPerType(aggrData.aggrTailLogKeys ?? [])
    const zones = this.#zones()
    const now = this.#now()

    // Plan first, so that progress can be told as "days done of days to do".
    const plan: KeyPlan[] = []
    let todo = 0
    let fetchedAhead = 0
    for (const logKey of logKeys) {
      const spec = this.#options.aggrSpec?.(logKey.type) ?? null
      for (const zone of zones) {
        const source = daySource(logKey, zone, spec)
        const intervals = dayIntervals(zone, days, now)
        const oldest = intervals.at(-1)?.day ?? zone.dayOf(now)
        const stored = await store.getDays(logKey.type, zone.code, oldest, zone.dayOf(now))
        const current = stored.filter((day) => day.source === source)
        // A day fetched "later than now" was judged over (ended, settled) by a clock that was ahead
        // and has since been stepped back: it may lack the records of the end of the day.
        fetchedAhead += current.filter((day) => day.complete && day.fetchedAt > now).length
        const complete = new Set(current.filter((day) => day.complete && day.fetchedAt <= now).map((day) => day.date))
        const failedFetches = new Map(current.map((day) => [day.date, day.failedFetches ?? 0]))
        const missing = intervals.filter((interval) => !complete.has(isoDate(interval.day)))
        todo += missing.length
        plan.push({ logKey, zone, source, today: intervals[0]?.day ?? zone.dayOf(now), missing, failedFetches })
      }
    }
    if (fetchedAhead > 0) {
      this.#logger.warn('tail-log days were fetched later than now (the clock went back): fetching them again', {
        days: fetchedAhead,
        now,
      })
    }
    const summary: TailLogRunSummary = { startedAt: now, todo, done: 0, fetched: [], interrupted: false }
    this.lastRun = summary
    this.#logger.info('tail-log aggregation started', { todo, days, keys: logKeys.length, zones: zones.length })
    const logEvery = Math.max(1, Math.ceil(todo / 10))

    for (const keyPlan of plan) {
      const { logKey, zone, today } = keyPlan
      if (!summary.interrupted) {
        try {
          await this.#fetchDays(keyPlan, summary, logEvery)
        } catch (error) {
          // A broken entry (e.g. a type without aggr.stats.json spec) must not stop the others.
          this.#logger.error('tail-log aggregation failed for a key', { type: logKey.type, zone: zone.code, error })
        }
      }
      // Index keys for the reference's readers: every day moves one index at each local midnight.
      // Also when the run was stopped: the days it fetched went to today's indices, and the others
      // must move with them, or a reader (the reference, after a switch back) sees yesterday's
      // numbering next to today's, one day twice and one not at all. A stopped run leaves the index
      // of a day it has no record of as it is: on a root the reference wrote, that is its own day.
      await store.writeIndex(logKey.type, zone.code, today, days, { keepDaysNotStored: summary.interrupted })
      if (summary.interrupted) continue
      const pruned = await store.pruneBefore(logKey.type, zone.code, today - days + 1)
      if (pruned > 0) this.#logger.debug('tail-log days pruned', { type: logKey.type, code: zone.code, pruned })
    }
    if (summary.interrupted) this.#logger.info('tail-log aggregation interrupted', { done: summary.done, todo })
    else this.#logger.info('tail-log aggregation done', { done: summary.done, todo })
  }

  async #fetchDays(keyPlan: KeyPlan, summary: TailLogRunSummary, logEvery: number): Promise<void> {
    // One line for all of them: a rack gone for good gives up on a whole window of days in one run.
    const keptWithoutFailedRacks: string[] = []
    try {
      await this.#fetchEachDay(keyPlan, summary, logEvery, keptWithoutFailedRacks)
    } finally {
      if (keptWithoutFailedRacks.length > 0) {
        this.#logger.warn('tail-log days kept without the racks that failed them at every fetch', {
          type: keyPlan.logKey.type,
          zone: keyPlan.zone.code,
          days: keptWithoutFailedRacks.length,
          newest: keptWithoutFailedRacks[0],
          oldest: keptWithoutFailedRacks.at(-1),
          fetches: MAX_FAILED_DAY_FETCHES,
        })
      }
    }
  }

  async #fetchEachDay(
    { logKey, zone, source, missing, failedFetches }: KeyPlan,
    summary: TailLogRunSummary,
    logEvery: number,
    keptWithoutFailedRacks: string[],
  ): Promise<void> {
    const { store } = this.#options
    const delay = this.#options.aggrData()?.aggrTailLogApiDelay || DEFAULT_TAIL_LOG_API_DELAY_MS
    for (const interval of missing) {
      if (this.#closed) {
        summary.interrupted = true
        return
      }
      try {
        await sleep(delay, undefined, { signal: this.#abort.signal })
      } catch {
        summary.interrupted = true
        return
      }
      const request = dayRequest(logKey, interval, dayLimit(logKey.limit, zone, interval))
      const { rows, answeredRacks, failedRacks } = await this.#options.tailLog(request)
      const fetchedAt = this.#now()
      const settled = fetchedAt >= interval.endTs + DAY_SETTLE_MS
      const date = isoDate(interval.day)
      const failed = (failedFetches.get(date) ?? 0) + (settled && failedRacks > 0 ? 1 : 0)
      const givenUp = failedRacks > 0 && failed >= MAX_FAILED_DAY_FETCHES
      const complete = interval.index > 0 && answeredRacks > 0 && settled && (failedRacks === 0 || givenUp)
      if (complete && givenUp) keptWithoutFailedRacks.push(date)
      await store.putDay(
        logKey.type,
        zone.code,
        interval.day,
        {
          date,
          startTs: interval.startTs,
          endTs: interval.endTs,
          fetchedAt,
          complete,
          rows,
          source,
          ...(failed > 0 ? { failedFetches: failed } : {}),
        },
        interval.index,
      )
      summary.done++
      summary.fetched.push({ type: logKey.type, code: zone.code, date, complete })
      if (summary.done % logEvery === 0 || summary.done === summary.todo) {
        this.#logger.info('tail-log aggregation progress', { done: summary.done, todo: summary.todo })
      }
      if (answeredRacks === 0) {
        // No rack of the type is registered, or none answered: every other day would come back
        // empty too. They stay open (a day nobody answered is never finished) and are fetched at
        // a later run, once racks of the type register or answer again.
        const skipped = missing.length - missing.indexOf(interval) - 1
        summary.todo -= skipped
        const reason = failedRacks === 0 ? 'no rack of the type' : 'no rack of the type answered'
        this.#logger.warn(`tail-log aggregation: ${reason}, its days stay open`, {
          type: logKey.type,
          zone: zone.code,
          failedRacks,
          skipped,
        })
        return
      }
    }
  }
}
