import {
  ACTION_STATES,
  ActionApprover,
  type ActionExecutor,
  type ActionRecord,
  type ActionState,
  type CancelBatchResult,
  DEFAULT_EXECUTION_TIMEOUT_MS,
  type ExecutionContext,
  hasWritePermission,
} from '@ork/action-approver'
import { OrkError } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import Hyperbee from 'hyperbee'
import { Query } from 'mingo'
import pLimit from 'p-limit'
import { assertSafeQuery } from '../things/query-guard.ts'
import {
  ActionCaller,
  type ActionCallerDependencies,
  type ActionTargets,
  EXECUTION_CALL_TIMEOUT_MS,
  isInvalidActionError,
  validateWriteCallsArguments,
} from './action-caller.ts'
import { type FlatAction, filterInvalidActionsErrors, flattenAction } from './action-records.ts'
import type { AuditLog } from './audit-log.ts'
import { batchActionUid, batchUidPrefix, escapeRegExp } from './batch-uid.ts'

/** Name of the approver's bee on the worker's `store/<cluster>-db` corestore (reference layout). */
export const APPROVER_BEE_NAME = 'action-approver'
/** Default execution tick of the approver (`ork.actionIntvlMs`). */
export const DEFAULT_ACTION_INTERVAL_MS = 30_000
/** Elements of a pushActionsBatch pushed at a time (reference). */
const BATCH_CONCURRENCY = 5
/** Queries of a queryActions / ids of a getActionsBatch looked up at a time. */
const LOOKUP_CONCURRENCY = 25
/** The reference's batch window, kept only as the lower bound hint of a batch lookup (Q21). */
const BATCH_WINDOW_MS = 120_000

/** pushAction request (4.11), after validation. */
export interface PushActionRequest {
  query: unknown
  action: unknown
  params: unknown
  voter?: unknown
  authPerms?: unknown
  batchActionUID?: string | null | undefined
  rackType?: string | null | undefined
}

/** pushAction reply: the stored record (with its `payload`, Q26) and the per-rack errors. */
export type PushActionReply = { id: number; data: ActionRecord; errors: string[] } | { id: null; errors: string[] }

export interface PushActionsBatchRequest {
  batchActionsPayload: { query: unknown; action: unknown; params: unknown; rackType?: string | null | undefined }[]
  voter?: unknown
  authPerms?: unknown
  batchActionUID?: unknown
  suffix?: unknown
}

export interface ActionsQuery {
  type: string
  filter?: Record<string, unknown> | null | undefined
  opts?: Record<string, unknown> | null | undefined
  query?: Record<string, unknown> | null | undefined
  fields?: Record<string, unknown> | null | undefined
}

export interface QueryActionsRequest {
  queries: ActionsQuery[]
  suffix?: unknown
  groupBatch?: unknown
}

/** A batch in a grouped queryActions reply. */
export interface ActionBatchGroup {
  batchActionUID: string
  id: string
  actions: FlatAction[]
}

export interface OrkActionsOptions extends ActionCallerDependencies {
  /** The worker's data corestore (`store/<cluster>-db`); the approver's bee is opened on it. */
  store: { get(options: { name: string }): unknown }
  /**
   * Deadline of one action's whole execution (approver default 600 s); an action with more
   * calls than fit in it gets as long as its calls can take (see {@link ActionCaller.worstCaseMs}).
   */
  executionTimeoutMs?: number
  /** Where write requests and executions are recorded. */
  auditLog?: AuditLog
  /** How long close() waits for an interrupted execution's calls in flight, to audit it (default 10 s). */
  closeWaitMs?: number
  /** Called with the error of every write the approver's store refused, execution passes included. */
  onWriteFailed?: (error: unknown) => void
  logger?: Logger
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/** May `permissions` vote on an action needing `requiredPerm`: the base type itself or `<type>:w` (Q18). */
export function mayVote(permissions: unknown, requiredPerm: unknown): boolean {
  if (!Array.isArray(permissions) || typeof requiredPerm !== 'string') return false
  return permissions.includes(requiredPerm) || hasWritePermission(permissions, requiredPerm)
}

/**
 * The ork's action system: target discovery on the racks, the approval state machine
 * (@ork/action-approver on the `action-approver` bee) and execution on the racks.
 */
export class OrkActions {
  readonly approver: ActionApprover
  readonly caller: ActionCaller
  readonly #bee: Hyperbee
  readonly #logger: Logger
  readonly #auditLog: AuditLog | undefined
  readonly #closeWaitMs: number
  /** Executions whose worker call has not returned yet (an interrupted one may still have calls in flight). */
  readonly #executions = new Set<Promise<unknown>>()
  #opening: Promise<void> | null = null
  #closing: Promise<void> | null = null

