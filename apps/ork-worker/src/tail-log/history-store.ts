import { writeStoreBatch } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import Hyperbee from 'hyperbee'
import { isoDate } from './zones.ts'

/** Name of the daily history bee on the worker's `store/<cluster>-db` corestore (the reference's). */
export const TAIL_LOG_AGGR_BEE_NAME = 'tail-log-aggr'

/** The reference's key of day `index` (0 = today) of one type and zone: `tail-log-miner-UTC-day-0`. */
export function dayIndexKey(type: string, code: string, index: number): string {
  return `tail-log-${type}-${code}-day-${index}`
}

/** Key of one absolute local date: `tail-log-miner-UTC-date-2024-03-10`. */
export function dayDateKey(type: string, code: string, day: number): string {
  return `${dateKeyPrefix(type, code)}${isoDate(day)}`
}

function dateKeyPrefix(type: string, code: string): string {
  return `tail-log-${type}-${code}-date-`
}

/** What is stored for one local day (date keys only; index keys hold `rows` alone, as the reference). */
export interface StoredDay {
  /** `YYYY-MM-DD` in the zone's calendar. */
  date: string
  startTs: number
  endTs: number
  fetchedAt: number
  /**
   * True once fetched after the day ended (plus a settling margin) with at least one rack and
   * every rack answering, or after the job gave up on racks that failed it at every fetch: not
   * fetched again while `source` stays the same.
   */
  complete: boolean
  /**
   * Fingerprint of what the rows were computed from (the log key's request, the zone, the
   * type's aggr.stats spec); a day stored under another one is fetched again.
   */
  source?: string
  /** The tailLog rows of the day (normally one row). */
  rows: unknown[]
  /** Fetches after the day ended that some rack failed (absent when none). */
  failedFetches?: number
}

export interface TailLogHistoryStoreOptions {
  /** The worker's data corestore; the store opens its own bee on it and closes that bee. */
  store: { get(options: { name: string }): unknown }
  /** Called with the error of every write the store refused (`ERR_STORE_WRITE_FAILED` for the file system's). */
  onWriteFailed?: (error: unknown) => void
  logger?: Logger
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value))

/**
 * The `tail-log-aggr` bee: one aggregate per day, type and zone.
 *
 * Layout — why two kinds of keys: the reference numbers days from today
 * (`tail-log-<type>-<code>-day-<index>`), so every key changes meaning at midnight and
 * its rollover pass corrupted older days (Q31). Here the source of truth is keyed by the
 * absolute local date (`…-date-YYYY-MM-DD`, a {@link StoredDay} with its bounds and
 * whether it is complete), which never changes meaning, survives restarts (Q35) and
 * tells finished days from the live one. The index keys are still written, with the
 * reference's values (the row array), after every pass, so that readers of the
 * reference's layout (its tailLogCustomRangeAggr, tools reading the store) keep working;
 * this worker itself reads the date keys.
 */
export class TailLogHistoryStore {
  readonly #bee: Hyperbee
  readonly #logger: Logger
  readonly #onWriteFailed: ((error: unknown) => void) | undefined
  #opening: Promise<void> | null = null
  #closing: Promise<void> | null = null

  constructor(options: TailLogHistoryStoreOptions) {
    this.#bee = new Hyperbee(options.store.get({ name: TAIL_LOG_AGGR_BEE_NAME }), { keyEncoding: 'utf-8' })
    this.#logger = options.logger ?? silentLogger
    this.#onWriteFailed = options.onWriteFailed
  }

  /** Opens the bee. Idempotent. */
  ready(): Promise<void> {
    this.#opening ??= this.#bee.ready()
    return this.#opening
  }

