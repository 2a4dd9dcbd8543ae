import { OrkError, writeStoreBatch } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import Hyperbee from 'hyperbee'

/** Name of the audit bee on the worker's `store/<cluster>-db` corestore. */
export const AUDIT_BEE_NAME = 'ork-audit'
/** Default retention: entries kept at most (oldest removed first). */
export const DEFAULT_AUDIT_MAX_ENTRIES = 100_000
/** Default retention: age in days after which entries are removed. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 90
/** Largest request JSON stored verbatim; bigger requests are stored truncated. */
export const AUDIT_REQUEST_MAX_CHARS = 8_192
/** Most entries one read returns. */
export const AUDIT_READ_MAX_LIMIT = 1_000

const DAY_MS = 86_400_000
const AGE_PRUNE_INTERVAL_MS = 600_000
const SEQUENCE_DIGITS = 16
/** How far the wall clock may run ahead of the time counted since the log opened before it is logged. */
const CLOCK_AHEAD_LOG_MS = 60_000

/** One audited event: a write request (who, what, when, outcome) or the execution of an action. */
export interface AuditEntry {
  /** Position in the log, increasing by one per entry. */
  seq: number
  /** When it was recorded (ms). */
  ts: number
  kind: 'request' | 'execution'
  /** RPC method, or `execute:<action>` for executions. */
  method: string
  /** Hex public key of the calling peer (`automation` for the ork's own jobs, null for executions). */
  caller: string | null
  /** The voter / user named in the request, when there is one. */
  voter?: unknown
  /** The request as received (JSON longer than {@link AUDIT_REQUEST_MAX_CHARS} is cut and marked). */
  request?: unknown
  outcome: 'ok' | 'error'
  /** Error code or message when `outcome` is `error`. */
  error?: string
  /** Ids of the actions the request created, voted on, cancelled, or the executed action. */
  actionIds?: number[]
  /** Execution: how many calls succeeded and failed. */
  calls?: { ok: number; failed: number }
  /** Time the request took, in ms. */
  durationMs?: number
}

/** What a caller records; `seq` and `ts` are assigned by the log. */
export type AuditRecord = Omit<AuditEntry, 'seq' | 'ts'>

/** Filter of {@link AuditLog.read}. */
export interface AuditQuery {
  /** Entries recorded at or after this time (ms). */
  start?: number | null
  /** Entries recorded at or before this time (ms). */
  end?: number | null
  /** Only this method. */
  method?: string | null
  /** Only entries naming this voter. */
  voter?: unknown
  /** Most entries returned (default 100, at most 1000). */
  limit?: number | null
  /** Oldest first when true; newest first by default. */
  reverse?: boolean | null
}

export interface AuditLogOptions {
  /** The worker's data corestore; the log opens its own bee on it (and closes that bee). */
  store: { get(options: { name: string }): unknown }
  maxEntries?: number
  retentionDays?: number
  /** Wall clock: entry times, retention age (default `Date.now`). */
  now?: () => number
  /** Monotonic clock: request durations, and the bound on retention age (default `performance.now`). */
  monotonicNow?: () => number
  /** Called with the error of every write the store refused (`ERR_STORE_WRITE_FAILED` for the file system's). */
  onWriteFailed?: (error: unknown) => void
  logger?: Logger
}

const sequenceKey = (seq: number) => String(seq).padStart(SEQUENCE_DIGITS, '0')

/** A request copy safe to store: verbatim when small, else its first characters. */
/** Longest voter kept as is: voters are e-mail addresses or user ids. */
const AUDIT_VOTER_MAX_CHARS = 256

/**
 * The voter as stored: a string (cut to {@link AUDIT_VOTER_MAX_CHARS}) or a safe integer; anything
 * else came from a refused payload and is stored as its type only, so that it can neither grow
 * the log without bound nor fail the batch it shares with other entries.
 */
function storableVoter(voter: unknown): unknown {
  if (typeof voter === 'string')
    return voter.length <= AUDIT_VOTER_MAX_CHARS ? voter : voter.slice(0, AUDIT_VOTER_MAX_CHARS)
  if (Number.isSafeInteger(voter)) return voter
  return { invalid: voter === null ? 'null' : Array.isArray(voter) ? 'array' : typeof voter }
}

function storableRequest(request: unknown): unknown {
  let json: string | undefined
  try {
    json = JSON.stringify(request)
  } catch {
    return { unserialisable: true }
  }
  if (json === undefined) return null
  if (json.length <= AUDIT_REQUEST_MAX_CHARS) return JSON.parse(json)
  return { truncated: true, size: json.length, json: json.slice(0, AUDIT_REQUEST_MAX_CHARS) }
}

/**
 * An append-only audit log of write requests and action executions, in its own Hyperbee.
 * Appends are grouped into one batch while a write is in progress, so auditing costs a
 * request about one store append at most. Retention: at most `maxEntries` entries and
 * none older than `retentionDays`; the oldest are removed first.
 */
