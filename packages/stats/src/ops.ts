import { OrkError } from '@ork/errors'
import { accessorFor } from './get-val.ts'
import type { Accessor } from './path.ts'
import type { Accumulator, JsValue, OpSpec, StatsOp } from './types.ts'

/**
 * The internal form of an op: `read` is the compiled accessor of `op.src`, resolved once
 * per state by the caller instead of once per entry.
 *
 * Every op mirrors the reference module of the same name statement for statement,
 * including its coercions (spec libraries.md 2.5): the accumulators are plain objects
 * (`{}` with the usual prototype) on purpose, so keys such as `constructor` behave
 * exactly as they do upstream.
 */
export type OpCalc = (op: OpSpec, current: JsValue, entry: JsValue, ext: JsValue, read: Accessor) => Accumulator

/**
 * `sum`/`avg`/`cnt` keep numeric accumulators that the fused path holds in locals;
 * `value` ops fold each resolved value into their accumulator (made by `create` when the
 * pack has none, as `calc` would).
 */
export type FusedForm = { kind: 'sum' | 'avg' | 'cnt' } | { kind: 'value'; fold: ValueFold; create: () => Accumulator }

/** Folds one value read from an entry into an accumulator (the body of a `value` op, after its entry checks). */
export type ValueFold = (accumulator: Accumulator, value: JsValue) => void

/** An op as stored in the op table. */
export interface OpDefinition {
  calc: OpCalc
  /**
   * How the fused fast path (`fused.ts`) folds this op: the op neither calls user code nor
   * writes into entries, and its effect depends only on the value its `src` resolves to.
   */
  fused?: FusedForm | undefined
  tally?: ((op: OpSpec, current: JsValue) => Accumulator) | undefined
  /** False for ops that never read `src` (so a malformed `src` there is not an error, as upstream). */
  readsSource: boolean
}

function number(value: JsValue): number {
  return value ? +value : 0
}

function valueError(op: string, reason: string): OrkError {
  return new OrkError('ERR_STATS_VALUE_INVALID', { op, reason })
}

const sum: OpCalc = (op, current, entry, ext, read) => {
  const accumulator = current || { res: 0 }
  if (!entry) return accumulator
  if (op.filter && !op.filter(entry, ext)) return accumulator
  accumulator.res += number(read(entry))
  return accumulator
}

const avg: OpCalc = (op, current, entry, _ext, read) => {
  const accumulator = current || { acc: 0, cnt: 0, res: 0 }
  if (!entry) return accumulator
  if (op.filter && !op.filter(entry)) return accumulator
  accumulator.acc += number(read(entry))
  accumulator.cnt++
  return accumulator
}

function avgTally(_op: OpSpec, current: JsValue): Accumulator {
  return current.cnt ? { res: current.acc / current.cnt } : { res: 0 }
}

const cnt: OpCalc = (op, current, entry) => {
  const accumulator = current || { res: 0 }
  if (op.filter && !op.filter(entry)) return accumulator
  accumulator.res++
  return accumulator
}

const objConcat: OpCalc = (op, current, entry, _ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  if (op.filter && !op.filter(entry)) return accumulator
  objConcatFold(accumulator, read(entry))
  return accumulator
}

/** `obj_concat` of one value: falsy keys are replaced, others `+=` (numbers add, strings concatenate). */
export const objConcatFold: ValueFold = (accumulator, value) => {
  const result = accumulator.res
  for (const key in value) {
    if (!result[key]) result[key] = value[key]
    else result[key] += value[key]
  }
}

const arrConcat: OpCalc = (op, current, entry, _ext, read) => {
  const accumulator = current || { res: [] }
  if (!entry) return accumulator
  if (op.filter && !op.filter(entry)) return accumulator
  arrConcatFold(accumulator, read(entry))
  return accumulator
}

/**
 * Arrays that arr_concat built itself. Only these grow in place: an accumulator may start from
 * a caller's array (array_obj_calc seeds it with the entry's own value), which `concat` never
 * changes. A new array per value, as `res.concat(val)` makes, took quadratic time: 80,000
 * values in one group blocked the thread for 28 s.
 */
const builtArrays = new WeakSet<unknown[]>()

/** `arr_concat` of one value: anything but `null`/`undefined` is concatenated (arrays spread one level). */
export const arrConcatFold: ValueFold = (accumulator, value) => {
  if (value === null || value === undefined) return
  const result = accumulator.res
  if (!builtArrays.has(result)) {
    const concatenated = result.concat(value)
    if (Array.isArray(concatenated)) builtArrays.add(concatenated)
    accumulator.res = concatenated
  } else if (Array.isArray(value)) {
    for (const item of value) result.push(item)
  } else {
    result.push(value)
  }
}

