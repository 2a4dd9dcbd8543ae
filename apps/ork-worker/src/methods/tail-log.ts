import { OrkError } from '@ork/errors'
import type { AggrStatsConfig, CrossThingConfig, TailLogRequest } from '@ork/stats'
import pLimit from 'p-limit'
import { z } from 'zod'
import type { OrkContext } from '../context.ts'
import { defineMethod, inPayloadOrder } from '../rpc/method.ts'
import { jsonObject, MAX_REQUEST_KEYS, requestObject, requiredString } from '../rpc/schema-helpers.ts'
import { customRangeAggr } from '../tail-log/custom-range.ts'
import { runTailLog, runWrkExtData, type TailLogDependencies } from '../tail-log/run-tail-log.ts'
import { assertSafeQuery } from '../things/query-guard.ts'

/** Keys of a tailLogMulti handled at a time (the reference's). */
const TAIL_LOG_MULTI_CONCURRENCY = 5

/** The site-metrics dependencies of the ork's context. */
export function tailLogDependencies(context: OrkContext): TailLogDependencies {
  return {
    aggrStats: () => context.config.aggrStats as AggrStatsConfig | undefined,
    aggrCrossthg: () => context.config.aggrCrossthg as Record<string, CrossThingConfig> | undefined,
    selectRacks: (type) => context.registry.select(type),
    allRacks: () => context.registry.all(),
    maxReplyBytes: context.maxReplyBytes,
    fanOut: (racks, method, payload, options) => context.racks.fanOut(racks, method, payload, options),
    aggregation: context.tailLogThread,
    logger: context.logger,
  }
}

/**
 * Most `aggrTimes` ranges of a tailLog: a week of 5-minute buckets is 2,016. Every item is
 * checked against every range, on the thread that serves every request.
 */
export const MAX_AGGR_TIMES = 5_000

const aggrTimeRange = z.looseObject(
  {
    start: z.number({ error: 'ERR_AGGR_TIMES_INVALID' }),
    end: z.number({ error: 'ERR_AGGR_TIMES_INVALID' }),
  },
  { error: 'ERR_AGGR_TIMES_INVALID' },
)

/** The fields of a tailLog request the ork reads; everything else goes to the racks as sent. */
const tailLogShape = {
  // type is checked by the handler: the reference answers ERR_NOT_CONFIGURED before ERR_TYPE_INVALID.
  type: z.string({ error: 'ERR_TYPE_INVALID' }).nullish(),
  fields: jsonObject('ERR_FIELDS_INVALID').nullish(),
  aggrFields: jsonObject('ERR_AGGR_FIELDS_INVALID').nullish(),
  aggrTimes: z
    .array(aggrTimeRange, { error: 'ERR_AGGR_TIMES_INVALID' })
    .max(MAX_AGGR_TIMES, { error: 'ERR_AGGR_TIMES_INVALID' })
    .nullish(),
}

const TAIL_LOG_ERRORS = [
  'ERR_NOT_CONFIGURED',
  'ERR_TYPE_INVALID',
  'ERR_TYPE_AGGR_INVALID',
  'ERR_QUERY_INVALID',
  'ERR_TAIL_LOG_AGGREGATION_FAILED',
] as const

const tailLogRow = z.looseObject({
  ts: z.unknown().optional(),
  aggrTsRange: z.string().optional(),
  aggrCount: z.number().optional(),
  aggrIntervals: z.number().optional(),
})

/** The validated request, sent to the racks as the caller wrote it (extra keys included). */
const asTailLogRequest = (request: Record<string, unknown>) => request as TailLogRequest

const tailLogRequestSchema = requestObject(tailLogShape, 'ERR_TYPE_INVALID')

/**
 * The projections of a tailLog go to the racks' mingo and `aggrFields` also runs in the ork:
 * checked like every forwarded query (code operators, backtracking regexes).
 */
function checkTailLogProjections(request: TailLogRequest): TailLogRequest {
  assertSafeQuery(request.fields)
  assertSafeQuery(request.aggrFields)
  return request
}

/** Validates one merged tailLogMulti request like a tailLog request. */
function parseTailLogRequest(request: Record<string, unknown>): TailLogRequest {
  const parsed = tailLogRequestSchema.safeParse(request)
  if (parsed.success) {
    return checkTailLogProjections(asTailLogRequest(inPayloadOrder(parsed.data, request) as Record<string, unknown>))
  }
  const message = parsed.error.issues[0]?.message ?? ''
  throw new OrkError(/^ERR_[A-Z0-9_]+$/.test(message) ? message : 'ERR_TYPE_INVALID', { issues: parsed.error.issues })
}

/**
 * The requests of a tailLogMulti, each validated like a tailLog request before any rack is asked.
 * COPY Q3: the shared params win over each key's, even `type`. FIX Q3: no tailLog writes into its
 * request (the reference's did, so each key saw the previous one's changes), so every key can
 * share the one set of shared params: copying them per key let a small request with many keys
 * and one large parameter take gigabytes.
 */
