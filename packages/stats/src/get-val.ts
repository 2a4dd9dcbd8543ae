import { type Accessor, compilePath } from './path.ts'
import type { JsValue, Source } from './types.ts'

const readNull: Accessor = () => null

/**
 * The accessor for an op's `src`, with the reference's rules: falsy → always `null`,
 * a function → called with the entry, a string → a compiled property path, anything
 * else → `null`. Throws `ERR_STATS_PATH_INVALID` for a malformed path.
 */
export function accessorFor(src: unknown): Accessor {
  if (!src) return readNull
  if (typeof src === 'function') return src as Accessor
  if (typeof src === 'string') return compilePath(src)
  return readNull
}

/**
 * Reads `src` from `entry` (spec libraries.md 2.4): a property path (`a.b`, `a[0].b`,
 * `o["x-y"]`) resolved by a safe parser — `undefined` when an intermediate value is
 * `null`/`undefined` — or a function of the entry. A falsy or non-string, non-function
 * `src` gives `null`. A malformed path throws `OrkError('ERR_STATS_PATH_INVALID')`.
 */
export function getVal(entry: JsValue, src: Source | null | undefined): JsValue {
  return accessorFor(src)(entry)
}

/**
 * A `group` function for the `group*` ops that reads `field` from the **extra context**
 * `ext`, not from the entry (as the reference does); `null` when no `ext` is given.
 */
export function groupBy(field: Source): (entry: JsValue, ext: JsValue) => JsValue {
  return (_entry, ext) => {
    if (!ext) return null
    return getVal(ext, field)
  }
}