const nestedObjConcat: OpCalc = (op, current, entry, _ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  if (op.filter && !op.filter(entry)) return accumulator
  const value = read(entry)
  const result = accumulator.res
  for (const key in value) {
    if (key === '__proto__') continue
    // Inherited keys (`constructor`) count as absent: merging into them would change shared objects.
    if (!Object.hasOwn(result, key) || !result[key]) {
      // COPY: the first value is kept by reference and later merges mutate it (spec 2.5).
      result[key] = value[key]
    } else {
      const incoming = value[key]
      if (typeof incoming === 'object' && op.nestedOps) mergeNested(result[key], incoming, op.nestedOps)
    }
  }
  return accumulator
}

function mergeNested(target: JsValue, incoming: JsValue, nestedOps: JsValue): void {
  // The reference module is sloppy-mode code: writes into a primitive target are silently lost.
  const writable = typeof target === 'object' && target !== null
  // Inherited properties (`constructor`) are not the target's: merging into them would change shared objects.
  const childOf = (key: string) => (writable && !Object.hasOwn(target, key) ? undefined : target[key])
  for (const key in incoming) {
    // The reference threw a TypeError reading a key of a missing sub-object.
    if (target === null || target === undefined) throw valueError('nested_obj_concat', 'sub-object missing')
    if (key === '__proto__') continue
    const keyOp: OpSpec | undefined = nestedOps.find((candidate: OpSpec) => candidate.src === key)
    if (keyOp) {
      const definition = lookupOp(keyOp.op)
      const current = childOf(key)
      const merged = definition.calc(keyOp, current && { res: current }, incoming, undefined, accessorFor(keyOp.src))
      if (writable) target[key] = merged.res
    }
    const child = incoming[key]
    if (typeof child === 'object' && !Array.isArray(child)) mergeNested(childOf(key), child, nestedOps)
  }
}

const alertsAggr: OpCalc = (op, current, entry, _ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  if (op.filter && !op.filter(entry)) return accumulator
  alertsAggrFold(accumulator, read(entry))
  return accumulator
}

/** `alerts_aggr` of one value: each own key's value is added to the key's count (from 0). */
export const alertsAggrFold: ValueFold = (accumulator, groups) => {
  if (!groups) return
  const result = accumulator.res
  for (const key of Object.keys(groups)) {
    if (!result[key]) result[key] = 0
    result[key] += groups[key]
  }
}

const alertsGroupCnt: OpCalc = (op, current, entry, _ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  if (op.filter && !op.filter(entry)) return accumulator
  const alerts = read(entry)
  if (!alerts) return accumulator
  if (!Array.isArray(alerts)) throw valueError('alerts_group_cnt', 'alerts is not an array')
  const result = accumulator.res
  for (const alert of alerts) {
    if (alert === null || typeof alert !== 'object') throw valueError('alerts_group_cnt', 'alert is not an object')
    // COPY: the default severity is written into the caller's alert object (spec 2.5).
    if (!alert.severity) alert.severity = 'medium'
    if (!result[alert.severity]) result[alert.severity] = 0
    result[alert.severity]++
  }
  return accumulator
}

const arrayObjCalc: OpCalc = (op, current, entry, _ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  if (op.filter && !op.filter(entry)) return accumulator
  const list = read(entry)
  if (list === null || list === undefined) return accumulator
  if (!Array.isArray(list)) throw valueError('array_obj_calc', 'value is not an array')
  const result = accumulator.res
  for (const item of list) {
    if (!Array.isArray(op.objOps))
      throw new OrkError('ERR_STATS_OP_INVALID', { op: 'array_obj_calc', reason: 'objOps' })
    for (const keyOp of op.objOps) {
      const keyRead = accessorFor(keyOp.src)
      const value = keyRead(item)
      if (!value) continue
      const key = keyOp.src as JsValue
      if (!Object.hasOwn(result, key) || !result[key]) {
        result[key] = value
        continue
      }
      result[key] = lookupOp(keyOp.op).calc(keyOp, { res: result[key] }, item, undefined, keyRead).res
    }
  }
  return accumulator
}

/** The checks shared by the group ops; returns the group name or a falsy value to skip the entry. */
function groupName(op: OpSpec, entry: JsValue, ext: JsValue): JsValue {
  if (op.filter && !op.filter(entry)) return null
  if (!op.group) return null
  const name = op.group(entry, ext)
  // `result['__proto__']` would be the shared prototype (the reference's `+=` on it was lost anyway).
  return name === '__proto__' ? null : name
}

const group: OpCalc = (op, current, entry, ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  if (!op.src) return accumulator
  const name = groupName(op, entry, ext)
  if (!name) return accumulator
  accumulator.res[name] = read(entry)
  return accumulator
}

const groupSum: OpCalc = (op, current, entry, ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  const name = groupName(op, entry, ext)
  if (!name) return accumulator
  const result = accumulator.res
  if (!result[name]) result[name] = 0
  result[name] += number(read(entry))
  return accumulator
}

const groupAvg: OpCalc = (op, current, entry, ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  const name = groupName(op, entry, ext)
  if (!name) return accumulator
  const result = accumulator.res
  // Own groups only: an inherited one (`constructor`) would be the shared object itself.
  if (!Object.hasOwn(result, name) || !result[name]) result[name] = { acc: 0, cnt: 0, res: 0 }
  result[name].acc += number(read(entry))
  result[name].cnt++
  return accumulator
}

