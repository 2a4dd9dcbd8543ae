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

function hasPrototypeKey(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 64) return false
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return true
    if (hasPrototypeKey((value as Record<string, unknown>)[key], depth + 1)) return true
  }
  return false
}

/**
 * Validates a decoded payload against a method's schema. Throws OrkError with the
 * code of the first failing check; a payload carrying a `__proto__` key anywhere is
 * refused outright, since copying it would rewrite the copy's prototype.
 */
export function parseRequest<Schema extends z.ZodType>(
  definition: MethodDefinition<Schema>,
  payload: unknown,
): z.output<Schema> {
  if (hasPrototypeKey(payload)) throw new OrkError(definition.invalidCode, { reason: 'prototype key in payload' })
  const result = definition.request.safeParse(payload)
  if (result.success) return result.data
  const message = result.error.issues[0]?.message ?? ''
  throw new OrkError(WIRE_CODE.test(message) ? message : definition.invalidCode, { issues: result.error.issues })
}
