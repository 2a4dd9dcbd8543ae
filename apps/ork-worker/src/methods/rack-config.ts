import { OrkError } from '@ork/errors'
import { z } from 'zod'
import type { OrkContext } from '../context.ts'
import { logFailure } from '../rpc/fan-out-policies.ts'
import { defineMethod } from '../rpc/method.ts'
import { rackReplyOrZero } from '../rpc/reply-schemas.ts'
import { requestObject, requiredString } from '../rpc/schema-helpers.ts'
import { assertSafeQuery } from '../things/query-guard.ts'

/**
 * getWrkConf / getThingConf (r): the method asked of every rack of the type family. Entries
 * come in rack order (Q8 FIX); a failed rack gives `{rackId, config: null}` for both methods,
 * while a success is `{rackId, config}` or, for getThingConf, `{rackId, requestValue}` (Q7).
 */
const rackConfig =
  (name: 'getWrkConf' | 'getThingConf', successKey: 'config' | 'requestValue') => (context: OrkContext) =>
    defineMethod({
      name,
      op: 'r',
      invalidCode: 'ERR_TYPE_INVALID',
      errors: ['ERR_QUERY_INVALID'],
      summary: `${name} of every rack of the type family \`type\`, in rack order (\`config: null\` for a failed rack).`,
      reply: z.array(
        z.looseObject({ rackId: z.string(), [successKey]: z.unknown().optional(), config: z.unknown().optional() }),
      ),
      request: requestObject({ type: requiredString('ERR_TYPE_INVALID') }, 'ERR_TYPE_INVALID'),
      handle: async (request) => {
        // Racks apply `fields` as a mingo projection: no code-running operators reach them.
        assertSafeQuery(request.fields)
        // Every rack's reply is in an entry of the reply: it is at least their sum.
        const results = await context.racks.fanOut(context.registry.select(request.type), name, request, {
          maxReplyBytes: context.maxReplyBytes,
        })
        return results.map((result) => {
          if (result.ok) return { rackId: result.rack.id, [successKey]: result.value }
          logFailure(result, name, context.logger)
          return { rackId: result.rack.id, config: null }
        })
      },
    })

export const getWrkConf = rackConfig('getWrkConf', 'config')
export const getThingConf = rackConfig('getThingConf', 'requestValue')

/** getWrkSettings (r): one rack's settings; unknown rack → 0, failure → ERR_GET_SETTINGS_FAILED (4.23). */
export const getWrkSettings = (context: OrkContext) =>
  defineMethod({
    name: 'getWrkSettings',
    op: 'r',
    invalidCode: 'ERR_RACK_ID_INVALID',
    errors: ['ERR_GET_SETTINGS_FAILED'],
    summary: "One rack's settings; 0 when the rack is not registered.",
    reply: rackReplyOrZero,
    request: requestObject({ rackId: requiredString('ERR_RACK_ID_INVALID') }, 'ERR_RACK_ID_INVALID'),
    handle: async (request) => {
      const rack = context.registry.get(request.rackId)
      if (!rack) return 0
      try {
        return await context.racks.call(rack, 'getWrkSettings', request)
      } catch (error) {
        context.logger.warn('rack request failed', { method: 'getWrkSettings', rackId: rack.id, error })
        throw new OrkError('ERR_GET_SETTINGS_FAILED', { rackId: rack.id }, { cause: error })
      }
    },
  })

/** saveWrkSettings (w): forwards `entries` to one rack; unknown rack → 0, failure → ERR_SAVE_SETTINGS_FAILED (4.24). */
export const saveWrkSettings = (context: OrkContext) =>
  defineMethod({
    name: 'saveWrkSettings',
    op: 'w',
    invalidCode: 'ERR_RACK_ID_INVALID',
    errors: ['ERR_SAVE_SETTINGS_FAILED'],
    summary: "Saves `entries` in one rack's settings; replies the rack's answer, 0 when the rack is not registered.",
    reply: rackReplyOrZero,
    request: requestObject(
      {
        rackId: requiredString('ERR_RACK_ID_INVALID'),
        // Arrays pass, as in the reference (`typeof entries === 'object'`).
        entries: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())], { error: 'ERR_ENTRIES_INVALID' }),
      },
      'ERR_RACK_ID_INVALID',
    ),
    handle: async (request) => {
      const rack = context.registry.get(request.rackId)
      if (!rack) return 0
      try {
        return await context.racks.call(rack, 'saveWrkSettings', request, { write: true })
      } catch (error) {
        context.logger.warn('rack request failed', { method: 'saveWrkSettings', rackId: rack.id, error })
        throw new OrkError('ERR_SAVE_SETTINGS_FAILED', { rackId: rack.id }, { cause: error })
      }
    },
  })
