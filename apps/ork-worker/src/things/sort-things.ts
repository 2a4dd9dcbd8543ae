/**
 * The reference's natural sort for listThings (spec ork-behaviour.md 4.4.1), exact,
 * quirks included (Q11, Q57): undefined sorts last whatever the order, and when both
 * values are undefined the comparison stops at that key; digit runs compare as
 * numbers, other runs with the default-locale collator; `order` is a multiplier.
 *
 * Each thing's sort values are tokenised once instead of on every comparison as the
 * reference does, into flat typed arrays shared by all things (one object per token
 * made a third of the sort time garbage collection); indices are then sorted with the
 * reference's comparison and the things put in that order. V8's sort makes the same
 * decisions for the same comparison results, so the order equals the reference's even
 * where its comparator is inconsistent (NaN differences, `sort: {}`).
 */

export type SortSpec = Record<string, unknown>

// Same semantics as String.prototype.localeCompare with no locale and no options,
// which is what the reference calls; one collator is much faster than many calls.
const collator = new Intl.Collator()

/** Dotted-path lookup that keeps a falsy intermediate value as the result, like the reference. */
function lookup(thing: unknown, path: readonly string[]): unknown {
  let current = thing
  for (const segment of path) {
    current = current ? (current as Record<string, unknown>)[segment] : current
  }
  return current
}

const isDigit = (code: number) => code >= 0x30 && code <= 0x39

/** Digit runs up to this length are summed exactly (10^15 < 2^53); longer ones go through Number. */
const EXACT_DIGITS = 15

/**
 * `Number(text)` for a run without digits: NaN unless the run, trimmed, is empty or an
 * Infinity spelling. Only a run starting with whitespace, a sign, `I` or a non-ASCII
 * character (possibly whitespace) can be one, so the others skip the conversion.
 */
function nonDigitRunNumber(text: string): number {
  const first = text.charCodeAt(0)
  const mayBeNumeric =
    first >= 0x80 ||
    first === 0x20 ||
    (first >= 0x09 && first <= 0x0d) ||
    first === 0x2b ||
    first === 0x2d ||
    first === 0x49
  return mayBeNumeric ? Number(text) : Number.NaN
}

/** How many runs `/\d+|\D+/g` finds in `source`. */
function countRuns(source: string): number {
  let runs = 0
  let previous = -1
  for (let index = 0; index < source.length; index++) {
    const digit = isDigit(source.charCodeAt(index)) ? 1 : 0
    if (digit !== previous) runs++
    previous = digit
  }
  return runs
}

/**
 * The tokens of one sort key for every thing: the runs of `String(value)` matched by
 * `/\d+|\D+/g`, thing `i` owning tokens `first[i]` to `first[i + 1] - 1`.
 */
class KeyTokens {
  /** Per thing: its value is undefined (sorts last, compares to nothing). */
  readonly undefinedAt: Uint8Array
  readonly first: Int32Array
  /** Per token: `Number(run)` (NaN for runs that are not numeric). */
  readonly numbers: Float64Array
  /** Per token: the run's text; digit runs get theirs only when a comparison needs it. */
  readonly texts: (string | undefined)[]
  readonly #sources: string[]
  readonly #spans: Int32Array

  constructor(things: readonly unknown[], path: readonly string[]) {
    const sources: string[] = new Array(things.length)
    this.undefinedAt = new Uint8Array(things.length)
    let runs = 0
    for (let index = 0; index < things.length; index++) {
      const value = lookup(things[index], path)
      if (value === undefined) this.undefinedAt[index] = 1
      const source = value === undefined ? '' : String(value)
      sources[index] = source
      runs += countRuns(source)
    }
    this.first = new Int32Array(things.length + 1)
    this.numbers = new Float64Array(runs)
    this.texts = new Array(runs)
    this.#spans = new Int32Array(2 * runs)
    this.#sources = sources
    let token = 0
    for (let index = 0; index < things.length; index++) {
      this.first[index] = token
      token = this.#tokenise(sources[index] as string, index, token)
    }
    this.first[things.length] = token
  }

  #tokenise(source: string, thing: number, token: number): number {
    let start = 0
    while (start < source.length) {
      const digits = isDigit(source.charCodeAt(start))
      let end = start + 1
      while (end < source.length && isDigit(source.charCodeAt(end)) === digits) end++
      if (digits && end - start <= EXACT_DIGITS) {
        let number = 0
        for (let at = start; at < end; at++) number = number * 10 + (source.charCodeAt(at) - 0x30)
        this.numbers[token] = number
      } else {
        const text = source.slice(start, end)
        this.texts[token] = text
        this.numbers[token] = digits ? Number(text) : nonDigitRunNumber(text)
      }
      this.#spans[2 * token] = thing
      this.#spans[2 * token + 1] = start
      token++
      start = end
    }
    return token
  }

  text(token: number): string {
    let text = this.texts[token]
    if (text === undefined) {
      const source = this.#sources[this.#spans[2 * token] as number] as string
      const start = this.#spans[2 * token + 1] as number
      let end = start
      while (end < source.length && isDigit(source.charCodeAt(end))) end++
      text = source.slice(start, end)
      this.texts[token] = text
    }
    return text
  }

  /** Step 2d-e of the spec for things `a` and `b` (both defined): the verdict, or null on a tie. */
  compare(a: number, b: number, order: number): number | null {
    const firstA = this.first[a] as number
    const firstB = this.first[b] as number
    const countA = (this.first[a + 1] as number) - firstA
    const countB = (this.first[b + 1] as number) - firstB
    const shared = Math.min(countA, countB)
    for (let index = 0; index < shared; index++) {
      const numberA = this.numbers[firstA + index] as number
      const numberB = this.numbers[firstB + index] as number
      let difference: number
      if (Number.isNaN(numberA) || Number.isNaN(numberB)) {
        const textA = this.text(firstA + index)
        const textB = this.text(firstB + index)
        // Equal runs tie under any collation; most runs of codes and ids are equal prefixes.
        difference = textA === textB ? 0 : collator.compare(textA, textB)
      } else {
        difference = numberA - numberB
      }
      if (difference !== 0) return difference * order
    }
    return countA !== countB ? (countA - countB) * order : null
  }
}

/**
 * Sorts `things` in place as `things.sort((a, b) => sortThings(a, b, sort))` does in the
 * reference, and returns the array. A falsy `sort` leaves the array untouched.
 */
export function sortThingsInPlace<T>(things: T[], sort: SortSpec | null | undefined): T[] {
  if (!sort) return things
  const keys = Object.entries(sort).map(([key, order]) => ({ path: key.split('.'), order: order as number }))
  // No keys: the reference's comparator returns 1 for every pair; reproduce V8's result with it.
  if (keys.length === 0) return things.sort(() => 1)

  const tokens = keys.map(({ path }) => new KeyTokens(things, path))
  const order = Array.from({ length: things.length }, (_, index) => index)
  order.sort((left, right) => {
    for (let index = 0; index < keys.length; index++) {
      const key = tokens[index] as KeyTokens
      const undefinedA = key.undefinedAt[left] as number
      const undefinedB = key.undefinedAt[right] as number
      if (undefinedA === 1 || undefinedB === 1) return undefinedA - undefinedB
      // A verdict ends the comparison even when `order` makes it 0 (order 0, NaN order).
      const verdict = key.compare(left, right, (keys[index] as { order: number }).order)
      if (verdict !== null) return verdict
    }
    return 0
  })
  const sorted = order.map((index) => things[index] as T)
  for (let index = 0; index < sorted.length; index++) things[index] = sorted[index] as T
  return things
}
