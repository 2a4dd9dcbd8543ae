import type { Logger } from '@ork/logger'
import type { RackFanOut, RackRegistry } from '@ork/rack-registry'
import type { AuditLog } from './actions/audit-log.ts'
import type { OrkActions } from './actions/ork-actions.ts'
import type { WorkerConfig } from './config/load-config.ts'
import type { GlobalConfig } from './config/schemas.ts'

/** What every method handler and background job of the ork works with. */
export interface OrkContext {
  config: WorkerConfig
  /** The global config as edited by setGlobalConfig (in memory only, as in the reference). */
  globalConfig: GlobalConfig | undefined
  registry: RackRegistry
  racks: RackFanOut
  logger: Logger
  /** Write actions: target discovery, approval, execution on the racks. */
  actions: OrkActions
  /** Audit log of write requests and action executions. */
  auditLog: AuditLog
}
