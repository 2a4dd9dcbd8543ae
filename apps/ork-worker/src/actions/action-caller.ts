import { hasWritePermission, MAX_ACTION_RECORD_BYTES } from '@ork/action-approver'
import { OrkError } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import {
  baseTypeOf,
  type CallOptions,
  type FanOutOptions,
  type FanOutResult,
  matchesTypeFamily,
  type RackRecord,
} from '@ork/rack-registry'
import { Query } from 'mingo'
import pLimit from 'p-limit'
import { assertSafeQuery } from '../things/query-guard.ts'

/** Actions executed by the rack itself rather than by one of its devices (ork-behaviour.md 8). */
export const RACK_ACTIONS: ReadonlySet<string> = new Set(['registerThing', 'updateThing', 'forgetThings', 'rackReboot'])

/** Errors meaning "this rack does not support the action" (reference `INVALID_ACTIONS_ERRORS`). */
export const INVALID_ACTIONS_ERRORS: readonly string[] = ['UNKNOWN_METHOD', 'CHANNEL_CLOSED']

/** Concurrency and deadline of the getWriteCalls fan-out (reference values, Q29). */
export const WRITE_CALLS_CONCURRENCY = 5
export const WRITE_CALLS_TIMEOUT_MS = 120_000
/** Deadline of one execution call: the net facility's default in the reference (Q29). */
export const EXECUTION_CALL_TIMEOUT_MS = 30_000
/** Default `callTargetsLimit` (reference code default). */
export const DEFAULT_CALL_TARGETS_LIMIT = 50

/**
 * Most progress reports ({@link CallTargetsOptions.onProgress}) of one execution. Each report
 * makes the approver write the whole action record again, and the store keeps every write:
 * reported after each call, an action on n devices wrote about n records of up to n calls (coalesced
 * while a write was in progress, still 37 writes and 272 MiB of store for one action on 40,000
 * miners, growing as n²). With at most 16 reports an execution writes its record at most 18 times
 * (its start, the reports, its end), whatever its size.
 */
export const MAX_PROGRESS_REPORTS = 16

/** Room kept in an action's record for its own fields (ids, votes, status, error). */
const RECORD_FIELDS_BYTES = 4096
/** Room kept per call for the outcome {@link CALL_OUTCOME_TOO_LARGE} replaces. */
const OUTCOME_MARKER_BYTES = 64
/** A call's outcome, once sent, that did not fit in its action's record. */
export const CALL_OUTCOME_TOO_LARGE = 'ERR_CALL_RESULT_TOO_LARGE'

/** True when a rack error means the rack does not support the action (substring match, as the reference). */
export function isInvalidActionError(error: unknown): boolean {
  return typeof error === 'string' && INVALID_ACTIONS_ERRORS.some((code) => error.includes(code))
}

/** One device (or rack) call of an action, with its outcome once executed. */
export interface TargetCall {
  id: unknown
  tags?: unknown
  result?: unknown
  error?: string
  [field: string]: unknown
}

/** What one rack contributes to an action: its calls, the votes it asks for, or why it failed. */
export interface ActionTarget {
  reqVotes?: unknown
  calls: TargetCall[]
  error?: string
}

export type ActionTargets = Record<string, ActionTarget>

/** What the caller needs from the rack registry and the fan-out (structural, so tests can pass their own). */
export interface ActionCallerDependencies {
  registry: { all(): RackRecord[]; get(id: string): RackRecord | undefined }
  racks: {
    fanOut(
      racks: readonly RackRecord[],
      method: string,
      payload: (rack: RackRecord) => unknown,
      options: FanOutOptions,
    ): Promise<FanOutResult[]>
    call(rack: RackRecord, method: string, payload: unknown, options: CallOptions): Promise<unknown>
  }
  /** Execution calls run at a time (`ork.callTargetsLimit`, default 50). */
  callTargetsLimit?: number
  logger?: Logger
}

