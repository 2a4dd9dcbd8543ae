import { OrkError } from '@ork/errors'
import { Query } from 'mingo'
import { applyStatsBatch, tallyStats } from './apply.ts'
import type { JsValue, OpSpec } from './types.ts'

/** The aggregation spec of one base type (`aggr.stats.json` → `{ miner: { ops } }`). */
export interface TailLogSpec {
  ops: Record<string, OpSpec>
}

/** The ork's `aggr.stats.json`: base type (text before the first `-`) → spec. */
export type AggrStatsConfig = Record<string, TailLogSpec>

/** One `aggrTimes` range; both ends inclusive. */
export interface AggrTimeRange {
  start: JsValue
  end: JsValue
}

/** A mingo projection such as `{ hashrate: 1, ts: 1 }`. */
export type Projection = Record<string, JsValue>

/** The tailLog request as received by the ork; unknown keys pass through to the racks. */
export interface TailLogRequest {
  type?: JsValue
  fields?: Projection | undefined
  aggrFields?: Projection | undefined
  aggrTimes?: AggrTimeRange[] | undefined
  applyAggrCrossthg?: JsValue
  [key: string]: JsValue
}

/** One aggregated row: `ts, aggrTsRange, aggrCount, <op keys in spec order>, aggrIntervals`. */
export interface TailLogRow {
  ts: JsValue
  aggrTsRange: string
  aggrCount: number
  aggrIntervals: number
  [opKey: string]: JsValue
}

/**
 * Picks the spec of a tailLog request (ork-behaviour.md 4.7, validation order):
 * `ERR_NOT_CONFIGURED` when `aggrStats` is not loaded, `ERR_TYPE_INVALID` when `type` is
 * falsy, `ERR_TYPE_AGGR_INVALID` when no spec exists for the base type (`type` up to the
 * first `-`).
 */
export function resolveTailLogSpec(aggrStats: AggrStatsConfig | null | undefined, type: unknown): TailLogSpec {
  if (!aggrStats) throw new OrkError('ERR_NOT_CONFIGURED')
  if (!type) throw new OrkError('ERR_TYPE_INVALID')
  const baseType = String(type).split('-')[0] as string
  const spec = Object.hasOwn(aggrStats, baseType) ? aggrStats[baseType] : undefined
  if (!spec) throw new OrkError('ERR_TYPE_AGGR_INVALID', { type, baseType })
  return spec
}

/** What {@link prepareTailLogRequest} returns. */
export interface PreparedTailLogRequest {
  /** The payload to send to every rack: the request with the ork-added `fields` (and augmented `aggrFields`). */
  rackRequest: TailLogRequest
  /** The projection applied to the aggregated rows (`{}` → rows unchanged). */
  aggrFields: Projection
}

/**
 * Step A of tailLog (ork-behaviour.md 4.7): derives the rack projection `fields` from the
 * requested `aggrFields` and the spec's op sources, and adds `ts`, `aggrTsRange`,
 * `aggrCount`, `aggrIntervals` to a non-empty `aggrFields`.
 *
 * FIX (Q2): works on copies — neither `request` nor `spec` is modified — while the payload
 * racks receive holds the same keys and values as the reference's, in the given request's
 * key order (`fields` gains the op sources after its own keys, as in the reference).
 */
export function prepareTailLogRequest(request: TailLogRequest, spec: TailLogSpec): PreparedTailLogRequest {
  const aggrFields: Projection = { ...(request.aggrFields || {}) }
  const fields: Projection = { ...(request.fields || {}) }
  for (const field in aggrFields) {
    const op = Object.hasOwn(spec.ops, field) ? spec.ops[field] : undefined
    const src = op?.src
    if (src) fields[src as string] = aggrFields[field]
  }
  if (Object.keys(fields).length && !fields.ts) fields.ts = 1
  if (Object.keys(aggrFields).length) {
    if (!aggrFields.ts) aggrFields.ts = 1
    if (!aggrFields.aggrTsRange) aggrFields.aggrTsRange = 1
    if (!aggrFields.aggrCount) aggrFields.aggrCount = 1
    if (!aggrFields.aggrIntervals) aggrFields.aggrIntervals = 1
  }
  const rackRequest: TailLogRequest = { ...request }
  // The reference mutated the caller's aggrFields object in place, so racks saw the augmented one.
  if (request.aggrFields) rackRequest.aggrFields = aggrFields
  rackRequest.fields = fields
  return { rackRequest, aggrFields }
}

