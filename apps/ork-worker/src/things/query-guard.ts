import { OrkError } from '@ork/errors'
import { regexProblem } from './regex-guard.ts'

/** mingo operators that run caller-supplied code on the racks; never forwarded. */
const CODE_OPERATORS = new Set(['$where', '$function', '$accumulator'])

/** mingo operators whose pattern is a regex: `$regex: '<pattern>'`, or `{regex: '<pattern>'}` in an expression. */
const REGEX_OPERATORS = new Set(['$regex', '$regexMatch', '$regexFind', '$regexFindAll'])

/** Deeper structures are refused: no real query nests this far, and walking them costs stack. */
export const MAX_QUERY_DEPTH = 32

/**
 * Throws `ERR_QUERY_INVALID` when `value` (a query, projection or pipeline forwarded to
 * racks or run in the ork) contains an operator that executes code, a regex that can
 * backtrack for minutes (regex-guard.ts), or nests deeper than {@link MAX_QUERY_DEPTH}.
 * Everything else passes unchanged: racks own the query semantics.
 */
export function assertSafeQuery(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object') return
  if (depth >= MAX_QUERY_DEPTH) throw new OrkError('ERR_QUERY_INVALID', { reason: 'too deeply nested' })
  if (Array.isArray(value)) {
    for (const item of value) assertSafeQuery(item, depth + 1)
    return
  }
  for (const key of Object.keys(value)) {
    if (CODE_OPERATORS.has(key)) throw new OrkError('ERR_QUERY_INVALID', { operator: key })
    if (REGEX_OPERATORS.has(key)) assertSafeRegex(key, (value as Record<string, unknown>)[key])
    assertSafeQuery((value as Record<string, unknown>)[key], depth + 1)
  }
}

function assertSafeRegex(operator: string, operand: unknown): void {
  const pattern = operator === '$regex' ? operand : (operand as { regex?: unknown } | null | undefined)?.regex
  if (typeof pattern !== 'string') return
  const problem = regexProblem(pattern)
  if (problem) throw new OrkError('ERR_QUERY_INVALID', { operator, reason: problem })
}
