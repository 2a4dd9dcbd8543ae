import type { OpDefinition, ValueFold } from './ops.ts'
import { parsePath } from './path.ts'
import type { Accumulator, JsValue, OpSpec, StatsPack } from './types.ts'

/**
 * The fused fast path: every op of a plan folded in one pass over the entries, with the
 * `src` paths merged into a trie so that a prefix shared by several ops
 * (`last.snap.stats.…`) is resolved once per entry instead of once per op.
 *
 * Why this gives the same result as the ops one after the other, entry after entry:
 * - Only ops whose effect depends on nothing but the value their path resolves to are
 *   fused (`sum`, `avg`, `cnt`, `obj_concat`, `arr_concat`, `alerts_aggr`, no `filter`,
 *   a string `src` or none). None of them calls user code or writes into an entry, so the
 *   objects along a shared prefix cannot change between two ops reading them, and the order
 *   in which the ops of one entry run does not matter.
 * - A `null`/`undefined` met on a path contributes nothing to any of these ops (`avg`
 *   still counts the entry, which is done apart by counting truthy entries), so the subtree
 *   below it is skipped; `sum`/`avg` also skip a falsy value, which would add 0.
 * - `sum`/`avg` keep their running totals in local variables (a JavaScript number is a
 *   double, so nothing changes), `cnt` and the count of `avg` add the number of entries at
 *   the end. That is exact only when the accumulators already in `pack` hold plain numbers
 *   (not `-0`, counts that stay safe integers) and no two ops share an accumulator or a
 *   result object; the fold checks that first and otherwise declines, and the caller takes
 *   the general path.
 * Not covered (non-JSON data): getters on entries run once per shared prefix rather than once
 * per op, and when a value throws (a `valueOf` that throws, a `Symbol`) the accumulators keep
 * what was folded before, in trie order rather than op order.
 */
export interface FusedPlan {
  /**
   * Folds `entries[start..end)` into `pack`; false (and `pack` untouched) when the
   * accumulators in `pack` are not ones the fused path can hold exactly.
   */
  fold(pack: StatsPack, entries: readonly JsValue[], start: number, end: number): boolean
}

/** The parts of a compiled plan step the fused path needs. */
export interface FusableStep {
  key: string
  spec: OpSpec
  definition: OpDefinition
}

type SinkKind = 'sum' | 'avg' | 'cnt' | 'value'

/** One op of a fused plan. */
interface Sink {
  key: string
  kind: SinkKind
  /** The parsed `src`, or null for ops reading nothing (`cnt`, or a falsy/non-string `src`). */
  path: readonly string[] | null
  /** `value` ops only. */
  fold: ValueFold | undefined
  create: (() => Accumulator) | undefined
}

/** True when adding `+0` to `value` gives `value`, so skipping missing values changes nothing. */
function isPlainNumber(value: JsValue): boolean {
  return typeof value === 'number' && !Object.is(value, -0)
}

function isCount(value: JsValue, entryCount: number): boolean {
  return Number.isSafeInteger(value) && Number.isSafeInteger(value + entryCount)
}

interface TrieNode {
  sinks: number[]
  children: Map<string, TrieNode>
}

function newNode(): TrieNode {
  return { sinks: [], children: new Map() }
}

/**
 * The loop of one plan as JavaScript source: each `src` path becomes literal property reads
 * (`entry["last"]["snap"]…`, keys written with `JSON.stringify`, so any key is a plain string
 * literal and nothing from a config can become code), a trie node's value is read once for
 * all the ops below it, and the running sums stay in local variables. Generated per plan
 * because V8 keeps inline caches per function: reads shared by every plan would see many
 * key names and go megamorphic (several times slower), while these see only their own.
 *
 * Semantics per node, as the ops one after the other: a `sum`/`avg` adds a truthy value as a
 * number, a `value` op folds any non-nullish value, and a nullish value ends its branch.
 */
function foldLoopSource(root: TrieNode, sinks: readonly Sink[]): string {
  const lines: string[] = []
  let variables = 0
  const emitNode = (node: TrieNode, value: string): void => {
    for (const slot of node.sinks) {
      lines.push(
        (sinks[slot] as Sink).kind === 'value' ? `f${slot}(a${slot}, ${value})` : `if (${value}) t${slot} += +${value}`,
      )
    }
    for (const [key, child] of node.children) {
      const read = `v${variables++}`
      lines.push('{', `const ${read} = ${value}[${JSON.stringify(key)}]`, `if (${read} != null) {`)
      emitNode(child, read)
      lines.push('}', '}')
    }
  }
  emitNode(root, 'entry')
  const totalSlots = sinks.flatMap((sink, slot) => (sink.kind === 'sum' || sink.kind === 'avg' ? [slot] : []))
  const valueSlots = sinks.flatMap((sink, slot) => (sink.kind === 'value' ? [slot] : []))
  return [
    "'use strict'",
    'return function foldLoop(entries, start, stop, totals, accumulators, folds, counts) {',
    ...totalSlots.map((slot) => `let t${slot} = totals[${slot}]`),
    ...valueSlots.map((slot) => `const a${slot} = accumulators[${slot}], f${slot} = folds[${slot}]`),
    'let index = start',
    'let truthy = 0',
    'try {',
    'for (; index < stop; index++) {',
    'const entry = entries[index]',
    'if (!entry) continue',
    'truthy++',
    ...lines,
    '}',
    '} finally {',
    ...totalSlots.map((slot) => `totals[${slot}] = t${slot}`),
    'counts[0] = index - start',
    'counts[1] = truthy',
    '}',
    '}',
  ].join('\n')
}

