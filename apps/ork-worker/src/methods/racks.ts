import { z } from 'zod'
import type { OrkContext } from '../context.ts'
import { defineMethod } from '../rpc/method.ts'
import { countReply, rackReply } from '../rpc/reply-schemas.ts'
import { flag, requestObject, requiredString } from '../rpc/schema-helpers.ts'

/** registerRack (w): upserts the whole request under its id (ork-behaviour.md 4.1). */
export const registerRack = (context: OrkContext) =>
  defineMethod({
    name: 'registerRack',
    op: 'w',
    invalidCode: 'ERR_RACK_ID_INVALID',
    summary: 'Registers (or replaces) a rack under its id; replies 1.',
    reply: z.literal(1),
    request: requestObject(
      {
        id: requiredString('ERR_RACK_ID_INVALID'),
        type: requiredString('ERR_RACK_TYPE_INVALID'),
        info: z.looseObject(
          {
            rpcPublicKey: z
              .string({ error: 'ERR_RACK_INFO_RPC_PUBKEY_INVALID' })
              .regex(/^[0-9a-fA-F]{64}$/, { error: 'ERR_RACK_INFO_RPC_PUBKEY_INVALID' }),
          },
          { error: 'ERR_RACK_INFO_RPC_PUBKEY_INVALID' },
        ),
      },
      'ERR_RACK_ID_INVALID',
    ),
    handle: (request) => context.registry.register(request),
  })

/** forgetRacks (w): deletes by `ids` or `all`, returns the count (4.2). */
export const forgetRacks = (context: OrkContext) =>
  defineMethod({
    name: 'forgetRacks',
    op: 'w',
    invalidCode: 'ERR_IDS_INVALID',
    summary: 'Removes the racks named in `ids`, or every rack with `all`; replies how many were removed.',
    reply: countReply,
    request: requestObject(
      { ids: z.array(z.string({ error: 'ERR_IDS_INVALID' }), { error: 'ERR_IDS_INVALID' }).nullish(), all: flag },
      'ERR_IDS_INVALID',
    ),
    handle: async (request) => {
      const before = new Set(context.registry.all().map((rack) => rack.id))
      const removed = await context.registry.forget(request)
      const remaining = new Set(context.registry.all().map((rack) => rack.id))
      context.racks.forgetHealth([...before].filter((id) => !remaining.has(id)))
      return removed
    },
  })

/** listRacks (r): racks whose type starts with `type`, keys hidden unless `keys` (4.3). */
export const listRacks = (context: OrkContext) =>
  defineMethod({
    name: 'listRacks',
    op: 'r',
    invalidCode: 'ERR_TYPE_INVALID',
    summary: 'Registered racks whose type starts with `type`, in id order; rack keys only with `keys`.',
    reply: z.array(rackReply),
    request: requestObject({ type: z.string({ error: 'ERR_TYPE_INVALID' }).nullish(), keys: flag }, 'ERR_TYPE_INVALID'),
    handle: (request) => context.registry.list(request),
  })