export function tailLogMultiRequests(
  keys: readonly Record<string, unknown>[],
  shared: Record<string, unknown>,
): TailLogRequest[] {
  return keys.map((key) => parseTailLogRequest({ ...key, ...shared }))
}

/** tailLog (r): the racks' tail logs of `key`/`tag`, aggregated per `ts` or per `aggrTimes` range (4.7). */
export const tailLog = (context: OrkContext) => {
  const dependencies = tailLogDependencies(context)
  return defineMethod({
    name: 'tailLog',
    op: 'r',
    invalidCode: 'ERR_TYPE_INVALID',
    errors: TAIL_LOG_ERRORS,
    summary:
      'Tail logs of the type family `type` aggregated with aggr.stats.json: one row per `ts`, or per `aggrTimes` range.',
    reply: z.array(tailLogRow),
    request: tailLogRequestSchema,
    handle: async (request) =>
      (await runTailLog(dependencies, checkTailLogProjections(asTailLogRequest(request)))).rows,
  })
}

/** tailLogMulti (r): one tailLog per entry of `keys`, 5 at a time; top-level params override per-key ones (4.8). */
export const tailLogMulti = (context: OrkContext) => {
  const dependencies = tailLogDependencies(context)
  return defineMethod({
    name: 'tailLogMulti',
    op: 'r',
    invalidCode: 'ERR_KEYS_INVALID',
    errors: TAIL_LOG_ERRORS,
    summary: 'Several tailLogs at once: `keys[i]` merged with the other top-level params (which win), in keys order.',
    reply: z.array(z.array(tailLogRow)),
    request: requestObject(
      {
        keys: z
          .array(z.looseObject({ type: requiredString('ERR_TYPE_INVALID') }, { error: 'ERR_TYPE_INVALID' }), {
            error: 'ERR_KEYS_INVALID',
          })
          .max(MAX_REQUEST_KEYS, { error: 'ERR_KEYS_INVALID' }),
      },
      'ERR_KEYS_INVALID',
    ),
    handle: async (request) => {
      const { keys, ...shared } = request
      const requests = tailLogMultiRequests(keys, shared)
      const limit = pLimit(TAIL_LOG_MULTI_CONCURRENCY)
      return Promise.all(requests.map((merged) => limit(async () => (await runTailLog(dependencies, merged)).rows)))
    },
  })
}

/** getWrkExtData (r): the racks' extra data, aggregated per `ts` when aggr.stats.json has the base type (4.20). */
export const getWrkExtData = (context: OrkContext) => {
  const dependencies = tailLogDependencies(context)
  return defineMethod({
    name: 'getWrkExtData',
    op: 'r',
    invalidCode: 'ERR_TYPE_INVALID',
    errors: ['ERR_QUERY_INVALID'],
    summary:
      'getWrkExtData of every rack of the type family `type`: rows per `ts` (a string) aggregated with the base type ops, or the raw replies.',
    request: requestObject({ type: requiredString('ERR_TYPE_INVALID') }, 'ERR_TYPE_INVALID'),
    handle: (request) => {
      assertSafeQuery(request.query)
      return runWrkExtData(dependencies, request)
    },
  })
}

/** tailLogCustomRangeAggr (r): stored daily aggregates re-aggregated over a date range, per day or per month (4.9). */
export const tailLogCustomRangeAggr = (context: OrkContext) =>
  defineMethod({
    name: 'tailLogCustomRangeAggr',
    op: 'r',
    invalidCode: 'ERR_KEYS_INVALID',
    errors: ['ERR_NOT_CONFIGURED', 'ERR_KEYS_INVALID'],
    summary:
      'Daily history of each `keys[i]` (type, startDate, endDate, zone) over the range, per day or per month; errors per key.',
    reply: z.array(z.looseObject({ type: z.unknown().optional(), data: z.unknown(), error: z.string().nullable() })),
    request: requestObject(
      { keys: z.unknown().describe(`array of at most ${MAX_REQUEST_KEYS} keys; each key's error is in its own entry`) },
      'ERR_KEYS_INVALID',
    ),
    handle: async (request) => {
      const { aggrData, aggrStats } = context.config
      if (!aggrData || !aggrStats) throw new OrkError('ERR_NOT_CONFIGURED')
      if (!Array.isArray(request.keys) || request.keys.length > MAX_REQUEST_KEYS) throw new OrkError('ERR_KEYS_INVALID')
      return customRangeAggr(
        {
          store: context.tailLogHistory,
          aggrData,
          aggrStats: aggrStats as AggrStatsConfig,
          timezones: context.globalConfig?.aggrTailLogTimezones,
        },
        request.keys,
      )
    },
  })
