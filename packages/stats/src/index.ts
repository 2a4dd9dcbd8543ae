export { applyStats, applyStatsBatch, tallyStats } from './apply.ts'
export { type ComputeTailLogOptions, computeTailLog } from './compute-tail-log.ts'
export {
  applyCrossThings,
  applyRequestedCrossThings,
  type CrossThingConfig,
  type CrossThingQuery,
  crossThingQuery,
  getNestedProperty,
} from './cross-thing.ts'
export { defaults } from './defaults.ts'
export { getVal, groupBy } from './get-val.ts'
export { isOpName, type OpName, opNames, ops } from './ops.ts'
export { type Accessor, compilePath, parsePath } from './path.ts'
export {
  type AggregateTailLogOptions,
  type AggrStatsConfig,
  type AggrTimeRange,
  aggregateTailLogItems,
  collectRackItems,
  groupTailLogItems,
  MAX_AGGR_TIMES_COPIES,
  type PreparedTailLogRequest,
  type Projection,
  prepareTailLogRequest,
  projectRows,
  resolveTailLogSpec,
  type TailLogGroup,
  type TailLogRequest,
  type TailLogRow,
  type TailLogSpec,
} from './tail-log.ts'
export type { Accumulator, JsValue, OpSpec, Source, StatsOp, StatsPack, StatsState } from './types.ts'
