import { edges1, edges2, edges3, totalLeaves1, totalLeaves2, totalLeaves3, type Visitor } from './fused-sites.ts'
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
 * - `sum`/`avg` keep their running totals in a `Float64Array` (a JavaScript number is a
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

/**
 * Where the ops of one fold keep their state: the running totals of `sum`/`avg` as doubles
 * (what a JavaScript number is, so nothing changes), the accumulators of `value` ops.
 */
interface Registers {
  totals: Float64Array
  accumulators: Accumulator[]
}

interface TrieNode {
  sinks: number[]
  children: Map<string, TrieNode>
}

function newNode(): TrieNode {
  return { sinks: [], children: new Map() }
}

/** Calls every target with the same value; unrolled for the usual small counts. */
function combine(targets: readonly Visitor[]): Visitor {
  const [t0, t1, t2, t3] = targets as [Visitor, Visitor, Visitor, Visitor]
  switch (targets.length) {
    case 1:
      return t0
    case 2:
      return (value) => {
        t0(value)
        t1(value)
      }
    case 3:
      return (value) => {
        t0(value)
        t1(value)
        t2(value)
      }
    case 4:
      return (value) => {
        t0(value)
        t1(value)
        t2(value)
        t3(value)
      }
    default:
      return (value) => {
        for (let index = 0; index < targets.length; index++) (targets[index] as Visitor)(value)
      }
  }
}

// Round-robin over the copies of each pool, so that paths compiled one after the other
// (in one plan or across plans) read through different inline caches.
const turns = new Map<readonly unknown[], number>()

function take<Factory>(pool: readonly Factory[]): Factory {
  const turn = turns.get(pool) ?? 0
  turns.set(pool, (turn + 1) % pool.length)
  return pool[turn] as Factory
}

/** Reads `keys` from a parent value and hands a non-nullish result to `target`. */
function edge(keys: readonly string[], target: Visitor): Visitor {
  switch (keys.length) {
    case 1:
      return take(edges1)(keys, target)
    case 2:
      return take(edges2)(keys, target)
    case 3:
      return take(edges3)(keys, target)
    default:
      // Longer chains: the first three keys through a pooled edge, the rest below it.
      return take(edges3)(keys.slice(0, 3), edge(keys.slice(3), target))
  }
}

/**
 * A path ending in one `sum`/`avg`: the reads and the addition in one closure, because a
 * call per trie level costs about as much as the reads. A falsy value adds 0, which the
 * fold has made a no-op.
 */
function totalLeaf(keys: readonly string[], totals: Float64Array, slot: number): Visitor {
  switch (keys.length) {
    case 1:
      return take(totalLeaves1)(keys, totals, slot)
    case 2:
      return take(totalLeaves2)(keys, totals, slot)
    case 3:
      return take(totalLeaves3)(keys, totals, slot)
    default:
      return edge(keys.slice(0, keys.length - 3), take(totalLeaves3)(keys.slice(-3), totals, slot))
  }
}

function totalReceiver(totals: Float64Array, slot: number): Visitor {
  return (value) => {
    if (value) totals[slot] = (totals[slot] as number) + +value
  }
}

function valueReceiver(registers: Registers, slot: number, fold: ValueFold): Visitor {
  const accumulators = registers.accumulators
  return (value) => fold(accumulators[slot] as Accumulator, value)
}

function compileTrie(node: TrieNode, sinks: readonly Sink[], registers: Registers): Visitor {
  const receiver = (slot: number): Visitor => {
    const sink = sinks[slot] as Sink
    return sink.kind === 'value'
      ? valueReceiver(registers, slot, sink.fold as ValueFold)
      : totalReceiver(registers.totals, slot)
  }
  const targets = node.sinks.map(receiver)
  for (const [key, child] of node.children) {
    const keys = [key]
    let end = child
    while (end.sinks.length === 0 && end.children.size === 1) {
      const [nextKey, next] = end.children.entries().next().value as [string, TrieNode]
      keys.push(nextKey)
      end = next
    }
    const only = end.sinks[0] as number
    if (end.children.size === 0 && end.sinks.length === 1 && (sinks[only] as Sink).kind !== 'value') {
      targets.push(totalLeaf(keys, registers.totals, only))
    } else {
      targets.push(edge(keys, compileTrie(end, sinks, registers)))
    }
  }
  return combine(targets)
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
  const registers: Registers = { totals: new Float64Array(sinks.length), accumulators: [] }
  // Paths have at least one key, so the root has no sinks; it is called with truthy entries only.
  const visit: Visitor = root.children.size === 0 ? () => {} : compileTrie(root, sinks, registers)
  const { totals, accumulators } = registers
  for (let slot = 0; slot < sinks.length; slot++) accumulators.push(placeholder)
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
      if (!begin(pack, stop - start)) return false
      let truthyCount = 0
      let index = start
      try {
        for (; index < stop; index++) {
          const entry = entries[index]
          if (!entry) continue
          truthyCount++
          visit(entry)
        }
      } finally {
        end(index - start, truthyCount)
      }
      return true
    },
  }
}

const placeholder: Accumulator = { res: null }