  constructor(options: OrkActionsOptions) {
    this.#logger = options.logger ?? silentLogger
    this.#auditLog = options.auditLog
    this.#closeWaitMs = options.closeWaitMs ?? 10_000
    this.caller = new ActionCaller({ ...options, logger: this.#logger })
    this.#bee = new Hyperbee(options.store.get({ name: APPROVER_BEE_NAME }))
    const configuredDeadline = options.executionTimeoutMs ?? DEFAULT_EXECUTION_TIMEOUT_MS
    this.approver = new ActionApprover({
      bee: this.#bee as never,
      executor: this.#executor(),
      // Never shorter than its calls can take: with racks that accept calls but never answer,
      // a fixed deadline could end the action before the calls queued behind theirs were sent.
      executionTimeoutMs: (record) =>
        Math.max(configuredDeadline, this.caller.worstCaseMs(record.payload?.[1]) + EXECUTION_CALL_TIMEOUT_MS),
      ...(options.onWriteFailed ? { onWriteFailed: options.onWriteFailed } : {}),
      logger: this.#logger.child('approver'),
    })
  }

  /** Opens the approver's store and finishes what a crash left executing (never re-sent). Idempotent. */
  ready(): Promise<void> {
    this.#opening ??= this.approver.ready()
    return this.#opening
  }

  /** Starts the execution tick (`ork.actionIntvlMs`). */
  startInterval(intervalMs: number = DEFAULT_ACTION_INTERVAL_MS): void {
    this.approver.startInterval(intervalMs)
  }

  /** Stops the execution tick; an action running goes on to its end. */
  stopInterval(): void {
    this.approver.stopInterval()
  }

  /**
   * Stops executing (a running action ends as interrupted and sends no more calls), waits up to
   * `closeWaitMs` for its calls in flight so that the execution is audited, then closes the
   * approver's bee. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.approver.close()
      if (this.#executions.size > 0) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          Promise.allSettled([...this.#executions]),
          new Promise((done) => (timer = setTimeout(done, this.#closeWaitMs))),
        ])
        clearTimeout(timer)
      }
      await this.#bee.close()
    })()
    return this.#closing
  }

  /** Every action name is routed to the rack calls explicitly: no name can collide with a member (Q27). */
  #executor(): ActionExecutor {
    return {
      hasAction: (action) => typeof action === 'string' && action.trim().length > 0,
      execute: (action, args, context) => {
        const [params, targets] = args
        if (!Array.isArray(params) || !isObject(targets)) return Promise.reject(new OrkError('ERR_PAYLOAD_INVALID'))
        // Logged once per execution: a store that refuses writes fails every checkpoint after the first.
        let checkpointFailed = false
        const execution = (async () => {
          await this.caller.callTargets(action, params, targets as ActionTargets, {
            signal: context.signal,
            onProgress: () => {
              context.checkpoint().catch((error: unknown) => {
                if (checkpointFailed) return
                checkpointFailed = true
                this.#logger.warn('checkpoint failed', { id: context.actionId, error })
              })
            },
          })
          await this.#auditExecution(action, context, targets as ActionTargets)
          return undefined
        })()
        this.#executions.add(execution)
        const forget = () => this.#executions.delete(execution)
        execution.then(forget, forget)
        return execution
      },
    }
  }

  async #auditExecution(action: string, context: ExecutionContext, targets: ActionTargets): Promise<void> {
    if (!this.#auditLog) return
    let ok = 0
    let failed = 0
    for (const target of Object.values(targets)) {
      for (const call of Array.isArray(target?.calls) ? target.calls : []) {
        // A store the reference wrote may hold calls that are not objects (it kept rack replies as they came).
        if (call === null || typeof call !== 'object') continue
        if ('error' in call) failed++
        else if ('result' in call) ok++
      }
    }
    // Aborted: the approver ended the run (deadline or close) and marked the calls without an outcome.
    const error = context.signal.aborted ? 'ERR_ACTION_INTERRUPTED' : failed > 0 ? 'ERR_ACTION_CALLS_FAILED' : undefined
    await this.#auditLog.record({
      kind: 'execution',
      method: `execute:${action}`,
      caller: null,
      voter: context.user,
      outcome: error ? 'error' : 'ok',
      ...(error ? { error } : {}),
      actionIds: [context.actionId],
      calls: { ok, failed },
    })
  }