/**
 * Flattens per-rack replies one level, in rack order (ork-behaviour.md 3.2 "Concat"): an
 * array reply contributes its elements, any other reply (object, number, `null`) is one
 * item. A failed rack should be passed as `[]`.
 */
export function collectRackItems(replies: readonly unknown[]): unknown[] {
  const items: unknown[] = []
  for (const reply of replies) {
    if (Array.isArray(reply)) {
      for (const item of reply) items.push(item)
    } else {
      items.push(reply)
    }
  }
  return items
}

/** One group of items that becomes one row. */
export interface TailLogGroup {
  /** `String(ts)`, or `"<start>-<end>"` with `aggrTimes`. */
  key: string
  items: unknown[]
}

/** Most deep copies of items that overlapping `aggrTimes` ranges may need (see {@link groupTailLogItems}). */
export const MAX_AGGR_TIMES_COPIES = 200_000

/**
 * Step C of tailLog: groups items by `ts`, or by the `aggrTimes` ranges containing their
 * `ts` (both ends inclusive; an item in several ranges is in each, items in none are
 * dropped). Groups never share an object, as ops may change the items they read: the first
 * range of an item gets the item, every further range a deep copy of it (made before any
 * group is aggregated). Overlapping ranges that would need more than
 * {@link MAX_AGGR_TIMES_COPIES} copies are `ERR_AGGR_TIMES_INVALID`: each copy costs memory and
 * time on the thread that serves every request.
 *
 * Group order is the reference's: the key order of a plain object, i.e. keys that are
 * array indices (`ts` below 2^32 − 1) ascending first, then the others in the order they
 * were first met (Q55 COPY). FIX (Q55): `null`/`undefined` items are ignored instead of
 * failing the whole call; other primitives group under `"undefined"` as upstream.
 */
export function groupTailLogItems(
  items: readonly unknown[],
  aggrTimes?: readonly AggrTimeRange[] | null,
): TailLogGroup[] {
  const byKey: Record<string, unknown[]> = Object.create(null)
  // Every rack sends the same few hundred `ts` values: each is turned into its key once (a
  // number-to-string conversion per item was most of the grouping time). Objects, whose
  // String() could differ from call to call, are converted every time as upstream does.
  const membersOfTs = new Map<unknown, unknown[]>()
  const ranges = aggrTimes?.length ? aggrTimes : null
  let copies = 0
  for (const item of items) {
    if (item === null || item === undefined) continue
    const ts = (item as JsValue).ts
    if (ranges === null) {
      const primitive = ts === null || (typeof ts !== 'object' && typeof ts !== 'function')
      let members = primitive ? membersOfTs.get(ts) : undefined
      if (members === undefined) {
        const key = String(ts)
        members = byKey[key]
        if (members === undefined) {
          members = []
          byKey[key] = members
        }
        if (primitive) membersOfTs.set(ts, members)
      }
      members.push(item)
      continue
    }
    let placed = false
    for (const range of ranges) {
      if (!(ts >= range.start && ts <= range.end)) continue
      const key = `${range.start}-${range.end}`
      let members = byKey[key]
      if (members === undefined) {
        members = []
        byKey[key] = members
      }
      if (placed && ++copies > MAX_AGGR_TIMES_COPIES) {
        throw new OrkError('ERR_AGGR_TIMES_INVALID', { reason: 'ranges overlap too much', copies })
      }
      members.push(placed ? cloneJson(item) : item)
      placed = true
    }
  }
  const groups: TailLogGroup[] = []
  for (const key in byKey) groups.push({ key, items: byKey[key] as unknown[] })
  return groups
}