export class AuditLog {
  readonly #bee: Hyperbee
  readonly #logger: Logger
  readonly #now: () => number
  readonly #monotonicNow: () => number
  /** Both clocks' readings when the log opened: see {@link #retentionNow}. */
  #openedAt = { wall: 0, monotonic: 0 }
  /** True while the wall clock is ahead of the time counted since the log opened (logged once per episode). */
  #clockAhead = false
  readonly #onWriteFailed: ((error: unknown) => void) | undefined
  readonly maxEntries: number
  readonly retentionMs: number
  #firstSeq = 1
  #nextSeq = 1
  #pending: { entry: AuditEntry; done: (error?: unknown) => void }[] = []
  #flushing: Promise<void> | null = null
  #opening: Promise<void> | null = null
  #closed = false
  #closing: Promise<void> | null = null
  #timer: NodeJS.Timeout | null = null

  constructor(options: AuditLogOptions) {
    this.#bee = new Hyperbee(options.store.get({ name: AUDIT_BEE_NAME }), {
      keyEncoding: 'utf-8',
      valueEncoding: 'json',
    })
    this.#logger = options.logger ?? silentLogger
    this.#now = options.now ?? Date.now
    this.#monotonicNow = options.monotonicNow ?? (() => performance.now())
    this.#onWriteFailed = options.onWriteFailed
    this.maxEntries = options.maxEntries ?? DEFAULT_AUDIT_MAX_ENTRIES
    this.retentionMs = (options.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS) * DAY_MS
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new OrkError('ERR_OPTS_INVALID', { option: 'auditLogMaxEntries' })
    }
    if (!(this.retentionMs > 0)) throw new OrkError('ERR_OPTS_INVALID', { option: 'auditLogRetentionDays' })
  }

  /** Opens the bee, finds the first and last entries, prunes what retention removes. Idempotent. */
  ready(): Promise<void> {
    this.#opening ??= (async () => {
      await this.#bee.ready()
      this.#openedAt = { wall: this.#now(), monotonic: this.#monotonicNow() }
      const first = await this.#edge(false)
      const last = await this.#edge(true)
      if (first !== null && last !== null) {
        this.#firstSeq = first
        this.#nextSeq = last + 1
      }
      await this.#prune()
      this.#timer = setInterval(() => {
        this.#enqueuePrune()
      }, AGE_PRUNE_INTERVAL_MS)
      this.#timer.unref()
    })()
    return this.#opening
  }

  /** Appends one entry; resolves once it is stored. Never rejects (a failed write is logged). */
  record(record: AuditRecord): Promise<void> {
    if (this.#closed) {
      this.#logger.warn('audit entry after close dropped', { method: record.method })
      return Promise.resolve()
    }
    const entry: AuditEntry = { seq: 0, ts: this.#now(), ...record }
    if (entry.request !== undefined) entry.request = storableRequest(entry.request)
    if (entry.voter !== undefined) entry.voter = storableVoter(entry.voter)
    return new Promise((resolve) => {
      this.#pending.push({
        entry,
        done: (error) => {
          if (error) this.#logger.error('audit write failed', { method: entry.method, error })
          resolve()
        },
      })
      this.#schedule()
    })
  }

  /**
   * Runs a write request and records it with its outcome. The handler's result or error
   * is passed through unchanged.
   */
  async track<T>(method: string, caller: string, request: unknown, handle: () => Promise<T>): Promise<T> {
    const started = this.#monotonicNow()
    const voter = request !== null && typeof request === 'object' ? (request as { voter?: unknown }).voter : undefined
    try {
      const result = await handle()
      await this.record({
        kind: 'request',
        method,
        caller,
        ...(voter !== undefined ? { voter } : {}),
        request,
        outcome: 'ok',
        ...actionIdsOf(method, request, result),
        durationMs: this.#monotonicNow() - started,
      })
      return result
    } catch (error) {
      await this.record({
        kind: 'request',
        method,
        caller,
        ...(voter !== undefined ? { voter } : {}),
        request,
        outcome: 'error',
        error: error instanceof Error ? error.message : String(error),
        durationMs: this.#monotonicNow() - started,
      })
      throw error
    }
  }

  /** Entries matching `query`, newest first unless `reverse`. */
  async read(query: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.ready()
    const limit = Math.min(query.limit ?? 100, AUDIT_READ_MAX_LIMIT)
    const entries: AuditEntry[] = []
    if (limit <= 0) return entries
    const oldestFirst = query.reverse === true
    for await (const { value } of this.#bee.createReadStream({ reverse: !oldestFirst })) {
      const entry = value as unknown as AuditEntry
      if (query.start != null && entry.ts < query.start) {
        if (!oldestFirst) break
        continue
      }
      if (query.end != null && entry.ts > query.end) {
        if (oldestFirst) break
        continue
      }
      if (query.method != null && entry.method !== query.method) continue
      if (query.voter !== undefined && query.voter !== null && entry.voter !== query.voter) continue
      entries.push(entry)
      if (entries.length >= limit) break
    }
    return entries
  }

  /** Number of entries currently kept. */
  get size(): number {
    return this.#nextSeq - this.#firstSeq
  }

  /** Writes what is pending, stops the prune timer and closes the bee. Idempotent. */
  close(): Promise<void> {
    // Every caller waits for the one close: a second call must not return while the first flushes.
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    await this.#opening?.catch(() => {})
    while (this.#flushing) await this.#flushing
    await this.#bee.close()
  }

  #schedule(): void {
    if (this.#flushing) return
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = null
      if (this.#pending.length > 0) this.#schedule()
    })
  }

  #pruneRequested = false

  #enqueuePrune(): void {
    this.#pruneRequested = true
    this.#schedule()
  }

  async #flush(): Promise<void> {
    await this.ready()
    // An entry that cannot be encoded fails alone, not the batch it would share with others.
    const pending = this.#pending.splice(0).filter((item) => {
      try {
        JSON.stringify(item.entry)
        return true
      } catch (error) {
        item.done(error)
        return false
      }
    })
    if (pending.length > 0) {
      try {
        await writeStoreBatch(
          this.#bee.batch(),
          async (batch) => {
            for (const item of pending) {
              item.entry.seq = this.#nextSeq++
              await batch.put(sequenceKey(item.entry.seq), item.entry)
            }
          },
          this.#onWriteFailed,
        )
      } catch (failure) {
        this.#nextSeq -= pending.length
        for (const item of pending) item.done(failure)
        return
      }
    }
    // Retention is applied before the writers are answered, so the log never shows more than maxEntries.
    if (this.#pruneRequested || this.size > this.maxEntries) {
      this.#pruneRequested = false
      await this.#prune().catch((error: unknown) => this.#logger.error('audit prune failed', { error }))
    }
    for (const item of pending) item.done()
  }

  /**
   * The time retention ages entries by: the wall clock, but never ahead of the wall clock at
   * opening plus the time counted since on the monotonic clock. A clock stepped forward (to a
   * wrong date, or NTP correcting a clock that booted in 1970 while entries were stamped with
   * it) would otherwise remove entries that are minutes old; the step counts from the next start.
   */
  #retentionNow(): number {
    const wall = this.#now()
    const counted = this.#openedAt.wall + (this.#monotonicNow() - this.#openedAt.monotonic)
    const ahead = wall - counted > CLOCK_AHEAD_LOG_MS
    if (ahead && !this.#clockAhead) {
      this.#logger.warn(
        'wall clock is ahead of the time counted since start: audit retention ages entries by the latter until the next start',
        {
          clock: wall,
          counted: Math.round(counted),
        },
      )
    }
    this.#clockAhead = ahead
    return Math.min(wall, counted)
  }

  /**
   * Removes the oldest entries beyond `maxEntries` and those older than the retention age, oldest
   * first. Entries are in the order they were recorded, so an entry stamped later than now (while
   * the clock was ahead, before a step back) is no newer than the entries after it: it goes with
   * the next entry old enough to go, rather than hold back the age retention of all those after it.
   */
  async #prune(): Promise<void> {
    const now = this.#retentionNow()
    const cutoff = now - this.retentionMs
    let removed = 0
    let stampedAhead: Buffer[] = []
    const fill = async (batch: ReturnType<Hyperbee['batch']>) => {
      for await (const { key, value } of this.#bee.createReadStream({ gte: sequenceKey(this.#firstSeq) })) {
        const entry = value as unknown as AuditEntry
        const overCount = this.size - removed > this.maxEntries
        if (!overCount && entry.ts > now) {
          stampedAhead.push(key)
          continue
        }
        if (!overCount && entry.ts >= cutoff) break
        for (const earlier of stampedAhead) await batch.del(earlier)
        removed += stampedAhead.length
        stampedAhead = []
        await batch.del(key)
        removed++
      }
    }
    await writeStoreBatch(this.#bee.batch(), fill, this.#onWriteFailed)
    this.#firstSeq += removed
    if (this.size === 0) this.#firstSeq = this.#nextSeq
    if (removed > 0) this.#logger.debug('audit entries removed by retention', { removed })
  }

  async #edge(last: boolean): Promise<number | null> {
    for await (const { key } of this.#bee.createReadStream({ reverse: last, limit: 1 })) {
      const seq = Number(key)
      return Number.isSafeInteger(seq) ? seq : null
    }
    return null
  }
}

/** The action ids a request touched, for the audit entry. */
function actionIdsOf(method: string, request: unknown, result: unknown): { actionIds?: number[] } {
  const ids: number[] = []
  const add = (value: unknown) => {
    if (typeof value === 'number' && Number.isFinite(value)) ids.push(value)
  }
  const body = (request ?? {}) as { id?: unknown; ids?: unknown }
  if (method === 'pushAction') add((result as { id?: unknown } | null)?.id)
  else if (method === 'pushActionsBatch' && Array.isArray(result)) {
    for (const item of result) add((item as { id?: unknown } | null)?.id)
  } else if (method === 'voteAction') add(Number(body.id))
  else if (method === 'cancelActionsBatch' && Array.isArray(result)) {
    for (const item of result) if ((item as { success?: unknown }).success) add(Number((item as { id?: unknown }).id))
  }
  return ids.length > 0 ? { actionIds: ids } : {}
}
