import type { Logger } from '@ork/logger'
import type { FanOutOptions, RackRecord } from '@ork/rack-registry'
import { RemoteError } from '@ork/rpc-transport'
import {
  type AggrStatsConfig,
  applyRequestedCrossThings,
  applyStatsBatch,
  type CrossThingConfig,
  type CrossThingQuery,
  collectRackItems,
  compilePath,
  groupTailLogItems,
  type JsValue,
  prepareTailLogRequest,
  projectRows,
  resolveTailLogSpec,
  type TailLogRequest,
  type TailLogSpec,
  tallyStats,
} from '@ork/stats'
import { concatSwallowingFailures, logFailure } from '../rpc/fan-out-policies.ts'
import { type OffThreadAggregation, SENT_TO_THREAD, type ThreadAggregate } from './off-thread-aggregation.ts'

/** What the site-metrics code needs from the ork: its config, its racks and the fan-out. */
export interface TailLogDependencies {
  aggrStats: () => AggrStatsConfig | undefined
  aggrCrossthg: () => Record<string, CrossThingConfig> | undefined
  /** The TYPE selection (`type` or `type-*`), in rack order. */
  selectRacks: (type: string) => RackRecord[]
  /** Every rack (listThings of the cross-thing lookup). */
  allRacks: () => RackRecord[]
  /** The largest reply the ork can send (see OrkContext.maxReplyBytes). */
  maxReplyBytes: number
  fanOut: (
    racks: readonly RackRecord[],
    method: string,
    payload: unknown,
    options?: Pick<FanOutOptions, 'maxReplyBytes' | 'decodeReply'>,
  ) => Promise<({ rack: RackRecord; ok: true; value: unknown } | { rack: RackRecord; ok: false; error: Error })[]>
  /** Where tailLog decodes and aggregates the racks' replies. */
  aggregation: OffThreadAggregation
  logger: Logger
  /**
   * Called with the milliseconds spent aggregating, for benchmarks: grouping and ops on the
   * aggregation thread, then cross-thing aggregation and projection (decoding excluded).
   */
  onAggregationTime?: ((milliseconds: number) => void) | undefined
}

/**
 * A rack's answer that its log holds no record in the range. Real racks answer so for a range
 * with nothing in it (they read their log's older files until one fails): a day before the rack
 * existed, a gap. That is an answer — the day has no data there — not a failure to retry.
 */
const isEmptyLogAnswer = (error: Error) => error instanceof RemoteError && error.remoteMessage === 'ERR_LOG_NOTFOUND'

/** A tailLog result and how many racks answered or failed (the job keeps a day open unless all answered). */
export interface TailLogOutcome {
  rows: unknown[]
  answeredRacks: number
  failedRacks: number
}

async function listThingsOnAllRacks(dependencies: TailLogDependencies, query: CrossThingQuery): Promise<unknown[]> {
  const results = await dependencies.fanOut(dependencies.allRacks(), 'listThings', query)
  return concatSwallowingFailures(results, 'listThings', dependencies.logger)
}

/** Pruned op sets per spec `ops` object and projection, reused so @ork/stats keeps its compiled plans. */
const prunedOps = new WeakMap<object, Map<string, TailLogSpec['ops']>>()

/** Ops that cannot throw on JSON data, whatever it holds: leaving them out changes no other row value. */
const NEVER_THROWING_OPS: ReadonlySet<unknown> = new Set([
  'sum',
  'avg',
  'cnt',
  'obj_concat',
  'arr_concat',
  'alerts_aggr',
])

/**
 * Whether an op can be left uncomputed without changing what the reference returns: an op
 * that never throws, reads a well-formed path, and has no `filter`/`group` (from a JSON
 * config those are not functions and throw when called). Any other op stays, so that a
 * broken spec or value still stops the aggregation where the reference's did (Q5), and
 * ops that write into the items (`alerts_group_cnt`) still do.
 */
function canSkip(op: unknown): boolean {
  if (op === null || typeof op !== 'object') return false
  const { op: name, src, filter, group } = op as Record<string, unknown>
  if (!NEVER_THROWING_OPS.has(name) || filter !== undefined || group !== undefined) return false
  if (src === undefined || src === null || src === '') return true
  if (typeof src !== 'string') return false
  try {
    compilePath(src)
    return true
  } catch {
    return false
  }
}

/**
 * The spec map to aggregate a request with: when `aggrFields` is a plain inclusion
 * projection (every value `1` or `true`), the final projection drops every op it does not
 * name, so only the named ops — and any op {@link canSkip} refuses — are computed (the miner
 * spec has 72 ops, dashboards ask for about 15). Rows are the same: kept ops keep their spec
 * order. Left as is when cross-thing aggregation applies (its pipelines read unprojected
 * ops), when `aggrFields` is empty, holds exclusions (mingo refuses those after aggregating,
 * Q44), or computes fields from ops (`{total: '$hashrate_sum'}`).
 */
/** Most `aggrFields` entries a tailLog's ops are pruned for (and cached). */
const MAX_PRUNED_PROJECTION_FIELDS = 256

