/**
 * Deterministic randomness. Static device properties come from a seeded
 * mulberry32 stream; values that vary with time come from a stateless hash of
 * (seed, device, time slot), so any timestamp can be computed on its own,
 * in any order, without replaying history.
 */

/** A mulberry32 generator: returns a function yielding floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A 32-bit hash of a string (FNV-1a followed by an avalanche step). */
export function hashString(text: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return avalanche(hash)
}

function avalanche(value: number): number {
  let hash = value >>> 0
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  hash ^= hash >>> 16
  return hash >>> 0
}

function mix(hash: number, part: number): number {
  // Time slots exceed 32 bits; fold the high half in too.
  const low = part >>> 0
  const high = (part / 4294967296) >>> 0
  return avalanche(avalanche(hash ^ low) ^ high ^ 0x27d4eb2f)
}

/** A float in [0, 1) determined only by the given integers (two to five of them). */
export function hashUnit(first: number, second: number, third?: number, fourth?: number, fifth?: number): number {
  let hash = mix(mix(0x9e3779b9, first), second)
  if (third !== undefined) hash = mix(hash, third)
  if (fourth !== undefined) hash = mix(hash, fourth)
  if (fifth !== undefined) hash = mix(hash, fifth)
  return hash / 4294967296
}

/** A float in [-1, 1) determined only by the given integers. */
export function hashSigned(first: number, second: number, third?: number, fourth?: number, fifth?: number): number {
  return hashUnit(first, second, third, fourth, fifth) * 2 - 1
}

/** A hex string of `bytes` bytes drawn from `random`. */
export function randomHex(random: () => number, bytes: number): string {
  let text = ''
  for (let index = 0; index < bytes; index++) {
    text += Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0')
  }
  return text
}

/** A version-4 shaped UUID drawn from `random` (deterministic for a seeded stream). */
export function randomUuid(random: () => number): string {
  const hex = randomHex(random, 16)
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
