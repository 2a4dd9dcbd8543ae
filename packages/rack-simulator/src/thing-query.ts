import mingo from 'mingo'

type Document = Record<string, unknown>

/** Dotted-path lookup of the rack's sorter: a falsy intermediate value is returned as is. */
function valueAtPath(document: unknown, path: string): unknown {
  let current: unknown = document
  for (const key of path.split('.')) {
    if (!current) return current
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

const TOKENS = /\d+|\D+/g

/**
 * The rack's natural sorter (`getThingSorter`): digit runs compare numerically,
 * other runs with localeCompare, undefined sorts last and stops the comparison,
 * keys are applied in object order with their order value as a multiplier.
 */
export function compareThings(left: unknown, right: unknown, sortBy: Record<string, unknown>): number {
  const entries = Object.entries(sortBy)
  if (entries.length === 0) return 1
  for (const [key, order] of entries) {
    const leftValue = valueAtPath(left, key)
    const rightValue = valueAtPath(right, key)
    if (leftValue === undefined || rightValue === undefined) {
      return (leftValue === undefined ? 1 : 0) - (rightValue === undefined ? 1 : 0)
    }
    const leftParts = String(leftValue).match(TOKENS) ?? []
    const rightParts = String(rightValue).match(TOKENS) ?? []
    const shared = Math.min(leftParts.length, rightParts.length)
    for (let index = 0; index < shared; index++) {
      const leftPart = leftParts[index] as string
      const rightPart = rightParts[index] as string
      const difference =
        !Number.isNaN(Number(leftPart)) && !Number.isNaN(Number(rightPart))
          ? Number(leftPart) - Number(rightPart)
          : leftPart.localeCompare(rightPart)
      if (difference !== 0) return difference * (order as number)
    }
    const lengthDifference = leftParts.length - rightParts.length
    if (lengthDifference !== 0) return lengthDifference * (order as number)
  }
  return 0
}

const isNil = (value: unknown): value is null | undefined => value === null || value === undefined

/** `mingo.Query(query).find(documents, fields)` as racks run it; mingo errors propagate. */
export function findDocuments(documents: Document[], query: unknown, fields: unknown): Document[] {
  const cursor = new mingo.Query((query ?? {}) as Document).find(documents, (fields ?? {}) as Document)
  return cursor.all() as Document[]
}

/**
 * The ids a query restricts things to, when it says so at its top level: `{id: 'x', …}`,
 * `{id: {$eq: 'x'}, …}` or `{id: {$in: ['x', 'y']}, …}`, with string ids only. Top-level keys
 * are ANDed and every thing id is a string, so no thing outside these ids can match: a rack
 * may hand mingo only those things and get the same answer. `null` when the query does not
 * restrict ids this way (the whole rack is scanned).
 */
export function queryIdCandidates(query: unknown): string[] | null {
  if (!query || typeof query !== 'object' || Array.isArray(query) || !Object.hasOwn(query, 'id')) return null
  const condition = (query as Document).id
  if (typeof condition === 'string') return [condition]
  if (!condition || typeof condition !== 'object' || Array.isArray(condition)) return null
  const operators = Object.keys(condition)
  if (operators.length !== 1) return null
  const operand = (condition as Document)[operators[0] as string]
  if (operators[0] === '$eq' && typeof operand === 'string') return [operand]
  if (operators[0] === '$in' && Array.isArray(operand) && operand.every((id) => typeof id === 'string')) {
    return operand as string[]
  }
  return null
}

/** Mingo projection only (the rack's `_projection`). */
export function projectDocuments(documents: Document[], fields: unknown): Document[] {
  return findDocuments(documents, {}, fields)
}

/** lodash-style emptiness used by racks to decide whether to project. */
export function isEmptyValue(value: unknown): boolean {
  if (isNil(value)) return true
  if (typeof value === 'string' || Array.isArray(value)) return value.length === 0
  if (typeof value === 'object') return Object.keys(value as object).length === 0
  return true
}

/** Filter, natural sort, offset and limit, in the rack's order (`_applyFilters`). */
export function applyThingFilters(
  documents: Document[],
  request: { query?: unknown; fields?: unknown; sort?: unknown; offset?: unknown; limit?: unknown },
): Document[] {
  let result = documents
  if (!isNil(request.query) || !isNil(request.fields)) result = findDocuments(result, request.query, request.fields)
  if (!isNil(request.sort)) {
    const sortBy = request.sort as Record<string, unknown>
    result = [...result].sort((left, right) => compareThings(left, right, sortBy))
  }
  if (request.offset) result = result.slice(request.offset as number)
  if (!isNil(request.limit)) result = result.slice(0, request.limit as number)
  return result
}
