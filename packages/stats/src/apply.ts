import { OrkError } from '@ork/errors'
import { compileFused, type FusedPlan } from './fused.ts'
import { accessorFor } from './get-val.ts'
import { lookupOp, type OpDefinition } from './ops.ts'
import type { Accessor } from './path.ts'
import type { JsValue, OpSpec, Source, StatsPack, StatsState } from './types.ts'

interface Step {
  key: string
  spec: OpSpec
  name: unknown
  src: Source | null | undefined
  filter: OpSpec['filter']
  definition: OpDefinition
  read: Accessor
}

interface Plan {
  steps: Step[]
  /** Every op can be folded in one pass with shared path prefixes (see fused.ts); else undefined. */
  fused: FusedPlan | undefined
}

/**
 * Compiled plans, keyed by the `state.ops` object: op names are resolved and `src` paths
 * parsed once, not once per entry. A plan is rebuilt when a key gets another op spec object, or
 * an op spec's `op`, `src` or `filter` changes (the fused path depends on all three); adding or removing keys of an `ops` object that was already used is not
 * noticed (assign a new `ops` object instead), which is the price of a per-entry cost
 * close to a hand-written loop.
 */
const plans = new WeakMap<object, Plan>()

function compile(opsByKey: Record<string, OpSpec>): Plan {
  const steps: Step[] = []
  for (const key of Object.keys(opsByKey)) {
    // A key every plain object inherits (`__proto__`, `constructor`, `toString`…) would have its
    // op fold into that shared object, changing it for the whole process.
    if (key in Object.prototype) throw new OrkError('ERR_STATS_OP_KEY_INVALID', { key })
    const spec = opsByKey[key] as OpSpec
    const definition = lookupOp(spec.op)
    const read = definition.readsSource ? accessorFor(spec.src) : accessorFor(null)
    steps.push({ key, spec, name: spec.op, src: spec.src, filter: spec.filter, definition, read })
  }
  return { steps, fused: compileFused(steps) }
}

function isCurrent(plan: Plan, opsByKey: Record<string, OpSpec>): boolean {
  for (const step of plan.steps) {
    if (opsByKey[step.key] !== step.spec) return false
    if (step.spec.op !== step.name || step.spec.src !== step.src || step.spec.filter !== step.filter) return false
  }
  return true
}

// The last plan used, checked before the WeakMap: callers usually aggregate with one state at a time.
let lastOps: object | undefined
let lastPlan: Plan | undefined

function planFor(state: StatsState): Plan {
  const opsByKey = state.ops
  let plan = opsByKey === lastOps ? lastPlan : plans.get(opsByKey)
  if (plan === undefined || !isCurrent(plan, opsByKey)) {
    plan = compile(opsByKey)
    plans.set(opsByKey, plan)
  }
  lastOps = opsByKey
  lastPlan = plan
  return plan
}

/**
 * Folds one entry into `pack` (spec libraries.md 2.2): for every key of `state.ops`, in
 * order, `pack[key] = calc(op, pack[key], entry, ext)`. Accumulators are created on the
 * first call even when the entry is skipped. `null`/falsy entries are ignored by every op
 * except `cnt`, which counts them.
 *
 * Throws `OrkError('ERR_STATS_OP_UNKNOWN', { op })` for an unknown op name and
 * `OrkError('ERR_STATS_PATH_INVALID', { path })` for a malformed `src` path — both before
 * any op touches `pack`.
 */
export function applyStats(state: StatsState, pack: StatsPack, entry: JsValue, ext?: JsValue): void {
  // Entry by entry, the fused path (see applyStatsBatch) costs more than it saves: moving
  // the accumulators in and out of its registers outweighs the shared path prefixes.
  const steps = planFor(state).steps
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index] as Step
    pack[step.key] = step.definition.calc(step.spec, pack[step.key], entry, ext, step.read)
  }
}

/**
 * Folds a list of entries into `pack`; the result is the one of calling
 * {@link applyStats} for each entry in order.
 *
 * When every op is one that neither writes into entries nor calls user code (`sum`, `avg`,
 * `cnt`, `obj_concat`, `arr_concat`, `alerts_aggr` without `filter`, with a path or no
 * `src`), the list is folded in one pass by a loop compiled for the plan, each path prefix
 * shared by several ops read once per entry and the running sums kept in local variables
 * (see fused.ts). Otherwise entry after entry.
 */
export function applyStatsBatch(state: StatsState, pack: StatsPack, entries: readonly JsValue[], ext?: JsValue): void {
  const plan = planFor(state)
  if (entries.length === 0) return
  // The fused ops never read `ext`. When the fold declines the accumulators in `pack`, only
  // entry after entry is exact for them.
  if (plan.fused?.fold(pack, entries, 0, entries.length)) return
  for (const entry of entries) applyStats(state, pack, entry, ext)
}

/**
 * Turns every accumulator in `pack` into its final value (spec libraries.md 2.3): keys
 * whose accumulator is absent (falsy) stay absent; `avg`/`group_avg` run their tally; then
 * `pack[key] = pack[key].res`. COPY: not idempotent — call it once per pack.
 *
 * Throws `OrkError('ERR_STATS_OP_UNKNOWN')` for an unknown op even when `pack` is empty.
 */
export function tallyStats(state: StatsState, pack: StatsPack): void {
  for (const step of planFor(state).steps) {
    let value = pack[step.key]
    if (!value) continue
    if (step.definition.tally) value = step.definition.tally(step.spec, value)
    pack[step.key] = value.res
  }
}
