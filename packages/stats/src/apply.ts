import { accessorFor } from './get-val.ts'
import { lookupOp, type OpDefinition } from './ops.ts'
import type { Accessor } from './path.ts'
import type { JsValue, OpSpec, Source, StatsPack, StatsState } from './types.ts'

interface Step {
  key: string
  spec: OpSpec
  name: unknown
  src: Source | null | undefined
  definition: OpDefinition
  read: Accessor
}

interface Plan {
  steps: Step[]
}

/**
 * Compiled plans, keyed by the `state.ops` object: op names are resolved and `src` paths
 * parsed once, not once per entry. A plan is rebuilt when an op spec's `op` or `src`
 * changes; adding or removing keys of an `ops` object that was already used is not
 * noticed (assign a new `ops` object instead), which is the price of a per-entry cost
 * close to a hand-written loop.
 */
const plans = new WeakMap<object, Plan>()

function compile(opsByKey: Record<string, OpSpec>): Plan {
  const steps: Step[] = []
  for (const key of Object.keys(opsByKey)) {
    const spec = opsByKey[key] as OpSpec
    const definition = lookupOp(spec.op)
    const read = definition.readsSource ? accessorFor(spec.src) : accessorFor(null)
    steps.push({ key, spec, name: spec.op, src: spec.src, definition, read })
  }
  return { steps }
}

function isCurrent(plan: Plan): boolean {
  for (const step of plan.steps) {
    if (step.spec.op !== step.name || step.spec.src !== step.src) return false
  }
  return true
}

function planFor(state: StatsState): Plan {
  const opsByKey = state.ops
  let plan = plans.get(opsByKey)
  if (plan === undefined || !isCurrent(plan)) {
    plan = compile(opsByKey)
    plans.set(opsByKey, plan)
  }
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
  const steps = planFor(state).steps
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index] as Step
    pack[step.key] = step.definition.calc(step.spec, pack[step.key], entry, ext, step.read)
  }
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