  /**
   * pushAction (4.11): asks the racks for the calls, then stores the action for voting
   * (or directly approved when one vote suffices). Rack errors are returned in `errors`;
   * with no call at all nothing is stored and `id` is null.
   *
   * As in the reference, a rack whose error is `UNKNOWN_METHOD` or `CHANNEL_CLOSED` is left out
   * of `errors`. FIX: when no rack gave a call, the racks that could not be reached
   * (`CHANNEL_CLOSED`) are reported, so that "no device matched" and "the device's rack is
   * unreachable" no longer read the same.
   */
  async pushAction(request: PushActionRequest): Promise<PushActionReply> {
    const { query, action, params, voter, authPerms, batchActionUID, rackType } = request
    const { targets, requiredPerms } = await this.caller.getWriteCalls(query, action, params, authPerms, rackType)
    let reqVotes = 1
    let callCount = 0
    const errors: string[] = []
    const unreachable: string[] = []
    for (const [rackId, entry] of Object.entries(targets)) {
      // The reference's `entry.reqVotes > reqVotes`: a reply without reqVotes leaves the count as
      // it is, and a non-number that compares greater is refused by the approver's check.
      if ((entry.reqVotes as number) > reqVotes) reqVotes = entry.reqVotes as number
      delete entry.reqVotes
      callCount += entry.calls.length
      if (isInvalidActionError(entry.error)) {
        if (entry.error?.includes('CHANNEL_CLOSED')) unreachable.push(`${rackId}: ${entry.error}`)
        continue
      }
      if (entry.calls.length === 0) errors.push(`${rackId}: ${entry.error || 'ERR_ORK_ACTION_CALLS_EMPTY'}`)
    }
    if (callCount === 0) {
      errors.push(...unreachable, 'ERR_ORK_ACTION_CALLS_EMPTY')
      return { id: null, errors }
    }
    await this.ready()
    const data = await this.approver.pushAction({
      action: action as string,
      payload: [params, targets, requiredPerms],
      voter: voter as string,
      reqVotesPos: reqVotes,
      reqVotesNeg: 1,
      ...(batchActionUID ? { batchActionUID } : {}),
    })
    return { id: data.id, data, errors }
  }

  /**
   * pushActionsBatch (4.12): every element pushed with one batch UID, 5 at a time, replies
   * in payload order. Every element is checked before any is pushed, so a malformed element
   * no longer leaves the elements before it pushed (Q20); a rack or approver failure still does.
   * After a failure no further element starts (as the reference's `async.mapLimit`): the
   * caller has its error, so nothing may be pushed on its behalf after it.
   */
  async pushActionsBatch(request: PushActionsBatchRequest): Promise<PushActionReply[]> {
    const uid = batchActionUid(Date.now(), request.batchActionUID, request.suffix)
    const elements = request.batchActionsPayload
    if (!Array.isArray(elements)) throw new OrkError('ERR_PAYLOAD_INVALID')
    for (const element of elements) validateWriteCallsArguments(element.query, element.action, element.params)
    const limit = pLimit(BATCH_CONCURRENCY)
    let failed = false
    const pushElement = async (element: (typeof elements)[number]): Promise<PushActionReply> => {
      if (failed) throw new OrkError('ERR_BATCH_ABORTED')
      try {
        return await this.pushAction({
          query: element.query,
          action: element.action,
          params: element.params,
          voter: request.voter,
          authPerms: request.authPerms,
          batchActionUID: uid,
          rackType: element.rackType ?? null,
        })
      } catch (error) {
        failed = true
        throw error
      }
    }
    return Promise.all(elements.map((element) => limit(() => pushElement(element))))
  }

