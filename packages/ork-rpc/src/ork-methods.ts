import type { JsonSchema, SchemaViolation } from './json-schema.ts'
import { findSchemaViolation } from './json-schema.ts'
import generated from './ork-methods.json' with { type: 'json' }

/** One method of the ork's API reference. */
export interface OrkApiMethod {
  /** `r`: open to read-only peers; `w`: refused to them. */
  op: 'r' | 'w'
  /** `json` methods take and answer JSON; `raw` ones (ping, echo) bytes. */
  encoding: 'json' | 'raw'
  summary: string
  /** JSON Schema of the request; each node's `x-error` is the code the ork answers when it fails. */
  params: JsonSchema
  /** JSON Schema of the reply (`{}`: any JSON). */
  result: JsonSchema
  /** The codes the method can answer. */
  errors: string[]
}

/** The ork's API reference, generated from the worker's zod schemas (docs/api.md is the same in prose). */
export interface OrkApiDocument {
  name: string
  description: string
  jsonSchemaDialect: string
  methods: Record<string, OrkApiMethod>
}

/** The API reference of the ork this version of ork-rpc was built with. */
export const ORK_API: OrkApiDocument = generated as OrkApiDocument

/** The reference entry of a method, or `undefined` for a method the ork does not document. */
export function orkMethod(name: string): OrkApiMethod | undefined {
  return Object.hasOwn(ORK_API.methods, name) ? ORK_API.methods[name] : undefined
}

/**
 * Checks a request payload against the method's schema: the first violation in the
 * server's validation order (with the code the ork would answer), or `null` when valid.
 */
export function validateOrkRequest(method: OrkApiMethod, payload: unknown): SchemaViolation | null {
  return findSchemaViolation(method.params, payload)
}

function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index)
  for (let i = 1; i <= left.length; i++) {
    const current = [i]
    for (let j = 1; j <= right.length; j++) {
      const substitution = (previous[j - 1] as number) + (left[i - 1] === right[j - 1] ? 0 : 1)
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution)
    }
    previous = current
  }
  return previous[right.length] as number
}

/** Documented method names close to `name` (typos, wrong case), closest first. */
export function similarMethodNames(name: string): string[] {
  const lower = name.toLowerCase()
  return Object.keys(ORK_API.methods)
    .map((candidate) => ({ candidate, distance: editDistance(lower, candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= Math.max(2, Math.floor(name.length / 4)))
    .sort((left, right) => left.distance - right.distance)
    .map(({ candidate }) => candidate)
    .slice(0, 3)
}
