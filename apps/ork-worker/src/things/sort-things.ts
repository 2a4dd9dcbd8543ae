/**
 * The reference's natural sort for listThings (spec ork-behaviour.md 4.4.1), exact,
 * quirks included (Q11, Q57): undefined sorts last whatever the order, and when both
 * values are undefined the comparison stops at that key; digit runs compare as
 * numbers, other runs with the default-locale collator; `order` is a multiplier.
 *
 * Each key is tokenised once (key-tokens.ts) instead of on every comparison as the
 * reference does. Then:
 * - when the reference's comparison is a consistent order for the things at hand (each
 *   key's runs have one kind per position, orders 1 or -1), V8's stable sort can give
 *   only one result: the things in that order, ties in input order. It is built without
 *   comparisons, by a stable counting sort per run position: linear, where comparing
 *   grows as n·log n (bench:list-things times 50,000 distinct codes);
 * - otherwise the things' indices are sorted with the reference's comparison. V8's sort
 *   makes the same decisions for the same comparison results, so the order equals the
 *   reference's even where its comparator contradicts itself (NaN differences, `sort: {}`).
 */
import { KeyTokens } from './key-tokens.ts'

export type SortSpec = Record<string, unknown>

interface SortKey {
  path: string[]
  order: number
}

/**
 * Sorts `things` in place as `things.sort((a, b) => sortThings(a, b, sort))` does in the
 * reference, and returns the array. A falsy `sort` leaves the array untouched.
 */
export function sortThingsInPlace<T>(things: T[], sort: SortSpec | null | undefined): T[] {
  if (!sort) return things
  const keys: SortKey[] = Object.entries(sort).map(([key, order]) => ({ path: key.split('.'), order: order as number }))
  // No keys: the reference's comparator returns 1 for every pair; reproduce V8's result with it.
  if (keys.length === 0) return things.sort(() => 1)

  const tokens = keys.map(({ path }) => new KeyTokens(things, path))
  const order: ArrayLike<number> =
    rankedOrder(tokens, keys, things.length) ?? comparedOrder(tokens, keys, things.length)
  const sorted = things.slice()
  for (let index = 0; index < sorted.length; index++) things[index] = sorted[order[index] as number] as T
  return things
}

/**
 * The stable order of the things by every key's rank columns, or null when a key has none
 * or an order other than 1 and -1. A thing whose value is undefined at a key ties there with
 * the other undefined ones and is not compared at later keys, as in the reference.
 */
export function rankedOrder(
  tokens: KeyTokens[],
  keys: readonly Pick<SortKey, 'order'>[],
  count: number,
): Int32Array | null {
  if (!keys.every(({ order }) => order === 1 || order === -1)) return null
  const columns: Int32Array[] = []
  const stopped = new Uint8Array(count)
  for (let index = 0; index < keys.length; index++) {
    const key = tokens[index] as KeyTokens
    const keyColumns = key.rankColumns((keys[index] as SortKey).order === -1)
    if (!keyColumns) return null
    for (const column of keyColumns) {
      for (let thing = 0; thing < count; thing++) if (stopped[thing] === 1) column[thing] = 0
    }
    for (let thing = 0; thing < count; thing++) if (key.undefinedAt[thing] === 1) stopped[thing] = 1
    columns.push(...keyColumns)
  }
  let order = new Int32Array(count)
  for (let index = 0; index < count; index++) order[index] = index
  let next = new Int32Array(count)
  // Least significant column first: each pass is stable, so earlier columns decide and full ties keep input order.
  for (let index = columns.length - 1; index >= 0; index--) {
    countingSort(order, next, columns[index] as Int32Array)
    ;[order, next] = [next, order]
  }
  return order
}

/** Writes `order` stably sorted by `ranks` (non-negative integers, per thing) into `into`. */
function countingSort(order: Int32Array, into: Int32Array, ranks: Int32Array): void {
  let top = 0
  for (let index = 0; index < ranks.length; index++) top = Math.max(top, ranks[index] as number)
  const starts = new Int32Array(top + 2)
  for (let index = 0; index < ranks.length; index++) {
    const slot = (ranks[index] as number) + 1
    starts[slot] = (starts[slot] as number) + 1
  }
  for (let rank = 1; rank < starts.length; rank++) {
    starts[rank] = (starts[rank] as number) + (starts[rank - 1] as number)
  }
  for (let index = 0; index < order.length; index++) {
    const thing = order[index] as number
    const rank = ranks[thing] as number
    const at = starts[rank] as number
    into[at] = thing
    starts[rank] = at + 1
  }
}

/** The things' indices sorted by V8 with the reference's comparison. */
function comparedOrder(tokens: KeyTokens[], keys: readonly SortKey[], count: number): number[] {
  const order = Array.from({ length: count }, (_, index) => index)
  return order.sort((left, right) => {
    for (let index = 0; index < keys.length; index++) {
      const key = tokens[index] as KeyTokens
      const undefinedA = key.undefinedAt[left] as number
      const undefinedB = key.undefinedAt[right] as number
      if (undefinedA === 1 || undefinedB === 1) return undefinedA - undefinedB
      // A verdict ends the comparison even when `order` makes it 0 (order 0, NaN order).
      const verdict = key.compare(left, right, (keys[index] as SortKey).order)
      if (verdict !== null) return verdict
    }
    return 0
  })
}
