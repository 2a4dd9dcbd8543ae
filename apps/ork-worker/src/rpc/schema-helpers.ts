import { z } from 'zod'

/**
 * Building blocks of the request schemas. Every check carries the wire code the method
 * answers with, so `parseRequest` can reply exactly that code.
 */

/** A request object; other fields are kept, since racks receive the request as sent. */
export const requestObject = <Shape extends z.core.$ZodLooseShape>(shape: Shape, code: string) =>
  z.looseObject(shape, { error: code })

/** A non-empty string (the reference's truthiness check, with the type made explicit). */
export const requiredString = (code: string) => z.string({ error: code }).min(1, { error: code })

/** A JSON object such as a mingo query, projection or sort. */
export const jsonObject = (code: string) => z.record(z.string(), z.unknown(), { error: code })

/**
 * Most entries of a request list where each entry costs the ork a fan-out to racks or a store
 * query (tailLogMulti and tailLogCustomRangeAggr `keys`, queryActions `queries`). Real requests
 * carry a few; unbounded, a few kilobytes of request started thousands of fan-outs.
 */
export const MAX_REQUEST_KEYS = 100

/** Most ids of getActionsBatch and cancelActionsBatch, and most actions of one pushActionsBatch. */
export const MAX_REQUEST_IDS = 10_000

/** A non-negative integer such as `limit` or `offset`. */
export const count = (code: string) => z.number({ error: code }).int({ error: code }).min(0, { error: code })

/** The reference's "truthy" flags (`keys: 1`, `all: true`). */
export const flag = z.unknown().optional()