/** Options of {@link ActionCaller.callTargets}. */
export interface CallTargetsOptions {
  /** Stop sending calls once aborted; calls not sent keep no outcome. */
  signal?: AbortSignal
  /**
   * Called as outcomes are recorded, to persist progress: after each one for actions of up to
   * {@link MAX_PROGRESS_REPORTS} calls, else after every `calls / MAX_PROGRESS_REPORTS` (rounded up).
   * A crash loses at most the outcomes since the last report; those calls are never sent again.
   */
  onProgress?: () => void
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null &&
  typeof value === 'object' &&
  !Array.isArray(value) &&
  Object.getPrototypeOf(value) === Object.prototype

/** Size of a value's JSON in bytes (0 for what JSON leaves out). */
const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '')

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** The query check of {@link validateWriteCallsArguments}: a plain object mingo accepts, running no code. */
export function validateWriteQuery(query: unknown): void {
  if (!isPlainObject(query)) throw new OrkError('ERR_QUERY_INVALID')
  assertSafeQuery(query)
  try {
    new Query(query)
  } catch (error) {
    throw new OrkError('ERR_QUERY_INVALID', { reason: messageOf(error) })
  }
}

/**
 * Checks the arguments of getWriteCalls in the reference's order (8.1): query (a plain
 * object mingo accepts), action (a non-empty string), params (an array).
 */
export function validateWriteCallsArguments(query: unknown, action: unknown, params: unknown): void {
  validateWriteQuery(query)
  if (!action || typeof action !== 'string') throw new OrkError('ERR_ACTION_INVALID')
  if (!Array.isArray(params)) throw new OrkError('ERR_PARAMS_INVALID')
}

/** The reference's `_validateRackAction` (8.2): what each rack action needs in `params[0]`. */
export function validateRackAction(action: string, params: unknown[]): void {
  if (action === 'rackReboot') return
  const first = (params[0] ?? {}) as Record<string, unknown>
  if (!first.rackId) throw new OrkError('ERR_ACTION_INVALID_MISSING_RACKID')
  if (action === 'updateThing' && !first.id) throw new OrkError('ERR_ACTION_INVALID_MISSING_ID')
  if (action === 'forgetThings' && typeof (first.query as Record<string, unknown> | undefined)?.id !== 'string') {
    throw new OrkError('ERR_ACTION_INVALID_QUERY_ID')
  }
}

/** A rack's getWriteCalls reply once checked: the calls as the ork stores them, or why it was refused. */
export type WriteCallsReply = { ok: true; reqVotes: unknown; calls: TargetCall[] } | { ok: false; reason: string }

/** A device id as racks look things up (by key): a non-empty string or a finite number. */
const isThingId = (id: unknown): boolean =>
  (typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id))

/**
 * Checks a rack's getWriteCalls reply against what racks send (rack-protocol.md 1.5):
 * `{calls: [{id, tags}], reqVotes}`. Each call names a device once (two calls for one
 * device would run the action on it twice); for a rack action (`rackAction` given) there is
 * at most one call, the `rackActionId` asked for, since each call is one execution of the
 * action on the rack. Calls are rebuilt with only `id` and `tags`: anything else a rack adds
 * would be stored, and a `result` or `error` would make the call look already executed.
 * `reqVotes` is passed on unchecked: pushAction combines it as the reference does (4.11).
 */
export function parseWriteCallsReply(reply: unknown, rackAction: { rackActionId: unknown } | null): WriteCallsReply {
  if (!isPlainObject(reply)) return { ok: false, reason: 'reply is not an object' }
  const { calls } = reply
  if (!Array.isArray(calls)) return { ok: false, reason: 'calls is not an array' }
  if (rackAction && calls.length > 1) return { ok: false, reason: 'more than one call for a rack action' }
  const seen = new Set<string>()
  const parsed: TargetCall[] = []
  for (const call of calls) {
    if (!isPlainObject(call)) return { ok: false, reason: 'a call is not an object' }
    const { id, tags } = call
    if (rackAction) {
      if (JSON.stringify(id) !== JSON.stringify(rackAction.rackActionId)) {
        return { ok: false, reason: 'call id is not the rackActionId asked for' }
      }
    } else if (!isThingId(id)) {
      return { ok: false, reason: 'call id is not a thing id' }
    }
    if (seen.has(String(id))) return { ok: false, reason: 'two calls for one id' }
    seen.add(String(id))
    if (tags !== undefined && !Array.isArray(tags)) return { ok: false, reason: 'call tags is not an array' }
    parsed.push(tags === undefined ? { id } : { id, tags })
  }
  return { ok: true, reqVotes: reply.reqVotes, calls: parsed }
}

