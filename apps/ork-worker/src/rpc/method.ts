import { OrkError } from '@ork/errors'
import type { z } from 'zod'

/** `r` methods are open to read-only peers; `w` methods are refused to them. */
export type MethodOp = 'r' | 'w'

/** What a handler knows about the call besides its payload. */
export interface CallContext {
  /** Hex public key of the calling peer. */
  remotePublicKey: string
}

/**
 * One RPC method of the ork: its wire name, its read/write tag, the zod schema that is
 * the single source of its request type, and the handler. Schemas are written so that
 * the first failing check carries the reference's error code as its message, in the
 * reference's validation order.
 */
export interface MethodDefinition<Schema extends z.ZodType = z.ZodType> {
  name: string
  op: MethodOp
  request: Schema
  /** Code for a payload the schema rejects without a code of its own (e.g. not an object). */
  invalidCode: string
  /** One line for the API reference (docs/api.md). */
  summary?: string
  /** Schema of the reply, for the API reference only (never enforced); absent = any JSON. */
  reply?: z.ZodType
  /** Codes the handler itself can answer, besides those of `request` and `invalidCode` (API reference). */
  errors?: readonly string[]
  handle(request: z.output<Schema>, call: CallContext): Promise<unknown> | unknown
}

/** Identity helper that keeps the schema's type flowing into `handle`. */
export function defineMethod<Schema extends z.ZodType>(definition: MethodDefinition<Schema>): MethodDefinition<Schema> {
  return definition
}

const WIRE_CODE = /^ERR_[A-Z0-9_]+$/

/** Deeper payloads are refused: no request nests this far, and encoding one again (to store or forward it) overflows the stack. */
export const MAX_PAYLOAD_DEPTH = 64

/** Why a payload is refused before its schema runs, or null. */
function structuralProblem(value: unknown, depth = 0): string | null {
  if (value === null || typeof value !== 'object') return null
  if (depth >= MAX_PAYLOAD_DEPTH) return `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return 'prototype key in payload'
    const problem = structuralProblem((value as Record<string, unknown>)[key], depth + 1)
    if (problem) return problem
  }
  return null
}

/**
 * Validates a decoded payload against a method's schema. Throws OrkError with the
 * code of the first failing check. A payload carrying a `__proto__` key anywhere
 * (copying it would rewrite the copy's prototype) or nested deeper than
 * {@link MAX_PAYLOAD_DEPTH} is refused outright with the method's `invalidCode`.
 */
export function parseRequest<Schema extends z.ZodType>(
  definition: MethodDefinition<Schema>,
  payload: unknown,
): z.output<Schema> {
  const problem = structuralProblem(payload)
  if (problem) throw new OrkError(definition.invalidCode, { reason: problem })
  const result = definition.request.safeParse(payload)
  if (result.success) return inPayloadOrder(result.data, payload) as z.output<Schema>
  const message = result.error.issues[0]?.message ?? ''
  throw new OrkError(WIRE_CODE.test(message) ? message : definition.invalidCode, { issues: result.error.issues })
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * `parsed` with the keys of its objects in the payload's order. zod builds a new object with
 * the keys its schema names first; requests forwarded to racks must go out as the caller wrote
 * them, as the reference forwards them. Keys the schema added (defaults) come last.
 */
export function inPayloadOrder(parsed: unknown, payload: unknown): unknown {
  // A value the schema passed through untouched is already in payload order: not copied.
  if (parsed === payload) return parsed
  if (Array.isArray(parsed) && Array.isArray(payload)) {
    return parsed.map((item, index) => inPayloadOrder(item, payload[index]))
  }
  if (!isPlainObject(parsed) || !isPlainObject(payload)) return parsed
  const ordered: Record<string, unknown> = {}
  for (const key of Object.keys(payload)) {
    if (Object.hasOwn(parsed, key)) ordered[key] = inPayloadOrder(parsed[key], payload[key])
  }
  for (const key of Object.keys(parsed)) if (!Object.hasOwn(ordered, key)) ordered[key] = parsed[key]
  return ordered
}
