import { OrkError } from '@ork/errors'
import type { ActionState } from './record.ts'

/** Largest id that fits the reference's unsigned 48-bit key. */
export const MAX_ACTION_ID = 2 ** 48 - 1

/**
 * Converts an id to its number the way the reference's `writeUIntBE` does:
 * numeric strings are coerced, non-numeric values become 0, fractions are
 * truncated. Returns null for ids that do not fit 48 bits (the reference threw a
 * RangeError there; callers report `ERR_ACTION_ID_NOT_FOUND` instead).
 */
export function normalizeActionId(id: unknown): number | null {
  let value = typeof id === 'symbol' || typeof id === 'bigint' ? Number.NaN : Number(id)
  if (Number.isNaN(value)) value = 0
  value = Math.trunc(value)
  if (value < 0 || value > MAX_ACTION_ID) return null
  return value
}

/** The 6-byte big-endian key of a valid id (see {@link normalizeActionId}). */
export function encodeActionId(id: number): Buffer {
  const key = Buffer.alloc(6)
  key.writeUIntBE(id, 0, 6)
  return key
}

/** Range on action ids (creation ms), as taken by `query`; numeric strings work as in the reference. */
export interface IdRange {
  gt?: number | string
  gte?: number | string
  lt?: number | string
  lte?: number | string
}

/**
 * A range bound as the reference's key encoder reads it: absent when not given (`undefined`,
 * `null`, `''`, `false`), numeric strings coerced, anything else non-numeric read as 0. Unlike
 * the reference, 0 is a real bound (it skipped it and then crashed).
 */
function boundValue(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '' || value === false) return undefined
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value
  const number = typeof value === 'symbol' || typeof value === 'bigint' ? Number.NaN : Number(value)
  return Number.isNaN(number) ? 0 : number
}

/** Raw-key bounds of a range query over one state. */
export interface RawRange {
  gt?: Buffer
  gte?: Buffer
  lt?: Buffer
  lte?: Buffer
}

/**
 * Raw Hyperbee keys of the four states. The reference used
 * `bee.sub('actions:<state>')`, whose keys are the parent prefix, the ASCII
 * prefix, the bee's separator (one 0x00 byte by default) and the 6-byte id; every
 * write here uses those exact bytes on the root bee, so one batch can move an
 * action between states atomically.
 */
export class ActionKeys {
  readonly #prefixes: Record<ActionState, Buffer>

  constructor(parentPrefix: Buffer | null, separator: Buffer) {
    const make = (state: ActionState) =>
      Buffer.concat([parentPrefix ?? Buffer.alloc(0), Buffer.from(`actions:${state}`), separator])
    this.#prefixes = { voting: make('voting'), ready: make('ready'), executing: make('executing'), done: make('done') }
  }

  prefix(state: ActionState): Buffer {
    return this.#prefixes[state]
  }

  key(state: ActionState, id: number): Buffer {
    return Buffer.concat([this.#prefixes[state], encodeActionId(id)])
  }

  /** Id of a raw key of this state, or null when the key is not a 6-byte id key. */
  idOf(state: ActionState, key: Buffer): number | null {
    const prefix = this.#prefixes[state]
    if (key.length !== prefix.length + 6 || !key.subarray(0, prefix.length).equals(prefix)) return null
    return key.readUIntBE(prefix.length, 6)
  }

  /**
   * Raw bounds for an id range (see {@link boundValue}); as in hyperbee, `gt` wins over `gte`
   * and `lt` over `lte`. The caller's object is never modified (the reference rewrote it in
   * place). Out-of-range bounds are clamped.
   */
  range(state: ActionState, range: IdRange = {}): RawRange {
    const prefix = this.#prefixes[state]
    const bound = (value: number) =>
      Buffer.concat([prefix, encodeActionId(Math.min(MAX_ACTION_ID, Math.max(0, Math.trunc(value))))])
    const gt = boundValue(range.gt)
    const gte = boundValue(range.gte)
    const lt = boundValue(range.lt)
    const lte = boundValue(range.lte)
    const out: RawRange = {}
    if (gt !== undefined) {
      if (gt < 0) out.gte = bound(0)
      else if (gt >= MAX_ACTION_ID) out.gt = bound(MAX_ACTION_ID)
      else out.gt = bound(gt)
    } else if (gte !== undefined) out.gte = bound(gte)
    else out.gt = prefix
    if (lt !== undefined) {
      if (lt <= MAX_ACTION_ID) out.lt = bound(lt)
      else out.lte = bound(MAX_ACTION_ID)
    } else if (lte !== undefined) {
      if (lte < 0) out.lt = bound(0)
      else out.lte = bound(lte)
    } else out.lte = bound(MAX_ACTION_ID)
    return out
  }
}

/** Throws `ERR_ACTION_ID_NOT_FOUND` for ids that cannot be keys. */
export function requireActionId(id: unknown): number {
  const value = normalizeActionId(id)
  if (value === null) throw new OrkError('ERR_ACTION_ID_NOT_FOUND', { id: String(id) })
  return value
}
