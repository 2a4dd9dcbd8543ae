/**
 * A value handled with plain JavaScript semantics. The ops reproduce the reference's
 * coercions (`+=` on strings, `+value`, property reads on primitives) on arbitrary JSON,
 * which TypeScript can only express through `any`; this alias keeps that in one place.
 */
// biome-ignore lint/suspicious/noExplicitAny: the ops work on arbitrary JSON with JavaScript coercion semantics
export type JsValue = any

/** Where an op reads its value: a property path such as `last.snap.stats.power_w`, or a function of the entry. */
export type Source = string | ((entry: JsValue) => unknown)

/** One op of a stats state (spec libraries.md 2.1). Only `op` and `src` can come from JSON config. */
export interface OpSpec {
  /** Op name: one of the keys of {@link ops}. */
  op: string
  /** Value source; falsy → the op reads `null`. */
  src?: Source | null | undefined
  /** Entry skipped when it returns a falsy value (`sum` also passes `ext`). */
  filter?: ((entry: JsValue, ext?: JsValue) => unknown) | undefined
  /** Group name of an entry for the `group*` ops; falsy → entry skipped. */
  group?: ((entry: JsValue, ext: JsValue) => unknown) | undefined
  /** `group_multiple_stats`: the values stored per group. */
  srcs?: { name: string; src: Source | null | undefined }[] | undefined
  /** `array_obj_calc`: the ops applied to each object of the array, keyed by their `src`. */
  objOps?: OpSpec[] | undefined
  /** `nested_obj_concat`: the ops applied to nested keys equal to their `src`. */
  nestedOps?: OpSpec[] | undefined
}

/** The ops to apply: output key → op spec, applied in key order. */
export interface StatsState {
  ops: Record<string, OpSpec>
}

/** A caller-owned object receiving accumulators (during apply) and final values (after tally). */
export type StatsPack = Record<string, JsValue>

/** The running state of one op; the final value is `res` (after the op's tally, if any). */
export interface Accumulator {
  res: JsValue
  [field: string]: JsValue
}

/** An op implementation, as exported by the reference's op modules. */
export interface StatsOp {
  /** Folds one entry into the accumulator (created when `current` is falsy) and returns it. */
  calc(op: OpSpec, current: Accumulator | undefined, entry: JsValue, ext?: JsValue): Accumulator
  /** Turns the accumulator into one whose `res` is the final value (`avg` and `group_avg` only). */
  tally?(op: OpSpec, current: Accumulator): Accumulator
}
