/**
 * One sort key of listThings' natural sort, tokenised once for all things (spec
 * ork-behaviour.md 4.4.1): the runs of `String(value)` matched by `/\d+|\D+/g`, in flat
 * typed arrays shared by all things (one object per token made a third of the sort time
 * garbage collection). Run texts are sliced only when a comparison or ranking needs them.
 */

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
 * Whether `Number(run)` can be a number for a run without digits starting with `first`: only
 * a run starting with whitespace, a sign, `I` (Infinity) or a non-ASCII character (possibly
 * whitespace) can be; every other run is NaN without converting it.
 */
function mayBeNumeric(first: number): boolean {
  return (
    first >= 0x80 ||
    first === 0x20 ||
    (first >= 0x09 && first <= 0x0d) ||
    first === 0x2b ||
    first === 0x2d ||
    first === 0x49
  )
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

/** Thing `i` owns tokens `first[i]` to `first[i + 1] - 1`. */
export class KeyTokens {
  /** Per thing: its value is undefined (sorts last, compares to nothing). */
  readonly undefinedAt: Uint8Array
  readonly first: Int32Array
  /** Per token: `Number(run)` (NaN for runs that are not numeric). */
  readonly numbers: Float64Array
  /** Per token: the run's text, once sliced. */
  readonly #texts: (string | undefined)[]
  readonly #sources: string[]
  /** Per token: its thing, then the run's start and end in the thing's source. */
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
    this.#texts = new Array(runs)
    this.#spans = new Int32Array(3 * runs)
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
      const first = source.charCodeAt(start)
      const digits = isDigit(first)
      let end = start + 1
      while (end < source.length && isDigit(source.charCodeAt(end)) === digits) end++
      this.#spans[3 * token] = thing
      this.#spans[3 * token + 1] = start
      this.#spans[3 * token + 2] = end
      if (digits && end - start <= EXACT_DIGITS) {
        let number = 0
        for (let at = start; at < end; at++) number = number * 10 + (source.charCodeAt(at) - 0x30)
        this.numbers[token] = number
      } else {
        this.numbers[token] = digits || mayBeNumeric(first) ? Number(this.text(token)) : Number.NaN
      }
      token++
      start = end
    }
    return token
  }

  text(token: number): string {
    let text = this.#texts[token]
    if (text === undefined) {
      const source = this.#sources[this.#spans[3 * token] as number] as string
      text = source.slice(this.#spans[3 * token + 1], this.#spans[3 * token + 2])
      this.#texts[token] = text
    }
    return text
  }

  /** Whether the run of `token` reads `text`, without slicing it. */
  #runIs(token: number, text: string): boolean {
    const start = this.#spans[3 * token + 1] as number
    const end = this.#spans[3 * token + 2] as number
    return end - start === text.length && this.#sources[this.#spans[3 * token] as number]!.startsWith(text, start)
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

  /**
   * The key as one rank column per run position, or null when its comparison may
   * contradict itself: a position where some runs are numbers and others text, or an
   * infinite number (Infinity − Infinity is NaN). Ranks follow `compare`: numbers by
   * value, text with the collator (ties share a rank), a missing run (a shorter value)
   * first; `descending` reverses them all. An undefined value ranks after everything in
   * the first column, whatever the order.
   */
  rankColumns(descending: boolean): Int32Array[] | null {
    const things = this.undefinedAt.length
    let width = 1
    for (let thing = 0; thing < things; thing++) {
      width = Math.max(width, (this.first[thing + 1] as number) - (this.first[thing] as number))
    }
    const columns: Int32Array[] = []
    for (let position = 0; position < width; position++) {
      const column = this.#rankPosition(position)
      if (!column) return null
      let top = 0
      for (let thing = 0; thing < things; thing++) top = Math.max(top, column[thing] as number)
      if (descending) for (let thing = 0; thing < things; thing++) column[thing] = top - (column[thing] as number)
      if (position === 0) {
        for (let thing = 0; thing < things; thing++) if (this.undefinedAt[thing] === 1) column[thing] = top + 1
      }
      columns.push(column)
    }
    return columns
  }

  /** Ranks (from 1; 0 for things without a run there) of the runs at `position`, or null on mixed kinds. */
  #rankPosition(position: number): Int32Array | null {
    const things = this.undefinedAt.length
    // Integers below this are their own rank: the counting sort's table stays a few times the things' number.
    const smallLimit = 4 * things + 1024
    let numeric = 0
    let text = 0
    let smallIntegers = true
    for (let thing = 0; thing < things; thing++) {
      const token = (this.first[thing] as number) + position
      if (token >= (this.first[thing + 1] as number)) continue
      const number = this.numbers[token] as number
      if (Number.isNaN(number)) text++
      else if (!Number.isFinite(number)) return null
      else {
        numeric++
        if (!(number >= 0 && number < smallLimit && Number.isInteger(number))) smallIntegers = false
      }
    }
    if (numeric !== 0 && text !== 0) return null
    if (text !== 0) return this.#rankTexts(position)
    const column = new Int32Array(things)
    if (smallIntegers) {
      this.#forEachRun(position, (thing, token) => {
        column[thing] = 1 + (this.numbers[token] as number)
      })
      return column
    }
    const values: number[] = []
    this.#forEachRun(position, (_thing, token) => values.push(this.numbers[token] as number))
    const distinct = uniqueSorted(Float64Array.from(values).sort())
    this.#forEachRun(position, (thing, token) => {
      column[thing] = 1 + binarySearch(distinct, this.numbers[token] as number)
    })
    return column
  }

  /** Ranks of the text runs at `position` by the collator, equal ones sharing a rank. */
  #rankTexts(position: number): Int32Array {
    const column = new Int32Array(this.undefinedAt.length)
    const idOfText = new Map<string, number>()
    const textOfId: string[] = []
    let lastText = ''
    let lastId = -1
    // Runs at one position mostly repeat the previous thing's (prefixes of codes): checked in place first.
    this.#forEachRun(position, (thing, token) => {
      if (lastId === -1 || !this.#runIs(token, lastText)) {
        lastText = this.text(token)
        let id = idOfText.get(lastText)
        if (id === undefined) {
          id = textOfId.push(lastText) - 1
          idOfText.set(lastText, id)
        }
        lastId = id
      }
      column[thing] = lastId
    })
    const byCollation = textOfId
      .map((_, id) => id)
      .sort((a, b) => collator.compare(textOfId[a] as string, textOfId[b] as string))
    const rankOfId = new Int32Array(textOfId.length)
    let rank = 0
    for (let index = 0; index < byCollation.length; index++) {
      const id = byCollation[index] as number
      const previous = textOfId[byCollation[index - 1] as number]
      if (index === 0 || collator.compare(previous as string, textOfId[id] as string) !== 0) rank++
      rankOfId[id] = rank
    }
    this.#forEachRun(position, (thing) => {
      column[thing] = rankOfId[column[thing] as number] as number
    })
    return column
  }

  /** Calls `visit` with each thing having a run at `position`, and that run's token. */
  #forEachRun(position: number, visit: (thing: number, token: number) => void): void {
    for (let thing = 0; thing < this.undefinedAt.length; thing++) {
      const token = (this.first[thing] as number) + position
      if (token < (this.first[thing + 1] as number)) visit(thing, token)
    }
  }
}

/** Removes repeats from sorted `values` in place; -0 and 0 are one value, as subtraction sees them. */
function uniqueSorted(values: Float64Array): Float64Array {
  let length = 0
  for (let index = 0; index < values.length; index++) {
    if (length === 0 || values[index] !== values[length - 1]) values[length++] = values[index] as number
  }
  return values.subarray(0, length)
}

/** Index of `value` in the sorted distinct `values` (it is there). */
function binarySearch(values: Float64Array, value: number): number {
  let low = 0
  let high = values.length - 1
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((values[middle] as number) < value) low = middle + 1
    else high = middle
  }
  return low
}