function groupAvgTally(_op: OpSpec, current: JsValue): Accumulator {
  const result = current.res
  for (const key in result) {
    result[key] = result[key].cnt ? result[key].acc / result[key].cnt : null
  }
  return current
}

const groupCnt: OpCalc = (op, current, entry, ext) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  const name = groupName(op, entry, ext)
  if (!name) return accumulator
  const result = accumulator.res
  if (!result[name]) result[name] = 0
  result[name]++
  return accumulator
}

const groupMax: OpCalc = (op, current, entry, ext, read) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  const name = groupName(op, entry, ext)
  if (!name) return accumulator
  const result = accumulator.res
  // COPY: a group starts at 0, so the maximum is never below 0 (spec 2.5).
  if (!result[name]) result[name] = 0
  const value = read(entry) || 0
  result[name] = result[name] === undefined ? value : Math.max(result[name], value)
  return accumulator
}

const groupMultipleStats: OpCalc = (op, current, entry, ext) => {
  const accumulator = current || { res: {} }
  if (!entry) return accumulator
  if (!op.srcs || !Array.isArray(op.srcs)) return accumulator
  const name = groupName(op, entry, ext)
  if (!name) return accumulator
  let values: JsValue = {}
  for (const source of op.srcs as JsValue[]) {
    // A computed key in a literal defines an own property even for "__proto__", as upstream.
    values = { ...values, [source.name]: accessorFor(source.src)(entry) }
  }
  accumulator.res[name] = values
  return accumulator
}

const definitions = {
  sum: { calc: sum, fused: { kind: 'sum' }, readsSource: true },
  avg: { calc: avg, fused: { kind: 'avg' }, tally: avgTally, readsSource: true },
  cnt: { calc: cnt, fused: { kind: 'cnt' }, readsSource: false },
  obj_concat: {
    calc: objConcat,
    fused: { kind: 'value', fold: objConcatFold, create: () => ({ res: {} }) },
    readsSource: true,
  },
  arr_concat: {
    calc: arrConcat,
    fused: { kind: 'value', fold: arrConcatFold, create: () => ({ res: [] }) },
    readsSource: true,
  },
  nested_obj_concat: { calc: nestedObjConcat, readsSource: true },
  alerts_aggr: {
    calc: alertsAggr,
    fused: { kind: 'value', fold: alertsAggrFold, create: () => ({ res: {} }) },
    readsSource: true,
  },
  alerts_group_cnt: { calc: alertsGroupCnt, readsSource: true },
  array_obj_calc: { calc: arrayObjCalc, readsSource: true },
  group: { calc: group, readsSource: true },
  group_sum: { calc: groupSum, readsSource: true },
  group_avg: { calc: groupAvg, tally: groupAvgTally, readsSource: true },
  group_cnt: { calc: groupCnt, readsSource: false },
  group_max: { calc: groupMax, readsSource: true },
  group_multiple_stats: { calc: groupMultipleStats, readsSource: false },
} satisfies Record<string, OpDefinition>

/** The name of every op of the reference library. */
export type OpName = keyof typeof definitions

/** Every op name, in the order of spec libraries.md 2. */
export const opNames: readonly OpName[] = Object.freeze(Object.keys(definitions) as OpName[])

/**
 * The op table. Names outside it throw `OrkError('ERR_STATS_OP_UNKNOWN', { op })`; the
 * own-property check keeps names such as `__proto__` or `../index` from escaping it.
 */
export function lookupOp(name: unknown): OpDefinition {
  if (typeof name === 'string' && Object.hasOwn(definitions, name)) return definitions[name as OpName]
  throw new OrkError('ERR_STATS_OP_UNKNOWN', { op: name })
}

/** True when `name` is the name of an op. */
export function isOpName(name: unknown): name is OpName {
  return typeof name === 'string' && Object.hasOwn(definitions, name)
}

function publicOp(definition: OpDefinition): StatsOp {
  const calc = (op: OpSpec, current: Accumulator | undefined, entry: JsValue, ext?: JsValue): Accumulator =>
    definition.calc(op, current, entry, ext, definition.readsSource ? accessorFor(op.src) : accessorFor(null))
  const tally = definition.tally
  return tally === undefined ? { calc } : { calc, tally: (op, current) => tally(op, current) }
}

/**
 * The ops by name, each with the reference module's `calc(op, current, entry, ext?)` and,
 * for `avg`/`group_avg`, `tally(op, current)`. `applyStats`/`tallyStats` are the usual entry
 * points; these are for callers that drive one op by hand.
 */
export const ops: Readonly<Record<OpName, StatsOp>> = Object.freeze(
  Object.fromEntries(Object.entries(definitions).map(([name, definition]) => [name, publicOp(definition)])) as Record<
    OpName,
    StatsOp
  >,
)