/**
 * Finds what a write action would touch (getWriteCalls on the racks) and executes approved
 * actions on the racks (callTargets): the reference's ActionCaller, with every action name
 * dispatched explicitly (Q27) and `rackType` honoured (Q15).
 */
export class ActionCaller {
  readonly #dependencies: ActionCallerDependencies
  readonly #logger: Logger
  readonly callTargetsLimit: number

  constructor(dependencies: ActionCallerDependencies) {
    this.#dependencies = dependencies
    this.#logger = dependencies.logger ?? silentLogger
    const limit = dependencies.callTargetsLimit ?? DEFAULT_CALL_TARGETS_LIMIT
    if (!Number.isInteger(limit) || limit < 1) throw new OrkError('ERR_OPTS_INVALID', { option: 'callTargetsLimit' })
    this.callTargetsLimit = limit
  }

  /**
   * Asks every rack the caller may write to (`<baseType>:w`, malformed permissions match
   * nothing, Q17) which calls `action` needs, 5 racks at a time with a 120 s deadline.
   * Racks whose type is not `rackType` (nor `rackType-*`) are left out entirely (Q15).
   * Targets are in rack order; failures are recorded as `{reqVotes: 1, calls: [], error}`.
   */
  async getWriteCalls(
    query: unknown,
    action: unknown,
    params: unknown,
    permissions: unknown,
    rackType: string | null = null,
  ): Promise<{ targets: ActionTargets; requiredPerms: string[] }> {
    validateWriteCallsArguments(query, action, params)
    const name = action as string
    const parameters = params as unknown[]
    const targets: ActionTargets = {}
    const requiredPerms: string[] = []
    const permitted = this.#dependencies.registry.all().filter((rack) => {
      if (typeof rack?.type !== 'string') return false
      if (rackType && !matchesTypeFamily(rack.type, rackType)) return false
      return hasWritePermission(permissions, baseTypeOf(rack.type))
    })

    let asked = permitted
    let rackActionIdOf: ((rack: RackRecord) => unknown) | null = null
    const validationErrors = new Map<string, string>()
    if (RACK_ACTIONS.has(name)) {
      try {
        validateRackAction(name, parameters)
        const first = (parameters[0] ?? {}) as Record<string, unknown>
        if (name !== 'rackReboot') asked = permitted.filter((rack) => rack.id === first.rackId)
        rackActionIdOf = (rack) => first.id || (first.query as Record<string, unknown> | undefined)?.id || rack.id
      } catch (error) {
        for (const rack of permitted) validationErrors.set(rack.id, messageOf(error))
        asked = []
      }
    }

    const results = await this.#dependencies.racks.fanOut(
      asked,
      'getWriteCalls',
      (rack) =>
        rackActionIdOf
          ? { query, action: name, params: parameters, rackActionId: rackActionIdOf(rack) }
          : { query, action: name, params: parameters },
      // `write`: the full 120 s even for a rack marked down. Its answer decides which devices the
      // action writes to, and a slow rack cut short at the probe deadline would drop out of it.
      { concurrency: WRITE_CALLS_CONCURRENCY, timeout: WRITE_CALLS_TIMEOUT_MS, write: true },
    )
    const byRack = new Map(results.map((result) => [result.rack.id, result]))
    for (const rack of permitted) {
      const validationError = validationErrors.get(rack.id)
      if (validationError !== undefined) {
        targets[rack.id] = { reqVotes: 1, calls: [], error: validationError }
        continue
      }
      const result = byRack.get(rack.id)
      if (!result) continue
      if (!result.ok) {
        this.#logger.warn('getWriteCalls failed', { rackId: rack.id, action: name, error: result.error.message })
        targets[rack.id] = { reqVotes: 1, calls: [], error: result.error.message }
        continue
      }
      const reply = parseWriteCallsReply(result.value, rackActionIdOf ? { rackActionId: rackActionIdOf(rack) } : null)
      if (!reply.ok) {
        this.#logger.warn('getWriteCalls answered an invalid reply', {
          rackId: rack.id,
          action: name,
          reason: reply.reason,
        })
        targets[rack.id] = { reqVotes: 1, calls: [], error: 'ERR_WRITE_CALLS_INVALID' }
        continue
      }
      if (reply.calls.length === 0) continue
      targets[rack.id] = { reqVotes: reply.reqVotes, calls: reply.calls }
      const baseType = baseTypeOf(rack.type)
      if (!requiredPerms.includes(baseType)) requiredPerms.push(baseType)
    }
    return { targets, requiredPerms }
  }

  /**
   * The longest {@link callTargets} can take on `targets`: every unanswered call, `callTargetsLimit`
   * at a time, each at its full deadline.
   */
  worstCaseMs(targets: unknown): number {
    let calls = 0
    if (targets && typeof targets === 'object') {
      for (const target of Object.values(targets as Record<string, unknown>)) {
        const list = (target as ActionTarget | null)?.calls
        if (Array.isArray(list)) calls += list.length
      }
    }
    return Math.ceil(calls / this.callTargetsLimit) * EXECUTION_CALL_TIMEOUT_MS
  }

  /**
   * Executes every call of every target, `callTargetsLimit` at a time, each with the net
   * default deadline (30 s). Outcomes are written into the calls (`result` or `error`);
   * calls that already have one are not sent again. Never throws for a failed call.
   * An outcome that would make the action's record larger than the store takes is
   * recorded as the error {@link CALL_OUTCOME_TOO_LARGE} (the call was sent all the same).
   */
  async callTargets(
    action: string,
    params: unknown[],
    targets: ActionTargets,
    options: CallTargetsOptions = {},
  ): Promise<void> {
    const pairs: [string, TargetCall][] = []
    for (const [rackId, target] of Object.entries(targets ?? {})) {
      if (!target || !Array.isArray(target.calls)) continue
      for (const call of target.calls) {
        if (call && typeof call === 'object' && !('result' in call) && !('error' in call)) pairs.push([rackId, call])
      }
    }
    // The outcomes are stored in the action's record, which the store takes only up to
    // MAX_ACTION_RECORD_BYTES: past that the action could never be written to `done`.
    let room =
      MAX_ACTION_RECORD_BYTES - jsonBytes([params, targets]) - RECORD_FIELDS_BYTES - pairs.length * OUTCOME_MARKER_BYTES
    const record = (call: TargetCall, outcome: { result: unknown } | { error: string }) => {
      const bytes = jsonBytes(outcome)
      if (bytes > room) {
        call.error = CALL_OUTCOME_TOO_LARGE
        return
      }
      room -= bytes
      Object.assign(call, outcome)
    }
    const outcomesPerReport = Math.ceil(pairs.length / MAX_PROGRESS_REPORTS)
    let unreported = 0
    const limit = pLimit(this.callTargetsLimit)
    await Promise.all(
      pairs.map(([rackId, call]) =>
        limit(async () => {
          if (options.signal?.aborted) return
          try {
            record(call, { result: await this.#callThing(action, params, rackId, call) })
          } catch (error) {
            record(call, { error: messageOf(error) })
          }
          unreported++
          if (unreported === outcomesPerReport) {
            unreported = 0
            options.onProgress?.()
          }
        }),
      ),
    )
  }

  /** One execution call, with the exact payload racks expect (rack-protocol.md 1.5, Q28). */
  #callThing(action: string, params: unknown[], rackId: string, call: TargetCall): Promise<unknown> {
    const rack = this.#dependencies.registry.get(rackId)
    if (!rack) return Promise.reject(new OrkError('ERR_RACK_NOT_FOUND', { rackId }))
    const trailer = (params[params.length - 1] ?? {}) as { actionId?: unknown; user?: unknown }
    const first = (params[0] ?? {}) as Record<string, unknown>
    let method: string
    let payload: unknown
    switch (action) {
      case 'registerThing':
      case 'updateThing':
        method = action
        payload = { ...first, actionId: trailer.actionId, user: trailer.user }
        break
      case 'forgetThings':
        method = action
        payload = { query: first.query, actionId: trailer.actionId }
        break
      case 'rackReboot':
        method = action
        payload = {}
        break
      default:
        method = 'queryThing'
        payload = { id: call.id, method: action, params }
    }
    return this.#dependencies.racks.call(rack, method, payload, { timeout: EXECUTION_CALL_TIMEOUT_MS, write: true })
  }
}
