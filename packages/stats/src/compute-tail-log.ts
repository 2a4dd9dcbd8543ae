import { applyRequestedCrossThings, type CrossThingConfig, type CrossThingQuery } from './cross-thing.ts'
import {
  type AggrStatsConfig,
  aggregateTailLogItems,
  collectRackItems,
  prepareTailLogRequest,
  projectRows,
  resolveTailLogSpec,
  type TailLogRequest,
} from './tail-log.ts'
import type { JsValue } from './types.ts'

/** Inputs of {@link computeTailLog}; the two callbacks are the only I/O. */
export interface ComputeTailLogOptions {
  /** The tailLog request as received (not modified). */
  request: TailLogRequest
  /** `conf.aggrStats`; `null`/`undefined` when not loaded (→ `ERR_NOT_CONFIGURED`). */
  aggrStats: AggrStatsConfig | null | undefined
  /** `conf.aggrCrossthg`, keyed by full request type; used when `request.applyAggrCrossthg` is truthy. */
  aggrCrossthg?: Record<string, CrossThingConfig> | null | undefined
  /**
   * Sends `rackRequest` (method `tailLog`) to the racks whose type equals `request.type` or
   * starts with `request.type + "-"`, and resolves with one reply per rack in rack order;
   * a failed rack contributes `[]` (ork-behaviour.md 3.3).
   */
  fetchRackReplies: (rackRequest: TailLogRequest) => Promise<readonly unknown[]>
  /**
   * The ork's own listThings (fan-out to all racks, concatenated replies). Only called when
   * cross-thing aggregation applies and there are ids to look up.
   */
  listThings?: ((query: CrossThingQuery) => Promise<readonly unknown[]>) | undefined
  /** Receives an exception swallowed during aggregation (COPY Q5; log it). */
  onAggregationError?: ((error: unknown) => void) | undefined
}

/**
 * The whole tailLog of the ork (ork-behaviour.md 4.7), with rack and thing I/O injected:
 * spec lookup and validation, rack projection, fan-out through `fetchRackReplies`,
 * grouping, aggregation, sort, optional cross-thing aggregation (section 6) and the final
 * `aggrFields` projection. Resolves with what the reference's tailLog returns.
 *
 * Throws `ERR_NOT_CONFIGURED`, `ERR_TYPE_INVALID`, `ERR_TYPE_AGGR_INVALID` (as OrkError),
 * and mingo's error for a projection mixing inclusion and exclusion (COPY Q44).
 */
export async function computeTailLog(options: ComputeTailLogOptions): Promise<JsValue[]> {
  const { request } = options
  const spec = resolveTailLogSpec(options.aggrStats, request.type)
  const { rackRequest, aggrFields } = prepareTailLogRequest(request, spec)
  const replies = await options.fetchRackReplies(rackRequest)
  const rows = aggregateTailLogItems(collectRackItems(replies), spec, {
    aggrTimes: request.aggrTimes,
    onError: options.onAggregationError,
  })
  const linked = await applyRequestedCrossThings(rows, request, options.aggrCrossthg, options.listThings)
  return projectRows(linked, aggrFields)
}