/** A deep copy of JSON-shaped data that keeps key order (what lodash cloneDeep gives for such data). */
function cloneJson(value: JsValue): JsValue {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(cloneJson)
  const copy: JsValue = {}
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, {
      value: cloneJson(value[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return copy
}

/** Options of {@link aggregateTailLogItems}. */
export interface AggregateTailLogOptions {
  /** Group by these ranges instead of by `ts`. */
  aggrTimes?: readonly AggrTimeRange[] | null | undefined
  /**
   * Called with an exception thrown while aggregating (e.g. an unknown op in the spec, or
   * data an op cannot handle). COPY (Q5): the rows built before it are still returned.
   */
  onError?: ((error: unknown) => void) | undefined
}

/**
 * Steps C–E of tailLog: group the items ({@link groupTailLogItems}), aggregate each group
 * with every op of `spec` into a row `{ ts, aggrTsRange, aggrCount, <ops>, aggrIntervals }`,
 * then sort the rows by `ts` (numeric subtraction, stable, as upstream).
 *
 * - `ts` is the first item's `ts` (`0` with `aggrTimes`), `aggrTsRange` is `""` (the group
 *   key with `aggrTimes`), `aggrCount` the number of items in the group.
 * - `aggrIntervals` counts distinct `ts` values among items with more than one own key
 *   (items carrying only `ts` are fillers).
 * - COPY (Q4): `avg` counts items lacking the field as 0.
 * - COPY (Q5): an exception stops the aggregation; it goes to `onError` and the rows built so
 *   far are returned.
 *
 * The items are handed to the ops as they are (ops such as `alerts_group_cnt` write into
 * them, as upstream); `spec` is not modified.
 */
export function aggregateTailLogItems(
  items: readonly unknown[],
  spec: TailLogSpec,
  options: AggregateTailLogOptions = {},
): TailLogRow[] {
  const ranged = Boolean(options.aggrTimes?.length)
  const groups = groupTailLogItems(items, options.aggrTimes)
  const state = { ops: spec.ops }
  const rows: TailLogRow[] = []
  try {
    for (const group of groups) {
      const first = group.items[0] as JsValue
      const row: JsValue = {
        ts: ranged ? 0 : first.ts,
        aggrTsRange: ranged ? group.key : '',
        aggrCount: group.items.length,
      }
      applyStatsBatch(state, row, group.items)
      const intervals = new Set<unknown>()
      for (const item of group.items) {
        if (Object.keys(item as object).length > 1) intervals.add((item as JsValue).ts)
      }
      row.aggrIntervals = intervals.size
      tallyStats(state, row)
      rows.push(row)
    }
  } catch (error) {
    options.onError?.(error)
  }
  rows.sort((a, b) => (a.ts as number) - (b.ts as number))
  return rows
}

/**
 * Step G of tailLog: mingo 6 projection of the rows (`new Query({}).find(rows, projection)`).
 * An empty projection returns the rows themselves. COPY (Q44): mixing inclusion and
 * exclusion throws mingo's "Projection cannot have a mix of inclusion and exclusion.".
 *
 * The usual dashboard projection (top-level fields, each `1` or `true`) of plain rows is
 * copied here without mingo, which spends most of a tailLog's projection resolving each key
 * as a path (a few ms for a day of rows); the result is the one mingo gives: the projected
 * keys in projection order, those missing from a row or `undefined` there left out, values
 * shared with the row.
 */
export function projectRows<T>(rows: readonly T[], projection: Projection | null | undefined): T[] {
  const keys = plainInclusionKeys(projection)
  if (keys !== null && rows.every(isPlainRowWithoutId)) {
    return rows.map((row) => {
      const projected: Record<string, unknown> = {}
      for (const key of keys) {
        const value = Object.hasOwn(row as object, key) ? (row as Record<string, unknown>)[key] : undefined
        if (value !== undefined) projected[key] = value
      }
      return projected as T
    })
  }
  return new Query({}).find(rows as T[], projection ?? {}).all() as T[]
}

/**
 * The keys of a projection that includes top-level fields only, or null: every value `1` or
 * `true`, no key mingo reads as a path or an operator (`.`, `$`), nor a key every object
 * inherits.
 */
function plainInclusionKeys(projection: Projection | null | undefined): string[] | null {
  if (!projection) return null
  const keys = Object.keys(projection)
  if (keys.length === 0) return null
  for (const key of keys) {
    const value = projection[key]
    if (value !== 1 && value !== true) return null
    if (key.includes('.') || key.startsWith('$') || key in Object.prototype) return null
  }
  return keys
}

/** A row mingo projects like any plain object: an Object-prototype object without an `_id` (which mingo adds unless excluded). */
function isPlainRowWithoutId(row: unknown): boolean {
  return (
    row !== null &&
    typeof row === 'object' &&
    Object.getPrototypeOf(row) === Object.prototype &&
    !Object.hasOwn(row, '_id')
  )
}