  /**
   * voteAction (4.16): the voter must hold every permission the action requires, either as
   * the base type (`miner`, what the API node sends) or as a write permission (`miner:w`,
   * `miner:rw`); anything malformed denies (Q17, Q18). Replies 1.
   */
  async voteAction(request: { id: unknown; voter?: unknown; approve?: unknown; authPerms?: unknown }): Promise<1> {
    await this.ready()
    const { data } = await this.approver.getAction('voting', request.id as number)
    const required = Array.isArray(data.payload?.[2]) ? (data.payload[2] as unknown[]) : []
    if (!required.every((permission) => mayVote(request.authPerms, permission))) {
      throw new OrkError('ERR_ACTION_DENIED')
    }
    await this.approver.voteAction({
      id: request.id as number,
      voter: request.voter as string,
      approve: request.approve as boolean,
    })
    return 1
  }

  /** getAction (4.15): one action of one state, flattened (call tags kept). */
  async getAction(request: { id: unknown; type: ActionState }): Promise<FlatAction> {
    await this.ready()
    const { data } = await this.approver.getAction(request.type, request.id as number)
    return flattenAction(data)
  }

  /**
   * getActionsBatch (4.18): each id looked up in voting, ready, executing, done, first hit
   * wins; unknown ids are omitted (Q24). States are read in the order actions move through
   * them, so an action moving meanwhile is still found. 25 ids at a time (Q56).
   */
  async getActionsBatch(request: { ids: unknown[] }): Promise<{ type: ActionState; action: FlatAction }[]> {
    await this.ready()
    const limit = pLimit(LOOKUP_CONCURRENCY)
    // An id asked again gets the same answer object: read once, held once.
    const lookups = new Map<string, Promise<{ type: ActionState; action: FlatAction } | null>>()
    const lookup = (id: unknown) => {
      const key = typeof id === 'number' || typeof id === 'string' ? `${typeof id}:${id}` : null
      if (key === null) return limit(() => this.#lookup(id))
      let pending = lookups.get(key)
      if (!pending) {
        pending = limit(() => this.#lookup(id))
        lookups.set(key, pending)
      }
      return pending
    }
    const found = await Promise.all(request.ids.map(lookup))
    return found.filter((entry): entry is { type: ActionState; action: FlatAction } => entry !== null)
  }

  async #lookup(id: unknown): Promise<{ type: ActionState; action: FlatAction } | null> {
    for (const type of ACTION_STATES) {
      try {
        const { data } = await this.approver.getAction(type, id as number)
        return { type, action: flattenAction(data) }
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ERR_ACTION_ID_NOT_FOUND') {
          this.#logger.warn('action lookup failed', { id, type, error })
        }
      }
    }
    return null
  }

  /** cancelActionsBatch (4.19): the approver's per-id results (Q25). */
  async cancelActionsBatch(request: { ids: unknown[]; voter?: unknown }): Promise<CancelBatchResult[]> {
    await this.ready()
    return this.approver.cancelActionsBatch({ ids: request.ids as number[], voter: request.voter as string })
  }

  /**
   * queryActions (4.17): per query, the actions of one state in a range, optionally grouped
   * by batch UID (actions of a batch found by their UID, Q21, in stream order, Q22), then a
   * mingo query and projection. A state asked twice keeps the last query's answer (Q23).
   */
  async queryActions(request: QueryActionsRequest): Promise<Record<string, unknown[]>> {
    for (const query of request.queries) {
      assertSafeQuery(query.query)
      assertSafeQuery(query.fields)
    }
    await this.ready()
    const limit = pLimit(LOOKUP_CONCURRENCY)
    // Each query still runs (its errors are the reply's, as in the reference), but only the
    // latest answer per state is kept: a request repeating one state many times used to hold
    // an answer per repetition.
    const latest = new Map<string, { index: number; answer: unknown[] }>()
    await Promise.all(
      request.queries.map((query, index) =>
        limit(async () => {
          const answer = await this.#queryOne(query, request)
          if (index > (latest.get(query.type)?.index ?? -1)) latest.set(query.type, { index, answer })
        }),
      ),
    )
    const reply: Record<string, unknown[]> = {}
    for (const query of request.queries) reply[query.type] = (latest.get(query.type) as { answer: unknown[] }).answer
    return reply
  }

