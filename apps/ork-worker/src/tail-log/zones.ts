import { OrkError } from '@ork/errors'

/** One day in ms. */
export const DAY_MS = 86_400_000

/** The reference's default zone list (`[{code: "UTC", offset: 0}]`). */
export const DEFAULT_TIMEZONES: readonly TimezoneConfig[] = Object.freeze([Object.freeze({ code: 'UTC', offset: 0 })])

/** One entry of `globalConfig.aggrTailLogTimezones`. */
export interface TimezoneConfig {
  code: string
  /** Fixed offset in ms east of UTC (the reference's form). */
  offset?: number | undefined
  /** IANA name (e.g. `America/New_York`): days follow its daylight-saving changes. */
  timezone?: string | undefined
}

/**
 * A calendar for the daily history. Days are numbered as days since 1970-01-01 in the
 * zone's own calendar, so that date arithmetic never depends on the process time zone (Q38).
 */
export interface HistoryZone {
  code: string
  offset: number | undefined
  timezone: string | undefined
  /** The local day containing instant `ts`. */
  dayOf(ts: number): number
  /** The first instant of local day `day` (its midnight, or the first instant after a gap). */
  startOfDay(day: number): number
}

/** `YYYY-MM-DD` of a day number (UTC arithmetic only). */
export function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

/** The day number of a `YYYY-MM-DD` date, or of any date `new Date()` understands (taken at UTC). */
export function dayFromDate(date: Date): number {
  return Math.floor(date.getTime() / DAY_MS)
}

/** A zone with a fixed offset: local midnight = floor((t + offset) / day) · day − offset (Q32 FIX). */
function fixedOffsetZone(code: string, offset: number): HistoryZone {
  return {
    code,
    offset,
    timezone: undefined,
    dayOf: (ts) => Math.floor((ts + offset) / DAY_MS),
    startOfDay: (day) => day * DAY_MS - offset,
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timezone, formatter)
  }
  return formatter
}

/** The zone's wall-clock time at `ts`, read as if it were UTC (ms). */
function wallClock(formatter: Intl.DateTimeFormat, ts: number): number {
  const parts: Record<string, number> = {}
  for (const part of formatter.formatToParts(ts)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  const { year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts
  return Date.UTC(year, month - 1, day, hour, minute, second) + (ts - Math.floor(ts / 1000) * 1000)
}

/**
 * A zone with an IANA name: offsets come from Intl.DateTimeFormat, so days are 23 or 25
 * hours long on daylight-saving changes.
 */
function ianaZone(code: string, timezone: string): HistoryZone {
  const formatter = formatterFor(timezone)
  const dayOf = (ts: number) => Math.floor(wallClock(formatter, ts) / DAY_MS)
  const startOfDay = (day: number): number => {
    const midnight = day * DAY_MS
    // Two rounds of "midnight minus the offset there" find midnight unless a gap swallows it.
    let candidate = midnight - (wallClock(formatter, midnight) - midnight)
    candidate = midnight - (wallClock(formatter, candidate) - candidate)
    if (dayOf(candidate) === day && dayOf(candidate - 1) < day) return candidate
    // No local midnight that day (a gap at 00:00): the day starts at the first instant carrying its date.
    let low = midnight - 2 * DAY_MS
    let high = midnight + 2 * DAY_MS
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2)
      if (dayOf(middle) >= day) high = middle
      else low = middle
    }
    return high
  }
  return { code, offset: undefined, timezone, dayOf, startOfDay }
}

/**
 * The calendar of one configured zone: an IANA `timezone` when given, else the fixed
 * `offset` (default 0, as the reference). Throws `ERR_TIMEZONE_INVALID` for an unknown
 * IANA name, a non-finite offset or a missing code.
 */
export function resolveHistoryZone(config: TimezoneConfig): HistoryZone {
  if (!config || typeof config.code !== 'string' || config.code.length === 0) {
    throw new OrkError('ERR_TIMEZONE_INVALID', { reason: 'code missing' })
  }
  if (config.timezone !== undefined) {
    try {
      formatterFor(config.timezone)
    } catch {
      throw new OrkError('ERR_TIMEZONE_INVALID', { code: config.code, timezone: config.timezone })
    }
    return ianaZone(config.code, config.timezone)
  }
  const offset = config.offset ?? 0
  if (typeof offset !== 'number' || !Number.isFinite(offset)) {
    throw new OrkError('ERR_TIMEZONE_INVALID', { code: config.code, offset })
  }
  return fixedOffsetZone(config.code, offset)
}

/** One day of the history as the reference's `daysTo24HrIntervals` numbers them (0 = today). */
export interface DayInterval {
  index: number
  /** The local day (days since 1970-01-01 in the zone's calendar). */
  day: number
  startTs: number
  /** `now` for today, else the next day's start (inclusive, as the reference queries it). */
  endTs: number
}

/** The last `days` local days of `zone` at `now`, today first (FIX Q32: the zone's midnights). */
export function dayIntervals(zone: HistoryZone, days: number, now: number): DayInterval[] {
  const today = zone.dayOf(now)
  const intervals: DayInterval[] = []
  for (let index = 0; index < days; index++) {
    const day = today - index
    intervals.push({
      index,
      day,
      startTs: zone.startOfDay(day),
      endTs: index === 0 ? now : zone.startOfDay(day + 1),
    })
  }
  return intervals
}

/**
 * The reference's `daysTo24HrIntervals(days, offsetMs)` with FIX Q32: interval 0 starts at
 * the local midnight of the zone at `offsetMs` and ends at `now`; each earlier one is the
 * previous 24 hours.
 */
export function daysTo24HrIntervals(
  days: number,
  offsetMs = 0,
  now: number = Date.now(),
): { startTs: number; endTs: number; index: number }[] {
  return dayIntervals(fixedOffsetZone('', offsetMs), days, now).map(({ startTs, endTs, index }) => ({
    startTs,
    endTs,
    index,
  }))
}

/** The reference's `isCurrentDay(ts, offsetMs)` with FIX Q33: same full local date at the offset for both instants. */
export function isCurrentDay(ts: number, offsetMs = 0, now: number = Date.now()): boolean {
  const zone = fixedOffsetZone('', offsetMs)
  return zone.dayOf(ts) === zone.dayOf(now)
}
