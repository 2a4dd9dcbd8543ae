import type { DeviceProfile } from './device-catalog.ts'

/** A comment on a thing, as racks store it. */
export interface ThingComment {
  id?: string
  ts: number
  comment: unknown
  user: unknown
  pos?: unknown
}

/** Runtime state changed by write actions; device readings honour it from `since` on. */
export interface ThingRuntime {
  powerMode?: { mode: string; since: number }
  rebootedAt?: number
  ledOn?: boolean
  /** Containers: switched off by switchContainer(false). */
  containerOff?: { off: boolean; since: number }
  /** Miners: the pools they mine on (`config.pool_config`). */
  pools?: Array<{ url: string; username: string }>
}

/**
 * A thing as the rack holds it in memory (`{id, type, code, tags, opts, info, comments}`)
 * plus what the simulator needs to model the device.
 */
export interface SimulatedThing {
  id: string
  type: string
  code: string
  tags: string[]
  opts: Record<string, unknown>
  info: Record<string, unknown>
  comments: ThingComment[]
  /** Noise stream index of this device (stable for its lifetime). */
  deviceIndex: number
  profile: DeviceProfile
  runtime: ThingRuntime
}

/** Tag prefixes that get no stat log, per family (rack-protocol.md 1.3). */
export function skipTagPrefixes(family: string): string[] {
  return family === 'miner' ? ['pos-', 'id-', 'code-', 'site-'] : ['id-', 'code-']
}

/** `t-` tags of a type: `miner-am-s19xp` → `t-miner-am-s19xp`, `t-miner-am`, `t-miner`. */
export function typeTags(type: string): string[] {
  const parts = type.split('-')
  const tags: string[] = []
  for (let length = parts.length; length >= 1; length--) {
    tags.push(`t-${parts.slice(0, length).join('-')}`)
  }
  return tags
}

/**
 * The tags a rack gives a thing (`_prepThingTags`): type tags, brand tags, user
 * tags, retained previous tags, `id-`, `code-`, then `pos-`/`container-` from info,
 * de-duplicated in first-seen order.
 */
export function prepareThingTags(
  thing: { id: string; code: string; type: string; info: Record<string, unknown> },
  brandTags: string[],
  userTags?: unknown,
  previousTags?: string[],
): string[] {
  let tags = [...typeTags(thing.type), ...brandTags]
  if (Array.isArray(userTags)) tags = tags.concat(userTags.map(String))
  if (previousTags) tags = tags.concat(previousTags)
  tags.push(`id-${thing.id}`, `code-${thing.code}`)
  tags = tags.filter((tag) => !tag.includes('pos-') && !tag.includes('container-'))
  tags = tags.filter((tag) => !tag.startsWith('code-') || tag === `code-${thing.code}`)
  if (thing.info.pos) tags.push(`pos-${String(thing.info.pos)}`)
  if (thing.info.container) tags.push(`container-${String(thing.info.container)}`)
  return [...new Set(tags)]
}

/** Code prefix of a type: the type minus its first segment, upper-cased (`AM-S19XP`). */
export function codePrefix(type: string): string {
  return type.replace(/^[^-]+-/, '').toUpperCase()
}

/** A thing code: `<prefix>-NNNN`. */
export function thingCode(type: string, number: number): string {
  return `${codePrefix(type)}-${String(number).padStart(4, '0')}`
}

/** The numeric suffix of a code (0 when it has none). */
export function codeNumber(code: string | undefined): number {
  if (!code) return 0
  return Number.parseInt(code.split('-').pop() ?? '', 10) || 0
}
