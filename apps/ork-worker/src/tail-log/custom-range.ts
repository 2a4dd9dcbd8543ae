import { OrkError } from '@ork/errors'
import { type AggrStatsConfig, applyStats, type Projection, projectRows, tallyStats } from '@ork/stats'
import type { AggrDataConfig, AggrTailLogKey } from '../config/schemas.ts'
import type { StoredDay, TailLogHistoryStore } from './history-store.ts'
import { DEFAULT_TIMEZONES, dayFromDate, type HistoryZone, resolveHistoryZone, type TimezoneConfig } from './zones.ts'

/** One entry of a tailLogCustomRangeAggr request's `keys`. */
export interface CustomRangeKey {
  type?: unknown
  startDate?: unknown
  endDate?: unknown
  /** Selects the zone whose `offset` strictly equals it (default 0), as the reference. */
  timezoneOffset?: unknown
  /** Beyond the reference: selects a zone by IANA name (its `timezone`) or by `code`. */
  timezone?: unknown
  fields?: unknown
  shouldReturnDailyData?: unknown
  shouldReturnMonthlyData?: unknown
}

/** Per-key answer: `{type, data, error: null}` or `{type, data: null, error: <code or message>}`. */
export interface CustomRangeEntry {
  type: unknown
  data: unknown
  error: string | null
}

export interface CustomRangeContext {
  store: TailLogHistoryStore
  aggrData: AggrDataConfig
  aggrStats: AggrStatsConfig
  timezones: readonly TimezoneConfig[] | undefined
}

/** `2024-03-10`, or `2024-03-10T08:00[:00[.000]]` without a zone: a date of the zone's calendar. */
const ZONELESS_DATE = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/
/** An ISO date-time with `Z` or an offset: an instant. */
const ZONED_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/

/** A request date: an instant, or a date of the zone's calendar (`day` since 1970-01-01). */
type RequestDate = { instant: number } | { day: number }

/**
 * Reads a request date (FIX Q38: never in the process time zone):
 * - a timestamp (ms) or an ISO date-time with `Z` or an offset is an instant;
 * - an ISO date, or a date-time without a zone, is that date of the zone's calendar (wall-clock time there).
 * Any other string is refused with `code`: `Date` reads such strings in the process time zone.
 */
function parseRequestDate(value: unknown, code: string): RequestDate {
  if (!value) throw new OrkError(code)
  if (typeof value === 'number') {
    if (Number.isNaN(new Date(value).getTime())) throw new OrkError(code)
    return { instant: value }
  }
  const zoneless = typeof value === 'string' ? ZONELESS_DATE.exec(value) : null
  if (zoneless) {
    const midnight = Date.parse(`${zoneless[1]}T00:00:00Z`)
    if (!Number.isNaN(midnight)) return { day: dayFromDate(new Date(midnight)) }
  } else if (typeof value === 'string' && ZONED_DATE_TIME.test(value)) {
    const instant = Date.parse(value)
    if (!Number.isNaN(instant)) return { instant }
  }
  throw new OrkError(code, { reason: 'expected an ISO date, an ISO date-time or a timestamp' })
}

/** The local day of `zone` a request date designates. */
function requestDay(date: RequestDate, zone: HistoryZone): number {
  return 'day' in date ? date.day : zone.dayOf(date.instant)
}

function pickZone(key: CustomRangeKey, timezones: readonly TimezoneConfig[] | undefined): TimezoneConfig {
  const list = timezones ?? DEFAULT_TIMEZONES
  const found =
    typeof key.timezone === 'string'
      ? list.find((zone) => zone.timezone === key.timezone || zone.code === key.timezone)
      : list.find((zone) => zone.offset === (key.timezoneOffset === undefined ? 0 : key.timezoneOffset))
  if (!found) throw new OrkError('ERR_TIMEZONE_OFFSET_INVALID')
  return found
}

/** The reference's `_getTaillogAggrOps`: the entry's own ops, else every op of the type re-applied to its own output. */
function rangeState(
  logKey: AggrTailLogKey,
  type: string,
  aggrStats: AggrStatsConfig,
): { ops: Record<string, unknown> } {
  const own = (logKey as { ops?: unknown }).ops
  if (own && typeof own === 'object') return { ops: own as Record<string, unknown> }
  // COPY Q39: the exact type (not the base type); FIX Q39: a coded error instead of a TypeError.
  const spec = Object.hasOwn(aggrStats, type) ? aggrStats[type] : undefined
  if (!spec) throw new OrkError('ERR_TYPE_AGGR_INVALID', { type })
  const ops: Record<string, unknown> = {}
  for (const name of Object.keys(spec.ops)) ops[name] = { src: name, op: spec.ops[name]?.op }
  return { ops }
}

