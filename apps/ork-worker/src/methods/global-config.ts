import { OrkError } from '@ork/errors'
import { Query } from 'mingo'
import { z } from 'zod'
import type { OrkContext } from '../context.ts'
import { defineMethod } from '../rpc/method.ts'
import { anyObject } from '../rpc/reply-schemas.ts'
import { jsonObject, requestObject } from '../rpc/schema-helpers.ts'
import { assertSafeQuery } from '../things/query-guard.ts'

/** getGlobalConfig (r): the global config projected with `fields` (4.14). */
export const getGlobalConfig = (context: OrkContext) =>
  defineMethod({
    name: 'getGlobalConfig',
    op: 'r',
    invalidCode: 'ERR_FIELDS_INVALID',
    errors: ['ERR_GLOBAL_CONFIG_MISSING'],
    summary: 'The global config (`config/global.config.json` as edited in memory), projected with `fields`.',
    reply: anyObject,
    request: requestObject({ fields: jsonObject('ERR_FIELDS_INVALID').nullish() }, 'ERR_FIELDS_INVALID'),
    handle: (request) => {
      const globalConfig = context.globalConfig
      if (!globalConfig) throw new OrkError('ERR_GLOBAL_CONFIG_MISSING')
      const fields = request.fields ?? {}
      if (Object.keys(fields).length === 0) return globalConfig
      assertSafeQuery(fields)
      try {
        return new Query({}).find([globalConfig], fields).next() ?? {}
      } catch (error) {
        // mingo rejects malformed projections (mixed inclusion and exclusion, unknown operators)
        throw new OrkError('ERR_FIELDS_INVALID', { reason: (error as Error).message })
      }
    },
  })

/**
 * setGlobalConfig (w): only `isAutoSleepAllowed` can be changed, in memory, as in the
 * reference (4.13, Q52): the reply is the whole global config, or `null` when the request
 * carries no boolean `isAutoSleepAllowed`.
 */
export const setGlobalConfig = (context: OrkContext) =>
  defineMethod({
    name: 'setGlobalConfig',
    op: 'w',
    invalidCode: 'ERR_CONFIG_INVALID',
    errors: ['ERR_GLOBAL_CONFIG_NOT_FOUND'],
    summary: 'Sets `isAutoSleepAllowed` in memory; replies the whole global config, or null without a boolean.',
    reply: anyObject.nullable(),
    request: z
      .record(z.string(), z.unknown(), { error: 'ERR_CONFIG_INVALID' })
      .refine((value) => Object.keys(value).length > 0, { error: 'ERR_CONFIG_INVALID' })
      // the refinement, as JSON Schema says it (API reference, ork-rpc's check)
      .meta({ minProperties: 1 }),
    handle: (request) => {
      if (!context.globalConfig) throw new OrkError('ERR_GLOBAL_CONFIG_NOT_FOUND')
      if (typeof request.isAutoSleepAllowed !== 'boolean') return null
      context.globalConfig = { ...context.globalConfig, isAutoSleepAllowed: request.isAutoSleepAllowed }
      context.logger.info('global config changed', { isAutoSleepAllowed: request.isAutoSleepAllowed })
      return context.globalConfig
    },
  })
