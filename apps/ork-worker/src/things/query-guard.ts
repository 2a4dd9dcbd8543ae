import { OrkError } from '@ork/errors'

/** mingo operators that run caller-supplied code on the racks; never forwarded. */
const CODE_OPERATORS = new Set(['$where', '$function', '$accumulator'])

/** Deeper structures are refused: no real query nests this far, and walking them costs stack. */
export const MAX_QUERY_DEPTH = 32

/**
 * Throws `ERR_QUERY_INVALID` when `value` (a query, projection or pipeline forwarded to
 * racks) contains an operator that executes code, or nests deeper than
 * {@link MAX_QUERY_DEPTH}. Everything else passes unchanged: racks own the query semantics.
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
    assertSafeQuery((value as Record<string, unknown>)[key], depth + 1)
  }
}
