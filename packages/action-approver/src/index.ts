export {
  ActionApprover,
  type ActionApproverOptions,
  type CancelBatchResult,
  DEFAULT_EXECUTION_TIMEOUT_MS,
} from './action-approver.ts'
export type { ActionsBee, ActionsBeeEntry, ActionsBeeRange, BinaryEncodings } from './actions-bee.ts'
export {
  type ActionExecutor,
  type ExecutionContext,
  markUnfinishedTargetCalls,
  workerExecutor,
} from './executor.ts'
export { encodeActionId, type IdRange, MAX_ACTION_ID, normalizeActionId } from './keys.ts'
export {
  hasPermission,
  hasReadPermission,
  hasReadWritePermission,
  hasWritePermission,
} from './permissions.ts'
export {
  ACTION_STATES,
  ACTION_STATUS,
  type ActionRecord,
  type ActionState,
  type ActionStatus,
  MAX_ACTION_RECORD_BYTES,
  type Voter,
} from './record.ts'
export { isValidVoter, type PushActionOptions } from './validation.ts'
