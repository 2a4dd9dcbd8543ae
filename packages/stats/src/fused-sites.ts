import type { JsValue } from './types.ts'

/**
 * Why this file repeats itself: V8 keeps the inline caches of a function in a feedback
 * vector shared by every closure made from the same function literal. The fused path makes
 * one closure per path, so with a single literal the property reads of all paths share one
 * cache, see several key names, go megamorphic and cost several times a plain `a.b` (about
 * 2.3× on the benchmark). Each copy below is its own literal with its own caches, handed out
 * round-robin, so the paths of a plan read through caches that only ever see their own keys.
 *
 * The copies of a pool must stay identical (a test checks it); only the count is tuned.
 */

/** Receives a value that is never `null`/`undefined`. */
export type Visitor = (value: JsValue) => void

/** Reads 1, 2 or 3 keys from a parent value and adds a truthy result (as a number) to `totals[slot]`. */
export type TotalLeafFactory = (keys: readonly string[], totals: Float64Array, slot: number) => Visitor

/** Reads 1, 2 or 3 keys from a parent value and hands a non-nullish result to `target`. */
export type EdgeFactory = (keys: readonly string[], target: Visitor) => Visitor

/** How many copies each pool holds. */
export const poolSize = 8

/** Copies of the 1-key `sum`/`avg` leaf. */
export const totalLeaves1: readonly TotalLeafFactory[] = [
  (keys, totals, slot) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
]

/** Copies of the 2-key `sum`/`avg` leaf. */
export const totalLeaves2: readonly TotalLeafFactory[] = [
  (keys, totals, slot) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
]

/** Copies of the 3-key `sum`/`avg` leaf. */
export const totalLeaves3: readonly TotalLeafFactory[] = [
  (keys, totals, slot) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
  (keys, totals, slot) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value) totals[slot] = (totals[slot] as number) + +value
    }
  },
]

/** Copies of the 1-key edge. */
export const edges1: readonly EdgeFactory[] = [
  (keys, target) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0] = keys as [string]
    return (parent) => {
      const value = parent[k0]
      if (value != null) target(value)
    }
  },
]

/** Copies of the 2-key edge. */
export const edges2: readonly EdgeFactory[] = [
  (keys, target) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1] = keys as [string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const value = v0[k1]
      if (value != null) target(value)
    }
  },
]

/** Copies of the 3-key edge. */
export const edges3: readonly EdgeFactory[] = [
  (keys, target) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value != null) target(value)
    }
  },
  (keys, target) => {
    const [k0, k1, k2] = keys as [string, string, string]
    return (parent) => {
      const v0 = parent[k0]
      if (v0 == null) return
      const v1 = v0[k1]
      if (v1 == null) return
      const value = v1[k2]
      if (value != null) target(value)
    }
  },
]
