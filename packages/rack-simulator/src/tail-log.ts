import { OrkError } from '@ork/errors'
import { isEmptyValue, projectDocuments } from './thing-query.ts'

type LogRecord = Record<string, unknown>

/**
 * A time log the rack can read: records every `intervalMs` from `firstTs` to
 * `lastTs` (both aligned), computed on demand — or, for `stat-rtd`, one record
 * stored under a non-time key.
 */
export type TimeLog =
  | { kind: 'series'; intervalMs: number; firstTs: number; lastTs: number; record: (ts: number) => LogRecord }
  | { kind: 'single'; record: () => LogRecord }

/** What tailLog needs from the rack. */
export interface TailLogSource {
  now(): number
  /** The log `${key}-${tag}` at rotation `offset`, or null when the rack has none. */
  openLog(key: string, tag: string, offset: number): TimeLog | null
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** The stat timeframes of miningos-lib-stats `defaults.timeframes` as intervals (cron `*\/5 min` → 5 min...). */
export const STAT_TIMEFRAMES: ReadonlyArray<readonly [string, number]> = [
  ['5m', 5 * MINUTE],
  ['30m', 30 * MINUTE],
  ['3h', 3 * HOUR],
  ['1D', DAY],
]

/** Interval of a `stat-<timeframe>` key, or undefined for other keys. */
export function statInterval(key: string): number | undefined {
  return STAT_TIMEFRAMES.find(([timeframe]) => `stat-${timeframe}` === key)?.[1]
}

/** `getLogsCountForTimeRange`: records a stat key can hold between start and end (0 for other keys). */
function logsCountForTimeRange(start: unknown, end: unknown, key: string, now: number): number {
  const endValue = (end || now) as number
  const startValue = (start ?? 0) as number
  const interval = statInterval(key)
  if (!interval) return 0
  return Math.ceil((endValue - startValue) / interval) + 1
}

function toTimestamp(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new OrkError('ERR_INVALID_ARG_TYPE')
  return value
}

/** Reads a log newest first within [start, end], at most `limit` records (undefined = all). */
function readLog(log: TimeLog, start: unknown, end: unknown, limit: number | undefined): LogRecord[] {
  if (log.kind === 'single') {
    // The single record sits under the key 'stat-rtd', which sorts after any 8-byte timestamp key.
    if (end) return []
    return limit === undefined || limit > 0 ? [log.record()] : []
  }
  let newest = log.lastTs
  let oldest = log.firstTs
  if (end) newest = Math.min(newest, Math.floor(toTimestamp(end) / log.intervalMs) * log.intervalMs)
  if (start) oldest = Math.max(oldest, Math.ceil(toTimestamp(start) / log.intervalMs) * log.intervalMs)
  const records: LogRecord[] = []
  for (let ts = newest; ts >= oldest; ts -= log.intervalMs) {
    if (limit !== undefined && records.length >= limit) break
    records.push(log.record(ts))
  }
  return records
}

const GROUP_RANGE_UNITS: Record<string, number> = { H: HOUR, D: DAY, W: 7 * DAY, M: 30 * DAY }

function parseGroupRange(range: unknown): number {
  if (typeof range !== 'string') throw new OrkError('range.trim is not a function')
  const match = /^(\d+)\s*([HDWM])s?$/i.exec(range.trim())
  if (!match) throw new OrkError('ERR_INVALID_GROUP_RANGE_FORMAT. Use formats like "1D", "1H", "1W", "1M"')
  return Number(match[1]) * (GROUP_RANGE_UNITS[(match[2] as string).toUpperCase()] as number)
}

function aggregateNumbers(values: unknown[], average: boolean): number {
  const numbers = values.filter((value): value is number => typeof value === 'number' && !Number.isNaN(value))
  if (numbers.length === 0) return 0
  const sum = numbers.reduce((total, value) => total + value, 0)
  return average ? sum / numbers.length : sum
}

function aggregateField(records: LogRecord[], field: string, average: boolean): unknown {
  const values = records.map((record) => record[field]).filter((value) => value !== undefined && value !== null)
  if (values.length === 0) return null
  const first = values[0]
  if (typeof first === 'object' && !Array.isArray(first)) {
    const keys = new Set<string>()
    for (const record of records) {
      const nested = record[field]
      if (nested && typeof nested === 'object') for (const key of Object.keys(nested)) keys.add(key)
    }
    const result: Record<string, unknown> = {}
    for (const key of keys) {
      const nestedValues = records
        .map((record) => (record[field] as Record<string, unknown> | undefined)?.[key])
        .filter((value) => typeof value === 'number')
      if (nestedValues.length > 0) {
        result[key] = aggregateNumbers(nestedValues, average)
      } else {
        const holder = records.find((record) => {
          const nestedValue = (record[field] as Record<string, unknown> | undefined)?.[key]
          return nestedValue !== undefined && nestedValue !== null
        })
        if (holder) result[key] = (holder[field] as Record<string, unknown>)[key]
      }
    }
    return Object.keys(result).length > 0 ? result : null
  }
  if (typeof first === 'number') return aggregateNumbers(values, average)
  return first
}

/** The rack's `groupRange` bucketing (`aggregateLogs`): ts becomes `"<start>-<end>"`. */
export function aggregateLogs(records: LogRecord[], groupRange: unknown, average: boolean): LogRecord[] {
  if (records.length === 0) return []
  const range = parseGroupRange(groupRange)
  // Records without a time (the `stat-rtd` record) fall in no bucket.
  const timed = records.filter((record) => typeof record.ts === 'number')
  const sorted = timed.sort((left, right) => (left.ts as number) - (right.ts as number))
  const buckets = new Map<number, LogRecord[]>()
  for (const record of sorted) {
    const bucket = Math.floor((record.ts as number) / range) * range
    const list = buckets.get(bucket) ?? []
    list.push(record)
    buckets.set(bucket, list)
  }
  const result: LogRecord[] = []
  for (const [bucketStart, bucketRecords] of buckets) {
    const ts = `${bucketStart}-${bucketStart + range - 1}`
    if (bucketRecords.length === 1) {
      result.push({ ...bucketRecords[0], ts })
      continue
    }
    const row: LogRecord = { ts }
    const fields = new Set<string>()
    for (const record of bucketRecords) for (const field of Object.keys(record)) if (field !== 'ts') fields.add(field)
    for (const field of fields) row[field] = aggregateField(bucketRecords, field, average)
    result.push(row)
  }
  return result
}

/** Highest log rotation walked for ranged stat reads (`ceil(logKeepCount * 1.5)` with logKeepCount 3). */
const LOG_MAX_HEIGHT = 5

/**
 * The rack's `tailLog`: validates key and tag, reads newest first with the
 * rack's limit rules, then applies `groupRange` and the `fields` projection.
 */
export function tailLog(source: TailLogSource, request: Record<string, unknown>): LogRecord[] {
  if (!request.key) throw new OrkError('ERR_LOG_KEY_NOTFOUND')
  const offset = (request.offset || 0) as number
  if (!request.tag) throw new OrkError('ERR_LOG_TAG_INVALID')
  const key = String(request.key)
  const tag = String(request.tag)
  const { start, end } = request
  const openOrThrow = (rotation: number): TimeLog => {
    const log = source.openLog(key, tag, rotation)
    if (!log) throw new OrkError('ERR_LOG_NOTFOUND')
    return log
  }
  // The read itself is limited by the raw request limit; the range rules below only trim it.
  const rawLimit = request.limit ? (request.limit as number) : undefined
  const limit = request.limit || (start || end ? undefined : 100)
  const inRange = logsCountForTimeRange(start, end, key, source.now())

  let records: LogRecord[]
  if ((!inRange && !limit) || offset >= LOG_MAX_HEIGHT) {
    records = readLog(openOrThrow(offset), start, end, rawLimit)
  } else {
    const remaining = (inRange && limit ? Math.min(inRange, limit as number) : inRange || limit) as number
    // The simulator keeps a whole history in rotation 0, so the walk over older
    // rotations the real rack does never has anything left to add.
    const readLimit = rawLimit === undefined ? remaining : Math.min(rawLimit, remaining)
    records = remaining > 0 ? readLog(openOrThrow(offset), start, end, readLimit) : []
    // The real rack then opens the next rotation, which does not exist: with nothing read yet,
    // that failure is its answer (a range before the log's first record, or past its last).
    if (remaining > 0 && records.length === 0) throw new OrkError('ERR_LOG_NOTFOUND')
  }

  if (request.groupRange) {
    const aggregated = aggregateLogs(records, request.groupRange, Boolean(request.shouldCalculateAvg))
    return isEmptyValue(request.fields) ? aggregated : projectDocuments(aggregated, request.fields)
  }
  return isEmptyValue(request.fields) ? records : projectDocuments(records, request.fields)
}