interface Accumulation {
  pack: Record<string, unknown>
  aggrCount: number
  aggrIntervals: number
  days: number
}

const newAccumulation = (): Accumulation => ({ pack: {}, aggrCount: 0, aggrIntervals: 0, days: 0 })

function accumulate(state: { ops: Record<string, unknown> }, into: Accumulation, day: StoredDay): void {
  for (const row of day.rows as Record<string, unknown>[]) {
    applyStats(state as never, into.pack as never, row as never)
    into.aggrCount += (row?.aggrCount as number) || 0
    into.aggrIntervals += (row?.aggrIntervals as number) || 0
  }
  into.days++
}

/** Projects the accumulators with the entry's `aggrFields` (as the reference, before tallying), then tallies. */
function finish(
  state: { ops: Record<string, unknown> },
  into: Accumulation,
  aggrFields: Projection | undefined,
): Record<string, unknown> {
  const projected =
    into.days === 0 ? {} : ((projectRows([into.pack], aggrFields ?? {})[0] ?? {}) as Record<string, unknown>)
  tallyStats(state as never, projected as never)
  return projected
}

/**
 * One key of tailLogCustomRangeAggr (ork-behaviour.md 4.9) over the stored daily
 * aggregates: validation (`ERR_TYPE_INVALID`, `ERR_START_DATE_INVALID`,
 * `ERR_END_DATE_INVALID`, `ERR_TIMEZONE_OFFSET_INVALID`, `ERR_TYPE_AGGR_INVALID`), then
 * - range (default): the days re-aggregated with the ops, plus `aggrCount`/`aggrIntervals`
 *   summed — `{aggrCount: 0, aggrIntervals: 0}` without stored days;
 * - daily: `[{ts: <start of the local day>, val: <first stored row projected with fields>}]`,
 *   oldest first, each day labelled with its own date (FIX Q36);
 * - monthly: `[{month, year, val}]` per calendar month of the zone, every stored day of the
 *   month included, in date order (FIX Q37; `year` added).
 */
export async function customRangeForKey(context: CustomRangeContext, key: CustomRangeKey): Promise<unknown> {
  if (!key || typeof key !== 'object' || !key.type) throw new OrkError('ERR_TYPE_INVALID')
  const start = parseRequestDate(key.startDate, 'ERR_START_DATE_INVALID')
  const end = parseRequestDate(key.endDate, 'ERR_END_DATE_INVALID')
  const zone = resolveHistoryZone(pickZone(key, context.timezones))
  const type = String(key.type)
  const logKey = (context.aggrData.aggrTailLogKeys ?? []).find((entry) => entry.type === type)
  if (!logKey) return {}
  const state = rangeState(logKey, type, context.aggrStats)
  const stored = await context.store.getDays(type, zone.code, requestDay(start, zone), requestDay(end, zone))

  if (key.shouldReturnDailyData) {
    const fields = (key.fields && typeof key.fields === 'object' ? key.fields : {}) as Projection
    return stored.map((day) => ({
      ts: zone.startOfDay(dayFromDate(new Date(day.date))),
      val: projectRows(day.rows, fields)[0],
    }))
  }
  if (key.shouldReturnMonthlyData) {
    const months = new Map<string, { year: number; month: number; into: Accumulation }>()
    for (const day of stored) {
      const year = Number(day.date.slice(0, 4))
      const month = Number(day.date.slice(5, 7))
      const monthKey = day.date.slice(0, 7)
      let entry = months.get(monthKey)
      if (!entry) {
        entry = { year, month, into: newAccumulation() }
        months.set(monthKey, entry)
      }
      accumulate(state, entry.into, day)
    }
    return [...months.values()].map(({ year, month, into }) => ({
      month,
      year,
      val: finish(state, into, logKey.aggrFields as Projection | undefined),
    }))
  }
  const into = newAccumulation()
  for (const day of stored) accumulate(state, into, day)
  const result = finish(state, into, logKey.aggrFields as Projection | undefined)
  return { ...result, aggrCount: into.aggrCount, aggrIntervals: into.aggrIntervals }
}

/** tailLogCustomRangeAggr: keys answered one after the other, each error in its own entry. */
export async function customRangeAggr(
  context: CustomRangeContext,
  keys: readonly unknown[],
): Promise<CustomRangeEntry[]> {
  const entries: CustomRangeEntry[] = []
  for (const key of keys) {
    const type = key && typeof key === 'object' ? (key as CustomRangeKey).type : undefined
    try {
      entries.push({ type, data: await customRangeForKey(context, key as CustomRangeKey), error: null })
    } catch (error) {
      entries.push({ type, data: null, error: error instanceof Error ? error.message : String(error) })
    }
  }
  return entries
}
