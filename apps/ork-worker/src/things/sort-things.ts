/**
 * The reference's natural sort for listThings (spec ork-behaviour.md 4.4.1), exact,
 * quirks included (Q11, Q57): undefined sorts last whatever the order, and when both
 * values are undefined the comparison stops at that key; digit runs compare as
 * numbers, other runs with the default-locale collator; `order` is a multiplier.
 *
 * Each thing's sort keys are tokenised once (decorate, sort, undecorate) instead of on
 * every comparison as the reference does; the comparison itself is unchanged.
 */

export type SortSpec = Record<string, unknown>

/** A value's tokens: the text of each run and its numeric value (NaN when not numeric). */
interface Tokens {
  texts: string[]
  numbers: number[]
}

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

/** Equal runs tie under any collation; most runs of codes and ids are equal prefixes, so skip the collator. */
const compareTexts = (a: string, b: string): number => (a === b ? 0 : collator.compare(a, b))

function tokenise(value: unknown): Tokens {
  const texts = String(value).match(/\d+|\D+/g) ?? []
  return { texts, numbers: texts.map(Number) }
}

/** The key's verdict, or null when the values tie and the next key decides. */
function compareTokens(a: Tokens, b: Tokens, order: number): number | null {
  const shared = Math.min(a.texts.length, b.texts.length)
  for (let index = 0; index < shared; index++) {
    const numberA = a.numbers[index] as number
    const numberB = b.numbers[index] as number
    const difference =
      Number.isNaN(numberA) || Number.isNaN(numberB)
        ? compareTexts(a.texts[index] as string, b.texts[index] as string)
        : numberA - numberB
    if (difference !== 0) return difference * order
  }
  return a.texts.length !== b.texts.length ? (a.texts.length - b.texts.length) * order : null
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

  const decorated = things.map((thing) => ({
    thing,
    tokens: keys.map(({ path }) => {
      const value = lookup(thing, path)
      return value === undefined ? undefined : tokenise(value)
    }),
  }))
  decorated.sort((left, right) => {
    for (let index = 0; index < keys.length; index++) {
      const a = left.tokens[index]
      const b = right.tokens[index]
      if (a === undefined || b === undefined) return (a === undefined ? 1 : 0) - (b === undefined ? 1 : 0)
      // A verdict ends the comparison even when `order` makes it 0 (order 0, NaN order).
      const verdict = compareTokens(a, b, keys[index]!.order)
      if (verdict !== null) return verdict
    }
    return 0
  })
  for (let index = 0; index < decorated.length; index++) things[index] = decorated[index]!.thing
  return things
}