function specsFor(
  aggrStats: AggrStatsConfig | undefined,
  aggrCrossthg: Record<string, CrossThingConfig> | undefined,
  request: TailLogRequest,
): AggrStatsConfig | undefined {
  const projection = request.aggrFields
  if (!aggrStats || !request.type || typeof request.type !== 'string') return aggrStats
  if (!projection || typeof projection !== 'object') return aggrStats
  const paths = Object.keys(projection)
  // A projection of more fields than a spec has ops is not a dashboard's: not worth a cache entry
  // (the key is the field list, so an entry could hold megabytes) or the op-by-field matching.
  if (paths.length === 0 || paths.length > MAX_PRUNED_PROJECTION_FIELDS) return aggrStats
  if (paths.some((path) => projection[path] !== 1 && projection[path] !== true)) return aggrStats
  if (request.applyAggrCrossthg && aggrCrossthg && Object.hasOwn(aggrCrossthg, request.type)) return aggrStats
  const baseType = request.type.split('-')[0] as string
  const spec = Object.hasOwn(aggrStats, baseType) ? aggrStats[baseType] : undefined
  if (!spec?.ops || typeof spec.ops !== 'object') return aggrStats
  const signature = paths.join('\u0000')
  let cache = prunedOps.get(spec.ops)
  if (!cache) {
    cache = new Map()
    prunedOps.set(spec.ops, cache)
  }
  let ops = cache.get(signature)
  if (!ops) {
    ops = {}
    for (const [name, op] of Object.entries(spec.ops)) {
      const named = paths.some((path) => path === name || path.startsWith(`${name}.`))
      if (named || !canSkip(op)) ops[name] = op
    }
    if (cache.size > 64) cache.clear()
    cache.set(signature, ops)
  }
  return { ...aggrStats, [baseType]: { ...spec, ops } }
}

/**
 * The ork's tailLog (ork-behaviour.md 4.7), as @ork/stats `computeTailLog` does it, with the
 * racks' replies decoded and aggregated on the aggregation thread: racks of the type family get
 * the request with the ork-added projections (the request and the config stay untouched, Q2),
 * failed racks contribute nothing and are logged with the rack id, type, key and tag.
 */
export async function runTailLog(dependencies: TailLogDependencies, request: TailLogRequest): Promise<TailLogOutcome> {
  const aggrCrossthg = dependencies.aggrCrossthg()
  const spec = resolveTailLogSpec(specsFor(dependencies.aggrStats(), aggrCrossthg, request), request.type)
  const { rackRequest, aggrFields } = prepareTailLogRequest(request, spec)
  const racks = dependencies.selectRacks(String(request.type))
  const run = dependencies.aggregation.begin()
  let aggregate: ThreadAggregate
  let answeredRacks = 0
  let failedRacks = 0
  const failed = (rack: RackRecord, error: Error) => {
    failedRacks++
    dependencies.logger.warn('rack request failed', {
      method: 'tailLog',
      rackId: rack.id,
      type: request.type,
      key: request.key,
      tag: request.tag,
      error,
    })
  }
  try {
    const results = await dependencies.fanOut(racks, 'tailLog', rackRequest, {
      decodeReply: (body, _rack, index) => run.decode(body, index),
    })
    for (const [index, result] of results.entries()) {
      if (result.ok) {
        answeredRacks++
        if (result.value !== SENT_TO_THREAD) run.setValue(index, result.value)
      } else if (isEmptyLogAnswer(result.error)) {
        answeredRacks++
        dependencies.logger.debug('rack has no log records in the range', {
          rackId: result.rack.id,
          key: request.key,
          tag: request.tag,
        })
      } else {
        failed(result.rack, result.error)
      }
    }
    aggregate = await run.finish(racks.length, spec, request.aggrTimes)
  } finally {
    run.drop()
  }
  for (const { index, error } of aggregate.failures) {
    answeredRacks--
    failed(racks[index] as RackRecord, error)
  }
  if (aggregate.aggregationError) {
    dependencies.logger.warn('tailLog aggregation stopped early', { error: aggregate.aggregationError })
  }
  const finishedAt = performance.now()
  const linked = await applyRequestedCrossThings(aggregate.rows as JsValue[], request, aggrCrossthg, (query) =>
    listThingsOnAllRacks(dependencies, query),
  )
  const rows = projectRows(linked, aggrFields)
  dependencies.onAggregationTime?.(aggregate.aggregationMs + performance.now() - finishedAt)
  return { rows, answeredRacks, failedRacks }
}

/**
 * getWrkExtData (ork-behaviour.md 4.20): the racks' replies grouped by `ts` and aggregated
 * with every op of the base type's spec; rows are `{ts: <string>, <ops>}` in group order,
 * unsorted (Q6 COPY). Without a spec — or without aggr.stats.json at all (Q6 FIX) — the
 * concatenated replies are returned as they are. `null` items are ignored (as Q55 FIX).
 */
export async function runWrkExtData(
  dependencies: TailLogDependencies,
  request: { type: string; applyAggrCrossthg?: unknown; [key: string]: unknown },
): Promise<unknown[]> {
  const aggrStats = dependencies.aggrStats()
  const baseType = request.type.split('-')[0] as string
  const spec = aggrStats && Object.hasOwn(aggrStats, baseType) ? aggrStats[baseType] : undefined
  // Without a spec the racks' items are the reply: it is at least the sum of their replies.
  const results = await dependencies.fanOut(
    dependencies.selectRacks(request.type),
    'getWrkExtData',
    request,
    spec ? {} : { maxReplyBytes: dependencies.maxReplyBytes },
  )
  const items = collectRackItems(
    results.map((result) => {
      if (result.ok) return result.value
      logFailure(result, 'getWrkExtData', dependencies.logger)
      return []
    }),
  )
  if (!spec) return items
  const state = { ops: spec.ops }
  const rows = groupTailLogItems(items).map((group) => {
    const row: Record<string, unknown> = { ts: group.key }
    applyStatsBatch(state, row, group.items)
    tallyStats(state, row)
    return row
  })
  return applyRequestedCrossThings(rows, request, dependencies.aggrCrossthg(), (query) =>
    listThingsOnAllRacks(dependencies, query),
  )
}
