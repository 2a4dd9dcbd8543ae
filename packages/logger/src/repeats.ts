import type { LogFields, Logger } from './index.ts'

/** How long a warning or error stands for its repeats by default: 10 minutes. */
export const DEFAULT_REPEAT_SUMMARY_MS = 600_000
/** Distinct lines followed at once by default. */
const DEFAULT_REPEAT_KEYS = 1000

export interface RepeatSummaryOptions {
  /** A line repeated within this many ms of its last writing is counted, not written (default 600000). */
  everyMs?: number
  /** Distinct lines followed at once (default 1000); a new line past that is written as it comes. */
  maxKeys?: number
}

/** A {@link Logger} that writes a repeated warning or error once per period, with the count of its repeats. */
export interface RepeatSummarizingLogger extends Logger {
  child(suffix: string): RepeatSummarizingLogger
  /** Writes the summaries still due and stops following lines: later ones are written as they come. Idempotent. */
  close(): void
}

interface Followed {
  write: (fields: LogFields) => void
  fields: LogFields | undefined
  /** When the line was last written (itself or as a summary), on the monotonic clock. */
  writtenAt: number
  /** Occurrences since then that were not written, and when the first of them came (wall clock, for the reader). */
  repeats: number
  firstRepeatAt: number
}

/** Periods are measured on a clock that the system clock being set (NTP, by hand) does not move. */
const monotonicNow = () => performance.now()

/** The identity of a line: its namespace suffix, level, message and every field (an error by its message and code). */
function keyOf(path: string, level: string, message: string, fields: LogFields | undefined): string {
  const asValue = (_key: string, value: unknown) =>
    value instanceof Error ? { message: value.message, code: (value as { code?: unknown }).code } : value
  let serialized: string
  try {
    serialized = JSON.stringify(fields ?? {}, asValue)
  } catch {
    serialized = Object.keys(fields ?? {}).join(',')
  }
  return `${path}\n${level}\n${message}\n${serialized}`
}

/**
 * Wraps `logger` so that a problem that lasts does not flood the log. A warning or error is
 * written the first time; the same line again (same namespace, message and fields: the same rack,
 * method and reason, say) within `everyMs` of its last writing is only counted, and once the
 * period is over it is written once more with `repeated` (how many were not written) and
 * `repeatedSince` (when the first of them came). A line that did not come back for a whole period
 * is forgotten, so when the problem comes back its first line is written at once. Debug and info
 * lines, which say what happened rather than what keeps failing, are always written.
 */
export function summarizeRepeats(logger: Logger, options: RepeatSummaryOptions = {}): RepeatSummarizingLogger {
  const everyMs = options.everyMs ?? DEFAULT_REPEAT_SUMMARY_MS
  const maxKeys = options.maxKeys ?? DEFAULT_REPEAT_KEYS
  const followed = new Map<string, Followed>()
  let timer: ReturnType<typeof setTimeout> | null = null
  let closed = false

  const writeSummary = (line: Followed, now: number) => {
    line.write({ ...line.fields, repeated: line.repeats, repeatedSince: new Date(line.firstRepeatAt).toISOString() })
    line.writtenAt = now
    line.repeats = 0
  }

  /** Writes the summaries whose period is over, forgets the lines that stayed quiet for one, and re-arms the timer. */
  const sweep = (now: number) => {
    if (timer) clearTimeout(timer)
    timer = null
    let nextDue = Number.POSITIVE_INFINITY
    for (const [key, line] of followed) {
      if (now - line.writtenAt >= everyMs) {
        if (line.repeats === 0) followed.delete(key)
        else writeSummary(line, now)
      }
      if (line.repeats > 0) nextDue = Math.min(nextDue, line.writtenAt + everyMs)
    }
    if (nextDue !== Number.POSITIVE_INFINITY) arm(nextDue - now)
  }

  const arm = (delay: number) => {
    if (timer || closed) return
    timer = setTimeout(() => sweep(monotonicNow()), Math.max(0, delay))
    // A pending summary must not keep a process alive that has nothing else to do.
    timer.unref()
  }

  const repeatable =
    (inner: Logger, path: string, level: 'warn' | 'error') =>
    (message: string, fields?: LogFields): void => {
      const write = (written: LogFields) => inner[level](message, written)
      if (closed) {
        write(fields ?? {})
        return
      }
      const now = monotonicNow()
      const key = keyOf(path, level, message, fields)
      const line = followed.get(key)
      if (line && now - line.writtenAt < everyMs) {
        if (line.repeats === 0) line.firstRepeatAt = Date.now()
        line.repeats += 1
        arm(line.writtenAt + everyMs - now)
        return
      }
      if (line && line.repeats > 0) {
        // Its period is over and the timer has not fired yet: this occurrence is the count's last.
        line.repeats += 1
        writeSummary(line, now)
        return
      }
      write(fields ?? {})
      if (!line && followed.size >= maxKeys) sweep(now)
      // Past maxKeys every new line is written as it comes: never hidden, only not summarised.
      if (line || followed.size < maxKeys) {
        followed.set(key, { write, fields, writtenAt: now, repeats: 0, firstRepeatAt: 0 })
      }
    }

  const make = (inner: Logger, path: string): RepeatSummarizingLogger => ({
    debug: (message, fields) => inner.debug(message, fields),
    info: (message, fields) => inner.info(message, fields),
    warn: repeatable(inner, path, 'warn'),
    error: repeatable(inner, path, 'error'),
    child: (suffix) => make(inner.child(suffix), `${path}:${suffix}`),
    close,
  })

  function close(): void {
    if (closed) return
    const now = monotonicNow()
    for (const line of followed.values()) if (line.repeats > 0) writeSummary(line, now)
    followed.clear()
    if (timer) clearTimeout(timer)
    timer = null
    closed = true
  }

  return make(logger, '')
}
