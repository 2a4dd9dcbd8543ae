import { z } from 'zod'

/**
 * Building blocks of the reply schemas. Replies are never validated at runtime (racks
 * answer what they answer); these schemas document the shapes in the API reference.
 */

/** A JSON object with any fields. */
export const anyObject = z.record(z.string(), z.unknown())

/** A count: racks registered, removed, things counted… */
export const countReply = z.number().int().min(0)

/** A rack as stored by registerRack; `info.rpcPublicKey` only with `keys`. */
export const rackReply = z.looseObject({
  id: z.string(),
  type: z.string(),
  info: z.looseObject({ rpcPublicKey: z.string().optional() }),
})

/** A thing as a rack lists it, after the request's `fields` projection. */
export const thingReply = z.looseObject({
  id: z.string().optional(),
  code: z.string().optional(),
  type: z.string().optional(),
  tags: z.array(z.string()).optional(),
  info: anyObject.optional(),
  rack: z.string().optional(),
})

/** A rack's reply for one rack-addressed call, or `0` when the rack is not registered. */
export const rackReplyOrZero = z.union([z.literal(0), z.unknown()])
