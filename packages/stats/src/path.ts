import { OrkError } from '@ork/errors'
import type { JsValue } from './types.ts'

/** Reads one value out of an entry; `undefined` when a step meets `null`/`undefined`. */
export type Accessor = (entry: JsValue) => JsValue

/**
 * Why a hand-written parser: the reference evaluated `root.<src>` as JavaScript source
 * (Q45). This grammar accepts exactly the property-path subset of that syntax — an
 * identifier, then `.name`, `?.name`, `[0]`, `["key"]`, `['key']` (optionally `?.[...]`),
 * with optional white space between tokens — and never runs code.
 */
export function parsePath(path: string): string[] {
  const keys: string[] = []
  let position = skipSpace(path, 0)
  const first = readIdentifier(path, position)
  if (first === null) throw invalidPath(path, position, 'expected a property name')
  keys.push(first.name)
  position = skipSpace(path, first.end)
  while (position < path.length) {
    let optional = false
    if (path.startsWith('?.', position) && !isDigit(path.charCodeAt(position + 2))) {
      optional = true
      position = skipSpace(path, position + 2)
    }
    const char = path[position]
    if (char === '[') {
      const bracket = readBracket(path, skipSpace(path, position + 1))
      keys.push(bracket.key)
      position = skipSpace(path, bracket.end)
    } else if (char === '.' && !optional) {
      const name = readIdentifier(path, skipSpace(path, position + 1))
      if (name === null) throw invalidPath(path, position + 1, 'expected a property name after "."')
      keys.push(name.name)
      position = skipSpace(path, name.end)
    } else if (optional) {
      const name = readIdentifier(path, position)
      if (name === null) throw invalidPath(path, position, 'expected a property name after "?."')
      keys.push(name.name)
      position = skipSpace(path, name.end)
    } else {
      throw invalidPath(path, position, `unexpected "${char}"`)
    }
  }
  return keys
}

const identifierPattern = /[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/uy

function readIdentifier(path: string, position: number): { name: string; end: number } | null {
  identifierPattern.lastIndex = position
  const match = identifierPattern.exec(path)
  if (match === null) return null
  return { name: match[0], end: position + match[0].length }
}

function readBracket(path: string, position: number): { key: string; end: number } {
  const char = path[position]
  let key: string
  let end: number
  if (char === '"' || char === "'") {
    const literal = readStringLiteral(path, position)
    key = literal.value
    end = literal.end
  } else if (isDigit(path.charCodeAt(position))) {
    end = position
    while (isDigit(path.charCodeAt(end))) end++
    key = path.slice(position, end)
    if (key.length > 1 && key[0] === '0') throw invalidPath(path, position, 'index with a leading zero')
  } else {
    throw invalidPath(path, position, 'expected an index or a quoted key inside "[ ]"')
  }
  end = skipSpace(path, end)
  if (path[end] !== ']') throw invalidPath(path, end, 'expected "]"')
  return { key, end: end + 1 }
}

const simpleEscapes: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
}

function readStringLiteral(path: string, start: number): { value: string; end: number } {
  const quote = path[start]
  let value = ''
  let position = start + 1
  while (position < path.length) {
    const char = path[position] as string
    if (char === quote) return { value, end: position + 1 }
    if (char === '\n' || char === '\r') break
    if (char !== '\\') {
      value += char
      position++
      continue
    }
    const escaped = path[position + 1]
    if (escaped === undefined) break
    if (escaped === 'x' || escaped === 'u') {
      const braced = escaped === 'u' && path[position + 2] === '{'
      const digitsStart = position + (braced ? 3 : 2)
      const digitsEnd = braced ? path.indexOf('}', digitsStart) : digitsStart + (escaped === 'x' ? 2 : 4)
      const digits = path.slice(digitsStart, digitsEnd)
      const codePoint = /^[0-9a-fA-F]+$/.test(digits) ? Number.parseInt(digits, 16) : Number.NaN
      if (digitsEnd < 0 || Number.isNaN(codePoint) || codePoint > 0x10ffff) {
        throw invalidPath(path, position, 'invalid escape sequence')
      }
      value += String.fromCodePoint(codePoint)
      position = digitsEnd + (braced ? 1 : 0)
      continue
    }
    if (escaped === '0' && isDigit(path.charCodeAt(position + 2))) {
      throw invalidPath(path, position, 'octal escape sequence')
    }
    value += simpleEscapes[escaped] ?? escaped
    position += 2
  }
  throw invalidPath(path, start, 'unterminated string')
}

function skipSpace(path: string, position: number): number {
  let next = position
  while (next < path.length && /\s/.test(path[next] as string)) next++
  return next
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57
}

function invalidPath(path: string, position: number, reason: string): OrkError {
  return new OrkError('ERR_STATS_PATH_INVALID', { path, position, reason })
}

/**
 * Builds an accessor for parsed keys. Short paths get unrolled closures because this
 * runs once per entry and per op on the dashboard hot path.
 */
function accessorForKeys(keys: readonly string[]): Accessor {
  const [k0, k1, k2, k3] = keys as [string, string, string, string]
  switch (keys.length) {
    case 1:
      return (entry) => (entry == null ? undefined : entry[k0])
    case 2:
      return (entry) => {
        if (entry == null) return undefined
        const v0 = entry[k0]
        return v0 == null ? undefined : v0[k1]
      }
    case 3:
      return (entry) => {
        if (entry == null) return undefined
        const v0 = entry[k0]
        if (v0 == null) return undefined
        const v1 = v0[k1]
        return v1 == null ? undefined : v1[k2]
      }
    case 4:
      return (entry) => {
        if (entry == null) return undefined
        const v0 = entry[k0]
        if (v0 == null) return undefined
        const v1 = v0[k1]
        if (v1 == null) return undefined
        const v2 = v1[k2]
        return v2 == null ? undefined : v2[k3]
      }
    case 5: {
      const k4 = keys[4] as string
      return (entry) => {
        if (entry == null) return undefined
        const v0 = entry[k0]
        if (v0 == null) return undefined
        const v1 = v0[k1]
        if (v1 == null) return undefined
        const v2 = v1[k2]
        if (v2 == null) return undefined
        const v3 = v2[k3]
        return v3 == null ? undefined : v3[k4]
      }
    }
    default:
      return (entry) => {
        let value = entry
        for (const key of keys) {
          if (value == null) return undefined
          value = value[key]
        }
        return value
      }
  }
}

const compiledPaths = new Map<string, Accessor>()
// Paths come from configuration, so the cache stays small; the cap only guards against
// callers that build paths from data.
const compiledPathsLimit = 10_000

/**
 * Compiles a property path (`a.b`, `a[0].b`, `o["x-y"]`) into a cached accessor.
 * Throws `OrkError('ERR_STATS_PATH_INVALID', { path, position, reason })` on malformed input.
 */
export function compilePath(path: string): Accessor {
  let accessor = compiledPaths.get(path)
  if (accessor === undefined) {
    accessor = accessorForKeys(parsePath(path))
    if (compiledPaths.size >= compiledPathsLimit) compiledPaths.clear()
    compiledPaths.set(path, accessor)
  }
  return accessor
}