  /** Closes the bee (not the corestore). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#opening?.catch(() => {})
      await this.#bee.close()
    })()
    return this.#closing
  }

  async #getJson(key: string): Promise<unknown> {
    const entry = await this.#bee.get(key)
    if (!entry) return null
    try {
      return JSON.parse(entry.value.toString())
    } catch (error) {
      this.#logger.warn('unreadable tail-log-aggr entry', { key, error })
      return null
    }
  }

  /** The stored record of one local day, or null. */
  async getDay(type: string, code: string, day: number): Promise<StoredDay | null> {
    const value = (await this.#getJson(dayDateKey(type, code, day))) as StoredDay | null
    return value && typeof value === 'object' && Array.isArray(value.rows) ? value : null
  }

  /** Every stored day from `fromDay` to `toDay` inclusive, oldest first (one range read). */
  async getDays(type: string, code: string, fromDay: number, toDay: number): Promise<StoredDay[]> {
    const days: StoredDay[] = []
    if (toDay < fromDay) return days
    const range = { gte: dayDateKey(type, code, fromDay), lte: dayDateKey(type, code, toDay) }
    for await (const entry of this.#bee.createReadStream(range)) {
      try {
        const value = JSON.parse(entry.value.toString()) as StoredDay
        if (value && typeof value === 'object' && Array.isArray(value.rows)) days.push(value)
      } catch (error) {
        this.#logger.warn('unreadable tail-log-aggr entry', { key: String(entry.key), error })
      }
    }
    return days
  }

  /** The rows under the reference's index key, or null (what the reference's readers see). */
  async getIndexRows(type: string, code: string, index: number): Promise<unknown[] | null> {
    const value = await this.#getJson(dayIndexKey(type, code, index))
    return Array.isArray(value) ? value : null
  }

  /** Stores one day under its date key and, when it is `index` days before today, under the index key. */
  async putDay(type: string, code: string, day: number, record: StoredDay, index: number | null): Promise<void> {
    const batch = this.#bee.batch()
    await batch.put(dayDateKey(type, code, day), encode(record))
    if (index !== null) await batch.put(dayIndexKey(type, code, index), encode(record.rows))
    await this.#flush(batch)
  }

  /**
   * Brings the index keys `0 … days-1` in line with the date keys, for a pass on local day
   * `today`: day `today - i` goes to index `i` (a day without a record gets `[]`, what the
   * reference stores for a day without data). Only keys whose value changes are written: a
   * Hyperbee keeps every put, and rewriting all of them at each hourly pass grew the store by
   * about 13 MB a day (180 days × 3 keys) where the changes are a few KiB. With
   * `keepDaysNotStored`, the index of a day without a record keeps its value. Returns how many.
   */
  async writeIndex(
    type: string,
    code: string,
    today: number,
    days: number,
    options: { keepDaysNotStored?: boolean } = {},
  ): Promise<number> {
    const batch = this.#bee.batch()
    let written = 0
    for (let index = 0; index < days; index++) {
      const key = dayIndexKey(type, code, index)
      const record = await this.getDay(type, code, today - index)
      if (!record && options.keepDaysNotStored) continue
      const value = encode(record?.rows ?? [])
      const current = await this.#bee.get(key)
      if (current && Buffer.compare(current.value, value) === 0) continue
      await batch.put(key, value)
      written++
    }
    await this.#flush(batch)
    return written
  }

  /** Deletes the date keys of days before `oldestDay` (history kept bounded). Returns how many. */
  async pruneBefore(type: string, code: string, oldestDay: number): Promise<number> {
    const prefix = dateKeyPrefix(type, code)
    const stale: string[] = []
    for await (const entry of this.#bee.createReadStream({ gte: prefix, lt: dayDateKey(type, code, oldestDay) })) {
      stale.push(String(entry.key))
    }
    if (stale.length === 0) return 0
    const batch = this.#bee.batch()
    for (const key of stale) await batch.del(key)
    await this.#flush(batch)
    return stale.length
  }

  /** Writes a batch; one the file system refused rejects with `ERR_STORE_WRITE_FAILED`, reported. */
  #flush(batch: ReturnType<Hyperbee['batch']>): Promise<void> {
    return writeStoreBatch(batch, async () => {}, this.#onWriteFailed)
  }
}
