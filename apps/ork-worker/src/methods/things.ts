import { OrkError } from '@ork/errors'
import { Aggregator } from 'mingo'
import { z } from 'zod'
import type { OrkContext } from '../context.ts'
import {
  concatSwallowingFailures,
  countReplyCheck,
  logFailure,
  refuseMalformedReplies,
} from '../rpc/fan-out-policies.ts'
import { defineMethod } from '../rpc/method.ts'
import { anyObject, countReply, thingReply } from '../rpc/reply-schemas.ts'
import { count, flag, jsonObject, requestObject, requiredString } from '../rpc/schema-helpers.ts'
import { assertSafeQuery } from '../things/query-guard.ts'
import { sortThingsInPlace } from '../things/sort-things.ts'

/**
 * Most keys a `sort` may have. The ork ranks every thing at every key of a sort before ordering
 * them (sort-things.ts), so a sort of 100,000 keys over 1,000 things took 17 s and 2 GB; no
 * real listing sorts on more than a few fields.
 */
export const MAX_SORT_KEYS = 32

/** The fields of a things query the ork forwards to racks (racks apply them, Q10). */
const thingsQueryShape = {
  query: jsonObject('ERR_QUERY_INVALID').nullish(),
  fields: jsonObject('ERR_FIELDS_INVALID').nullish(),
  sort: jsonObject('ERR_SORT_INVALID')
    .refine((sort) => Object.keys(sort).length <= MAX_SORT_KEYS, { error: 'ERR_SORT_INVALID' })
    .nullish()
    .describe(`{field: order}, at most ${MAX_SORT_KEYS} fields`),
  offset: count('ERR_OFFSET_INVALID').nullish(),
  limit: count('ERR_LIMIT_INVALID').nullish(),
}

function checkQueries(request: { query?: unknown; fields?: unknown; sort?: unknown }): void {
  assertSafeQuery(request.query)
  assertSafeQuery(request.fields)
  assertSafeQuery(request.sort)
}

/**
 * Every rack's things for `request`, merged in rack order (failed racks logged and left out) and
 * naturally sorted when `sort` is given: the ork's listThings, also what the automation reads (7.2).
 * With `maxReplyBytes` (the things go out as one reply) the fan-out stops with
 * `ERR_FACS_NET_PAYLOAD_TOO_LARGE` once the racks' replies add up to more.
 */
export async function listSiteThings(
  context: Pick<OrkContext, 'racks' | 'registry' | 'logger'>,
  request: { sort?: unknown; [key: string]: unknown },
  maxReplyBytes?: number,
): Promise<unknown[]> {
  const results = await context.racks.fanOut(
    context.registry.all(),
    'listThings',
    request,
    maxReplyBytes === undefined ? {} : { maxReplyBytes },
  )
  const things = concatSwallowingFailures(results, 'listThings', context.logger)
  return request.sort ? sortThingsInPlace(things, request.sort as Record<string, unknown>) : things
}

/**
 * listThings (r): every rack's listThings, merged in rack order and naturally sorted when
 * `sort` is given (4.4). limit/offset are applied by each rack, never by the ork (Q10).
 */
export const listThings = (context: OrkContext) =>
  defineMethod({
    name: 'listThings',
    op: 'r',
    invalidCode: 'ERR_QUERY_INVALID',
    summary: "Every rack's things matching `query`, merged in rack order; `limit`/`offset` apply per rack.",
    reply: z.array(thingReply),
    request: requestObject(thingsQueryShape, 'ERR_QUERY_INVALID'),
    handle: async (request) => {
      checkQueries(request)
      return listSiteThings(context, request, context.maxReplyBytes)
    },
  })

/** getThingsCount (r): the sum of every rack's count for the query (the reference's develop branch). */
export const getThingsCount = (context: OrkContext) =>
  defineMethod({
    name: 'getThingsCount',
    op: 'r',
    invalidCode: 'ERR_QUERY_INVALID',
    summary: 'The number of things matching `query` over every rack.',
    reply: countReply,
    request: requestObject({ query: thingsQueryShape.query }, 'ERR_QUERY_INVALID'),
    handle: async (request) => {
      assertSafeQuery(request.query)
      const results = await context.racks.fanOut(context.registry.all(), 'getThingsCount', request)
      // Not a count (`"3"`, -1, 1.5, 1e308, whose sum is no JSON number): left out like a failed rack.
      let total = 0
      for (const result of refuseMalformedReplies(results, countReplyCheck)) {
        if (!result.ok) logFailure(result, 'getThingsCount', context.logger)
        else total += result.value as number
      }
      return total
    },
  })