/**
 * Folds `entries[start..stop)` into the registers; writes into `counts` the entries passed
 * (up to the one that threw, if any) and how many of them were truthy.
 */
type FoldLoop = (
  entries: readonly JsValue[],
  start: number,
  stop: number,
  totals: Float64Array,
  accumulators: readonly Accumulator[],
  folds: readonly (ValueFold | undefined)[],
  counts: Float64Array,
) => void

function compileFoldLoop(root: TrieNode, sinks: readonly Sink[]): FoldLoop {
  return new Function(foldLoopSource(root, sinks))() as FoldLoop
}

/** The fused form of `steps`, or undefined when one of them cannot be fused. */
export function compileFused(steps: readonly FusableStep[]): FusedPlan | undefined {
  const sinks: Sink[] = []
  for (const step of steps) {
    const fused = step.definition.fused
    if (fused === undefined || step.spec.filter) return undefined
    const src = step.spec.src
    if (typeof src === 'function') return undefined
    // A falsy or non-string `src` reads `null`, which these ops ignore.
    const path = step.definition.readsSource && src && typeof src === 'string' ? parsePath(src) : null
    sinks.push({
      key: step.key,
      kind: fused.kind,
      path,
      fold: fused.kind === 'value' ? fused.fold : undefined,
      create: fused.kind === 'value' ? fused.create : undefined,
    })
  }

  const root = newNode()
  sinks.forEach((sink, slot) => {
    if (sink.path === null) return
    let node = root
    for (const key of sink.path) {
      let child = node.children.get(key)
      if (child === undefined) {
        child = newNode()
        node.children.set(key, child)
      }
      node = child
    }
    node.sinks.push(slot)
  })
  const totals = new Float64Array(sinks.length)
  const accumulators: Accumulator[] = sinks.map(() => placeholder)
  const folds = sinks.map((sink) => sink.fold)
  const counts = new Float64Array(2)
  // Compiled at the first fold: a plan used entry by entry only (applyStats) never needs it.
  let foldLoop: FoldLoop | undefined
  const objects: unknown[] = []
  const seen = new Set<unknown>()
  let running = false

  /** Takes the accumulators out of `pack` into the registers; false when they cannot be held exactly. */
  function begin(pack: StatsPack, entryCount: number): boolean {
    // A getter in an entry calling back into the same plan would find the registers in use.
    if (running) return false
    for (let slot = 0; slot < sinks.length; slot++) {
      const sink = sinks[slot] as Sink
      const current = pack[sink.key]
      let accumulator: Accumulator
      switch (sink.kind) {
        case 'sum':
          accumulator = current || { res: 0 }
          if (!isPlainNumber(accumulator.res)) return release()
          totals[slot] = accumulator.res
          break
        case 'avg':
          accumulator = current || { acc: 0, cnt: 0, res: 0 }
          if (!isPlainNumber(accumulator.acc) || !isCount(accumulator.cnt, entryCount)) return release()
          totals[slot] = accumulator.acc
          break
        case 'cnt':
          accumulator = current || { res: 0 }
          if (!isCount(accumulator.res, entryCount)) return release()
          break
        default:
          accumulator = current || (sink.create as () => Accumulator)()
      }
      accumulators[slot] = accumulator
    }
    if (!distinct()) return release()
    // Stored even when unchanged: an inherited value (`toString`) becomes an own property, as with `calc`.
    for (let slot = 0; slot < sinks.length; slot++) pack[(sinks[slot] as Sink).key] = accumulators[slot]
    running = true
    return true
  }

  /** No two ops share an accumulator, nor a result object that a `value` op writes into. */
  function distinct(): boolean {
    let count = 0
    for (let slot = 0; slot < sinks.length; slot++) {
      const accumulator = accumulators[slot] as Accumulator
      objects[count++] = accumulator
      if ((sinks[slot] as Sink).kind !== 'value') continue
      const result = accumulator.res
      if (result !== null && typeof result === 'object') objects[count++] = result
    }
    // Quadratic but allocation-free for the usual handful of ops; a set beyond.
    if (count <= 16) {
      for (let left = 1; left < count; left++) {
        const object = objects[left]
        for (let right = 0; right < left; right++) if (objects[right] === object) return false
      }
      return true
    }
    seen.clear()
    for (let index = 0; index < count; index++) seen.add(objects[index])
    const unique = seen.size === count
    seen.clear()
    return unique
  }

  /** Writes the registers back into the accumulators. */
  function end(entryCount: number, truthyCount: number): void {
    for (let slot = 0; slot < sinks.length; slot++) {
      const accumulator = accumulators[slot] as Accumulator
      switch ((sinks[slot] as Sink).kind) {
        case 'sum':
          accumulator.res = totals[slot]
          break
        case 'avg':
          accumulator.acc = totals[slot]
          accumulator.cnt += truthyCount
          break
        case 'cnt':
          accumulator.res += entryCount
          break
      }
    }
    release()
    running = false
  }

  // Drops the references to the caller's objects until the next fold.
  function release(): false {
    for (let slot = 0; slot < accumulators.length; slot++) accumulators[slot] = placeholder
    objects.fill(placeholder)
    return false
  }

  return {
    fold(pack, entries, start, stop) {
      foldLoop ??= compileFoldLoop(root, sinks)
      if (!begin(pack, stop - start)) return false
      try {
        foldLoop(entries, start, stop, totals, accumulators, folds, counts)
      } finally {
        end(counts[0] as number, counts[1] as number)
      }
      return true
    },
  }
}

const placeholder: Accumulator = { res: null }
