import { OrkError } from '@ork/errors'
import { Aggregator } from 'mingo/aggregator'
import { Context, initOptions, OperatorType, type Options } from 'mingo/core'
import * as accumulatorOperators from 'mingo/operators/accumulator'
import * as pipelineOperators from 'mingo/operators/pipeline'
import type { Projection } from './tail-log.ts'
import type { JsValue } from './types.ts'

/**
 * One entry of `aggr.crossthg.json`, keyed there by the full request type
 * (ork-behaviour.md 6 and 9.7).
 */
export interface CrossThingConfig {
  /** Pipeline over the rows whose first result carries `ids`, the thing ids to look up. */
  searchAggr: Record<string, JsValue>[]
  /** Projection sent to listThings. */
  searchFields?: Projection | undefined
  /** Row key holding the array of per-thing objects (e.g. `workers`). */
  crossArrKey: string
  /** Key of those objects holding the thing id (e.g. `name`). */
  crossObjKey: string
  /** Path into the thing whose value becomes `crossThg` (e.g. `["info", "container"]`). */
  thgProperty: string[]
  /** Pipeline run over each row's array once `crossThg` is set. */
  groupAggr: Record<string, JsValue>[]
}

/** The listThings request of the cross-thing lookup. */
export interface CrossThingQuery {
  query: { id: { $in: unknown[] } }
  fields: Projection | undefined
  limit: number
}

let aggregatorOptions: Options | undefined

/** The same operator set as the reference: every accumulator and pipeline operator. */
function mingoOptions(): Options {
  aggregatorOptions ??= initOptions({
    context: Context.init({
      [OperatorType.ACCUMULATOR]: accumulatorOperators,
      [OperatorType.PIPELINE]: pipelineOperators,
    } as JsValue),
  })
  return aggregatorOptions
}

function runPipeline(pipeline: Record<string, JsValue>[], collection: unknown[]): JsValue[] {
  return new Aggregator(pipeline, mingoOptions()).run(collection as JsValue[]) as JsValue[]
}

/**
 * Step 1–2 of cross-thing aggregation: runs `searchAggr` over the rows and builds the
 * listThings request `{ query: { id: { $in: ids } }, fields: searchFields, limit: ids.length }`
 * to send to every rack. Returns `null` when there are no ids — FIX (Q43): the reference
 * still fanned out a query matching nothing; skipping it gives the same result.
 */
export function crossThingQuery(rows: readonly unknown[], config: CrossThingConfig): CrossThingQuery | null {
  const ids = runPipeline(config.searchAggr, rows as unknown[])[0]?.ids
  if (!Array.isArray(ids) || ids.length === 0) return null
  return { query: { id: { $in: ids } }, fields: config.searchFields, limit: ids.length }
}

/**
 * The reference's `getNestedProperty(obj, path)`: one key → `obj?.[key]`; more keys →
 * recurse into `obj[first]`. COPY (Q42): an empty path throws (`ERR_CROSSTHG_PROPERTY_INVALID`);
 * FIX (Q42): a missing intermediate gives `undefined` instead of a TypeError.
 */
export function getNestedProperty(object: unknown, path: readonly string[]): unknown {
  if (path.length === 0) throw new OrkError('ERR_CROSSTHG_PROPERTY_INVALID', { path })
  let value = object as JsValue
  for (const key of path) {
    if (value === null || value === undefined) return undefined
    value = value[key]
  }
  return value
}

/**
 * Steps 3–4 of cross-thing aggregation (ork-behaviour.md 6): in every row having
 * `crossArrKey`, each object whose `crossObjKey` matches a thing's `id` (first match in
 * `things` order) gets `crossThg = getNestedProperty(thing, thgProperty)`; then the array is
 * replaced by `groupAggr` run over it.
 *
 * Returns new rows; neither `rows`, their arrays and objects, nor `things` are modified
 * (the reference wrote `crossThg` into the rack replies).
 */
export function applyCrossThings(
  rows: readonly unknown[],
  config: CrossThingConfig,
  things: readonly unknown[],
): JsValue[] {
  const arrayKey = config.crossArrKey
  return rows.map((row: JsValue) => {
    if (row === null || typeof row !== 'object' || !(arrayKey in row)) return row
    const list = row[arrayKey]
    if (!Array.isArray(list)) {
      throw new OrkError('ERR_CROSSTHG_DATA_INVALID', { key: arrayKey, reason: 'not an array' })
    }
    const linked = list.map((object: JsValue) => {
      const thingId = object[config.crossObjKey]
      const thing = things.find((candidate: JsValue) => candidate.id === thingId)
      if (!thing) return object
      return { ...object, crossThg: getNestedProperty(thing, config.thgProperty) }
    })
    return { ...row, [arrayKey]: runPipeline(config.groupAggr, linked) }
  })
}

/**
 * Cross-thing aggregation as a request asks for it (ork-behaviour.md 4.7, 4.20 and 6): only
 * when `request.applyAggrCrossthg` is truthy and `configs` has an own entry for the full
 * `request.type`. The rows' things are then looked up through `listThings` (not called when
 * the rows name none, Q43) and linked by {@link applyCrossThings}; otherwise `rows` come back
 * as they are.
 */
export async function applyRequestedCrossThings(
  rows: JsValue[],
  request: { type?: JsValue; applyAggrCrossthg?: JsValue },
  configs: Record<string, CrossThingConfig> | null | undefined,
  listThings: ((query: CrossThingQuery) => Promise<readonly unknown[]>) | undefined,
): Promise<JsValue[]> {
  if (!request.applyAggrCrossthg || !configs || !Object.hasOwn(configs, request.type)) return rows
  const config = configs[request.type] as CrossThingConfig
  const query = crossThingQuery(rows, config)
  const things = query !== null && listThings ? await listThings(query) : []
  return applyCrossThings(rows, config, things)
}