  async #queryOne(spec: ActionsQuery, request: QueryActionsRequest): Promise<unknown[]> {
    const type = spec.type as ActionState
    let list: unknown[] = await this.#readState(type, rangeOf(spec.filter), optionsOf(spec.filter, spec.opts))
    if (request.groupBatch) list = await this.#groupBatches(type, list as FlatAction[])
    const finalQuery: Record<string, unknown> = { ...(spec.query ?? {}) }
    if (request.suffix) finalQuery.batchActionUID = { $regex: `${escapeRegExp(String(request.suffix))}$` }
    let cursor: ReturnType<Query['find']>
    try {
      cursor = new Query(finalQuery).find(list as Record<string, unknown>[], spec.fields ?? {})
    } catch (error) {
      throw new OrkError('ERR_QUERY_INVALID', { reason: (error as Error).message })
    }
    try {
      return cursor.all()
    } catch (error) {
      throw new OrkError('ERR_FIELDS_INVALID', { reason: (error as Error).message })
    }
  }

  async #readState(
    type: ActionState,
    range: Record<string, number>,
    options: { limit?: number; reverse?: boolean },
  ): Promise<FlatAction[]> {
    const actions: FlatAction[] = []
    for await (const record of this.approver.query(type, range, options)) {
      actions.push(flattenAction(record, { dropTags: true }))
    }
    return actions
  }

  /**
   * Keeps the first action of each batch (actions without a UID stay as they are), drops
   * "invalid" actions from `done` (8.6), and replaces each batch's action by
   * `{batchActionUID, id, actions}` with every action of the state carrying that UID.
   */
  async #groupBatches(type: ActionState, actions: FlatAction[]): Promise<unknown[]> {
    const seen = new Set<string>()
    let kept = actions.filter((action) => {
      const uid = action.batchActionUID
      if (!uid) return true
      if (seen.has(uid)) return false
      seen.add(uid)
      return true
    })
    if (type === 'done') kept = filterInvalidActionsErrors(kept)
    if (seen.size === 0) return kept

    // One scan from the oldest batch's start collects every batch's actions.
    let from = Number.POSITIVE_INFINITY
    for (const action of kept) {
      if (!action.batchActionUID) continue
      // A store the reference wrote may hold a number here (pushAction stores the UID as sent).
      const prefix = Number(batchUidPrefix(String(action.batchActionUID)))
      const start = Number.isFinite(prefix) && prefix <= action.id ? prefix : action.id - BATCH_WINDOW_MS
      from = Math.min(from, start)
    }
    // Streamed: only the listed batches' actions are kept, however much history lies in between.
    const members = new Map<string, FlatAction[]>()
    for await (const record of this.approver.query(type, { gte: Math.max(0, from) })) {
      const uid = record.batchActionUID
      if (!uid || !seen.has(uid)) continue
      const list = members.get(uid) ?? []
      list.push(flattenAction(record, { dropTags: true }))
      members.set(uid, list)
    }
    return kept.map((action) => {
      const uid = action.batchActionUID
      if (!uid) return action
      return { batchActionUID: uid, id: batchUidPrefix(String(uid)), actions: members.get(uid) ?? [action] }
    })
  }
}

/** A queryActions `filter`: id bounds (creation ms); numeric strings are accepted as the reference's key encoder did. */
function rangeOf(filter: Record<string, unknown> | null | undefined): Record<string, number> {
  const range: Record<string, number> = {}
  if (!filter) return range
  for (const bound of ['gt', 'gte', 'lt', 'lte'] as const) {
    const value = filter[bound]
    if (value === undefined || value === null || value === '') continue
    const number = Number(value)
    if (!Number.isNaN(number)) range[bound] = number
  }
  return range
}

/**
 * The read options of a query: hyperbee merges `filter` over `opts`, so `limit` and `reverse`
 * work in either (libraries.md 1.9), and takes `reverse` by truthiness.
 */
function optionsOf(
  filter: Record<string, unknown> | null | undefined,
  opts: Record<string, unknown> | null | undefined,
): { limit?: number; reverse?: boolean } {
  const merged = { ...(opts ?? {}), ...(filter ?? {}) }
  const options: { limit?: number; reverse?: boolean } = {}
  if (typeof merged.limit === 'number' && Number.isInteger(merged.limit) && merged.limit >= 0) {
    options.limit = merged.limit
  }
  if (merged.reverse) options.reverse = true
  return options
}
