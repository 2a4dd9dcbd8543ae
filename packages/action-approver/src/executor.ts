import type { Voter } from './record.ts'

/** What an executor learns about the action it runs, besides its arguments. */
export interface ExecutionContext {
  /** Id of the action being executed. */
  readonly actionId: number
  /** Its creator (`votesPos[0]`). */
  readonly user: Voter
  /** Aborted when the call's deadline passes or the approver closes; stop sending device calls then. */
  readonly signal: AbortSignal
  /**
   * Persists the action's payload as it is now. Executors that record per-call
   * outcomes in the payload (the ork writes `result` / `error` into each call of
   * `payload[1]`) call this after each call completes, so that after a crash the
   * completed calls keep their outcome and no call is ever sent again. Calls are
   * coalesced; after the action ended this is a no-op.
   */
  checkpoint(): Promise<void>
}

/**
 * The target that approved actions run against. The approver never looks up
 * methods by name on an arbitrary object, so action names cannot collide with
 * members of the target (the reference's proxy quirk Q27): the ork answers
 * `hasAction` with true for every name and routes all of them to its rack calls.
 */
export interface ActionExecutor {
  /** Whether an action of this name can run; false makes `pushAction` fail with `ERR_ACTION_UNKOWN`. */
  hasAction(action: string): boolean
  /**
   * Runs one approved action. `args` are exactly the reference's arguments:
   * `[[...payload[0], { actionId, user }], ...payload.slice(1)]`; `args[1]` and
   * later are the stored payload objects themselves, so in-place changes are
   * persisted with the record. The resolved value becomes the record's `result`,
   * a rejection its `error`.
   */
  execute(action: string, args: unknown[], context: ExecutionContext): unknown
}

/**
 * Wraps a worker object the reference way: an action is a method of the same
 * name (inherited ones included), called with the reference's arguments only.
 */
export function workerExecutor(worker: object): ActionExecutor {
  const methodOf = (action: string): unknown => (worker as Record<string, unknown>)[action]
  return {
    hasAction: (action) => typeof methodOf(action) === 'function',
    execute(action, args) {
      const method = methodOf(action)
      if (typeof method !== 'function') throw new TypeError(`wrk[action] is not a function: ${action}`)
      return method.apply(worker, args)
    },
  }
}

/** A call inside a target of the ork's payload convention. */
interface TargetCall {
  result?: unknown
  error?: unknown
}

/**
 * Marks every call of the ork's payload convention (`payload[1]` =
 * `{ [rackId]: { calls: [{ id, result?, error? }] } }`) that has neither a
 * `result` nor an `error` with `error: code`. Payloads of another shape are left
 * alone. Used when an action is ended before its calls all reported back.
 */
export function markUnfinishedTargetCalls(payload: unknown[], code: string): void {
  const targets = payload[1]
  if (targets === null || typeof targets !== 'object' || Array.isArray(targets)) return
  for (const target of Object.values(targets as Record<string, unknown>)) {
    if (target === null || typeof target !== 'object') continue
    const calls = (target as { calls?: unknown }).calls
    if (!Array.isArray(calls)) continue
    for (const call of calls as TargetCall[]) {
      if (call === null || typeof call !== 'object') continue
      if (!('result' in call) && !('error' in call)) call.error = code
    }
  }
}
