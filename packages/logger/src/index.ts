export {
  DEFAULT_REPEAT_SUMMARY_MS,
  type RepeatSummarizingLogger,
  type RepeatSummaryOptions,
  summarizeRepeats,
} from './repeats.ts'

/** Fields attached to a log line; they are written as JSON next to the message. */
export type LogFields = Record<string, unknown>

/** The logger every @ork package accepts. Libraries default to {@link silentLogger}. */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger for a sub-namespace: `ork:worker` → `ork:worker:jobs`. */
  child(suffix: string): Logger
}

type Level = 'debug' | 'info' | 'warn' | 'error'
const levelRank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LoggerOptions {
  /** Where lines go; defaults to stderr so stdout stays free for program output. */
  write?: (line: string) => void
  /** `DEBUG`-style pattern list, e.g. `ork:*,-ork:rpc`; defaults to `process.env.DEBUG`. */
  debug?: string
  /** Lowest level printed besides enabled debug namespaces; defaults to `ORK_LOG_LEVEL` or `info`. */
  level?: Level
}

/** Compiles a `DEBUG` pattern list into a namespace predicate (`*` wildcards, `-` exclusions). */
export function debugMatcher(patterns: string): (namespace: string) => boolean {
  const include: RegExp[] = []
  const exclude: RegExp[] = []
  for (const raw of patterns.split(/[\s,]+/)) {
    if (!raw) continue
    const negated = raw.startsWith('-')
    const body = negated ? raw.slice(1) : raw
    const regex = new RegExp(`^${body.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`)
    ;(negated ? exclude : include).push(regex)
  }
  return (namespace) => !exclude.some((r) => r.test(namespace)) && include.some((r) => r.test(namespace))
}

/** The keys every line starts with; a field of the same name is written as `_<name>` instead. */
const LINE_KEYS = new Set(['time', 'level', 'ns', 'msg'])

/** An error as a log value: its message, and its code and `details` (OrkError's context for logs) when it has them. */
function errorFields(error: Error): LogFields {
  const { code, details } = error as { code?: unknown; details?: unknown }
  return { message: error.message, code, details }
}

function safeFields(fields: LogFields | undefined): LogFields {
  if (!fields) return {}
  const out: LogFields = {}
  for (const [key, value] of Object.entries(fields)) {
    out[LINE_KEYS.has(key) ? `_${key}` : key] = value instanceof Error ? errorFields(value) : value
  }
  return out
}

/** Creates a logger writing one JSON object per line: `{time, level, ns, msg, ...fields}`. */
export function createLogger(namespace: string, options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const debugEnabled = debugMatcher(options.debug ?? process.env.DEBUG ?? '')
  const envLevel = process.env.ORK_LOG_LEVEL as Level | undefined
  const minimum = levelRank[options.level ?? (envLevel && envLevel in levelRank ? envLevel : 'info')]

  const make = (ns: string): Logger => {
    const showDebug = debugEnabled(ns)
    const log = (level: Level, message: string, fields?: LogFields) => {
      if (level === 'debug' ? !showDebug : levelRank[level] < minimum) return
      let line: string
      try {
        line = JSON.stringify({ time: new Date().toISOString(), level, ns, msg: message, ...safeFields(fields) })
      } catch {
        line = JSON.stringify({ time: new Date().toISOString(), level, ns, msg: message, fields: '[unserializable]' })
      }
      write(line)
    }
    return {
      debug: (message, fields) => log('debug', message, fields),
      info: (message, fields) => log('info', message, fields),
      warn: (message, fields) => log('warn', message, fields),
      error: (message, fields) => log('error', message, fields),
      child: (suffix) => make(`${ns}:${suffix}`),
    }
  }
  return make(namespace)
}

/** A logger that drops everything: the default for library code. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
}