/** getHistoricalLogs (r): every rack's logs of `logType`, merged, mingo-sorted when `sort` is given (4.5). */
export const getHistoricalLogs = (context: OrkContext) =>
  defineMethod({
    name: 'getHistoricalLogs',
    op: 'r',
    invalidCode: 'ERR_LOG_TYPE_INVALID',
    errors: ['ERR_QUERY_INVALID'],
    summary: "Every rack's historical logs of `logType` (alerts, info…), merged, sorted when `sort` is given.",
    reply: z.array(anyObject),
    request: requestObject(
      { logType: requiredString('ERR_LOG_TYPE_INVALID'), ...thingsQueryShape },
      'ERR_LOG_TYPE_INVALID',
    ),
    handle: async (request) => {
      checkQueries(request)
      // The logs are merged, so the reply is at least the sum of the racks' replies.
      const results = await context.racks.fanOut(context.registry.all(), 'getHistoricalLogs', request, {
        maxReplyBytes: context.maxReplyBytes,
      })
      const logs = concatSwallowingFailures(results, `getHistoricalLogs:${request.logType}`, context.logger)
      if (!request.sort) return logs
      try {
        return new Aggregator([{ $sort: request.sort }]).run(logs as Record<string, unknown>[])
      } catch (error) {
        throw new OrkError('ERR_SORT_INVALID', { reason: (error as Error).message })
      }
    },
  })

/**
 * forgetThings (w): forwarded to every rack, not voted (4.6, Q12). Any rack failure fails the
 * call with that rack's error (so a rack error arrives double-prefixed, Q13); the reply is
 * the sum of the racks' replies, i.e. the number of racks. A reply that is not a count (racks
 * answer `1`) is such a failure (`ERR_RACK_REPLY_INVALID`): summed with `+`, `"x"` made the
 * reply a string.
 */
export const forgetThings = (context: OrkContext) =>
  defineMethod({
    name: 'forgetThings',
    op: 'w',
    invalidCode: 'ERR_QUERY_INVALID',
    errors: ['ERR_RACK_REPLY_INVALID'],
    summary: 'Asks every rack to forget the things matching `query` (or all); replies the number of racks.',
    reply: countReply,
    request: requestObject({ query: thingsQueryShape.query, all: flag }, 'ERR_QUERY_INVALID'),
    handle: async (request) => {
      assertSafeQuery(request.query)
      const results = await context.racks.fanOut(context.registry.all(), 'forgetThings', request, { write: true })
      let total = 0
      for (const result of refuseMalformedReplies(results, countReplyCheck)) {
        if (!result.ok) {
          logFailure(result, 'forgetThings', context.logger)
          throw result.error
        }
        total += result.value as number
      }
      return total
    },
  })

const commentShape = {
  rackId: requiredString('ERR_RACK_ID_INVALID'),
  thingId: requiredString('ERR_THING_ID_INVALID'),
}

/** save/edit/deleteThingComment (w): forwarded to the named rack; unknown rack or failure → 0 (4.10). */
const thingComment = (name: 'saveThingComment' | 'editThingComment' | 'deleteThingComment') => (context: OrkContext) =>
  defineMethod({
    name,
    op: 'w',
    invalidCode: 'ERR_RACK_ID_INVALID',
    summary: `Forwards ${name} to the rack \`rackId\`; replies the rack's answer, 0 for an unknown or failing rack.`,
    reply: z.unknown(),
    request: requestObject(commentShape, 'ERR_RACK_ID_INVALID'),
    handle: async (request) => {
      const rack = context.registry.get(request.rackId)
      if (!rack) return 0
      try {
        return await context.racks.call(rack, name, request, { write: true })
      } catch (error) {
        context.logger.warn('rack request failed', { method: name, rackId: rack.id, error })
        return 0
      }
    },
  })

export const saveThingComment = thingComment('saveThingComment')
export const editThingComment = thingComment('editThingComment')
export const deleteThingComment = thingComment('deleteThingComment')
