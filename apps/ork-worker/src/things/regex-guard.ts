/**
 * Why a `$regex` pattern from a peer is refused, or null.
 *
 * JavaScript's regex engine backtracks: a pattern that repeats a group which itself repeats
 * (`(a+)+$`, `(.*?){12}!`, `(a?){30}a{30}`) can take exponential time on a short string, and a
 * query runs on the thread that serves every request (the ork's for queryActions and
 * projections, each rack's for forwarded queries). A 97-byte queryActions request blocked the
 * ork for 29 s this way. Searches a site needs (`^AM-S19`, `group-1`, `\d+$`) never nest
 * quantifiers, so such patterns are refused, as are very long ones. Overlapping alternatives
 * (`(a|a)+`) are not detected: this check catches the common shape, not every slow pattern.
 */
export function regexProblem(pattern: string): string | null {
  if (pattern.length > MAX_REGEX_LENGTH) return `regex longer than ${MAX_REGEX_LENGTH} characters`
  return repeatsQuantifiedGroup(pattern) ? 'regex repeats a group that contains a quantifier' : null
}

/**
 * Longest `$regex` pattern accepted: room for an alternation of a few thousand device codes
 * (`^(AM-0001|AM-0002|…)$`), which is linear however long.
 */
export const MAX_REGEX_LENGTH = 16_384

/** `*`, `+`, `?`, `{n}`, `{n,}` or `{n,m}` at `at`: its length and whether it allows more than one repetition. */
function quantifierAt(pattern: string, at: number): { length: number; repeats: boolean } | null {
  const character = pattern[at]
  if (character === '*' || character === '+') return { length: 1, repeats: true }
  if (character === '?') return { length: 1, repeats: false }
  if (character !== '{') return null
  const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at, at + 24))
  if (!match) return null // a `{` that is not a quantifier is a literal
  const least = Number(match[1])
  const most = match[2] === undefined ? least : match[3] === '' ? Number.POSITIVE_INFINITY : Number(match[3])
  return { length: match[0].length, repeats: most > 1 }
}

/** Length of a group's opening: `(`, `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` or `(?<name>`. */
function groupOpeningLength(pattern: string, at: number): number {
  if (pattern[at + 1] !== '?') return 1
  if (pattern[at + 2] === '<' && pattern[at + 3] !== '=' && pattern[at + 3] !== '!') {
    const close = pattern.indexOf('>', at + 3)
    return close === -1 ? 3 : close - at + 1
  }
  return pattern[at + 2] === '<' ? 4 : 3
}

function repeatsQuantifiedGroup(pattern: string): boolean {
  // Per open group: whether it contains a quantifier so far.
  const open: boolean[] = []
  /** The atom just read is a group with a quantifier inside. */
  let quantifiedGroup = false
  for (let at = 0; at < pattern.length; at++) {
    const character = pattern[at]
    const quantifier = quantifierAt(pattern, at)
    if (quantifier) {
      if (quantifiedGroup && quantifier.repeats) return true
      if (open.length > 0) open[open.length - 1] = true
      at += quantifier.length - 1
      if (pattern[at + 1] === '?') at++ // lazy form
      quantifiedGroup = false
      continue
    }
    quantifiedGroup = false
    if (character === '\\') {
      at++ // an escaped character or class is one atom
    } else if (character === '[') {
      // A character class is one atom: skip to its closing bracket.
      at++
      while (at < pattern.length && pattern[at] !== ']') at += pattern[at] === '\\' ? 2 : 1
    } else if (character === '(') {
      open.push(false)
      at += groupOpeningLength(pattern, at) - 1
    } else if (character === ')') {
      quantifiedGroup = open.pop() ?? false
      if (quantifiedGroup && open.length > 0) open[open.length - 1] = true
    }
  }
  return false
}
