import type { Logger } from '@ork/logger'
import type { RackFanOut, RackRegistry } from '@ork/rack-registry'
import type { AuditLog } from './actions/audit-log.ts'
import type { OrkActions } from './actions/ork-actions.ts'
import type { WorkerConfig } from './config/load-config.ts'
import type { GlobalConfig } from './config/schemas.ts'
import type { TailLogAggregationJob } from './tail-log/aggregate-job.ts'
import type { TailLogHistoryStore } from './tail-log/history-store.ts'
import type { OffThreadAggregation } from './tail-log/off-thread-aggregation.ts'

/** What every method handler and background job of the ork works with. */
export interface OrkContext {
  config: WorkerConfig
  /** The global config as edited by setGlobalConfig (in memory only, as in the reference). */
  globalConfig: GlobalConfig | undefined
  registry: RackRegistry
  racks: RackFanOut
  /**
   * The largest reply the ork can send (bytes, the transport's message limit): a fan-out whose
   * reply concatenates the racks' replies stops as soon as they add up to more.
   */
  maxReplyBytes: number
  logger: Logger
  /** Write actions: target discovery, approval, execution on the racks. */
  actions: OrkActions
  /** Audit log of write requests and action executions. */
  auditLog: AuditLog
  /** The daily site-metrics history (`tail-log-aggr` bee). */
  tailLogHistory: TailLogHistoryStore
  /** Where tailLog decodes and aggregates rack replies: a thread of its own. */
  tailLogThread: OffThreadAggregation
  /** The job filling {@link tailLogHistory}; undefined when aggr.data.json or aggr.stats.json is absent. */
  tailLogAggregation: TailLogAggregationJob | undefined
  /** The ork's clock (ms); tests control it through `StartOrkOptions.now`. */
  now: () => number
}
