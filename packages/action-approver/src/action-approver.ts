import { format } from 'node:util'
import { OrkError, writeStoreBatch } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import type { ActionsBee } from './actions-bee.ts'
import { ExecutionRun, type Outcome } from './execution-run.ts'
import { type ActionExecutor, markUnfinishedTargetCalls, workerExecutor } from './executor.ts'
import { GroupCommit } from './group-commit.ts'
import { KeyedMutex } from './keyed-mutex.ts'
import { ActionKeys, encodeActionId, type IdRange, requireActionId } from './keys.ts'
import {
  ACTION_STATES,
  ACTION_STATUS,
  type ActionRecord,
  type ActionState,
  fitsTheStore,
  isActionState,
  safeStringify,
  type Voter,
} from './record.ts'
import { isValidVoter, type PushActionOptions, parseApprove, validatePush } from './validation.ts'

const BINARY = { keyEncoding: 'binary', valueEncoding: 'binary' } as const

/** Default deadline of one action's execution: long enough for a large fan-out of device calls. */
export const DEFAULT_EXECUTION_TIMEOUT_MS = 600_000

/** The longest delay Node's timers keep; a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647

/** How many ready actions an execution pass reads at once. */
const READY_PAGE = 256

/** How many cancels `cancelActionsBatch` runs at once, as in the reference. */
const CANCEL_BATCH_CONCURRENCY = 25

/**
 * How far the wall clock may be behind the last action id before it is logged: ids handed out
 * in a burst run a few ms ahead of the clock, a clock stepped back runs far behind.
 */
const CLOCK_BEHIND_LOG_MS = 1_000

/** Options of {@link ActionApprover}. */
export interface ActionApproverOptions {
  /** The store; may also be given later with `initDb`. Any encodings it has are bypassed (raw bytes are written). */
  bee?: ActionsBee
  /** Where approved actions run; may also be given later with `setExecutor` or `initWrk`. */
  executor?: ActionExecutor
  /**
   * Deadline of one action's execution, in ms (default {@link DEFAULT_EXECUTION_TIMEOUT_MS},
   * at most 2³¹−1), or a function giving it for each action (e.g. growing with its number of
   * device calls; capped at 2³¹−1); when the function throws or gives no positive number,
   * the default applies.
   */
  executionTimeoutMs?: number | ((record: ActionRecord) => number)
  /**
   * Actions still in voting this many ms after creation are denied (status
   * `DENIED`, error `ERR_ACTION_EXPIRED`) by the next execution pass or by the
   * next vote or cancel on them. 0 (the default) keeps them forever, like the reference.
   * Counted on the monotonic clock from the push (from the start, at most this long, for
   * actions pushed before a restart), so a wall clock that jumps neither expires actions
   * early nor keeps them.
   */
  votingExpiryMs?: number
  /**
   * Marks the calls of an interrupted or timed-out action that have no outcome
   * yet. Defaults to {@link markUnfinishedTargetCalls} (the ork's payload convention).
   */
  markUnfinishedCalls?: (payload: unknown[], code: string) => void
  /**
   * Called with the error of every store write that failed (`ERR_STORE_WRITE_FAILED` when the
   * file system refused it: disk full…). Callers of push, vote and cancel get the error too, but
   * the writes of execution passes (an action's start, progress, end) have no caller to reach.
   */
  onWriteFailed?: (error: unknown) => void
  logger?: Logger
}

/** One entry of the `cancelActionsBatch` reply, in input order. */
export type CancelBatchResult = { id: unknown; success: true } | { id: unknown; success: false; error: string }

/** A write of a batch: put a record into a state, or delete the id from a state. */
type WriteOperation = { put: ActionState; id: number; json: string } | { del: ActionState; id: number }

/**
 * The approval state machine of MiningOS write actions, stored in Hyperbee with
 * the reference's byte layout (`actions:<state>` + 0x00 + 6-byte big-endian id,
 * JSON values).
 *
 * Unlike the reference, every state move is one atomic batch, operations on one
 * action are serialised, an execution always ends in `done` (deadline, bad
 * payloads and unserialisable results included), and actions found in
 * `executing` at start are finished as interrupted rather than left or re-run.
 */
export class ActionApprover {
  readonly #logger: Logger
  readonly #executionTimeoutMs: number | ((record: ActionRecord) => number)
  readonly #votingExpiryMs: number
  readonly #markUnfinishedCalls: (payload: unknown[], code: string) => void
  readonly #onWriteFailed: ((error: unknown) => void) | undefined
  readonly #mutex = new KeyedMutex<number>()
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #commits = new GroupCommit<WriteOperation>((operations) => this.#applyBatch(operations))
  #bee: ActionsBee | null = null
  #keys: ActionKeys | null = null
  #executor: ActionExecutor | null = null
  #lastId = 0
  /** True while the wall clock is behind the last id handed out (logged once per episode). */
  #clockBehindIds = false
  /** Expiry of each action in voting, on the monotonic clock (`performance.now()`); see {@link #votingDeadline}. */
  readonly #votingDeadlines = new Map<number, number>()
  #opening: Promise<void> | null = null
  #closing: Promise<void> | null = null
  #timer: NodeJS.Timeout | null = null
  #pass: Promise<void> | null = null
  #currentRun: ExecutionRun | null = null

  constructor(options: ActionApproverOptions = {}) {
    this.#logger = options.logger ?? silentLogger
    const timeout = options.executionTimeoutMs ?? DEFAULT_EXECUTION_TIMEOUT_MS
    if (typeof timeout !== 'function' && !(isPositiveNumber(timeout) && timeout <= MAX_TIMER_MS)) {
      throw new OrkError('ERR_OPTS_EXECUTION_TIMEOUT_INVALID')
    }
    this.#executionTimeoutMs = timeout
    const expiry = options.votingExpiryMs ?? 0
    if (!Number.isFinite(expiry) || expiry < 0) throw new OrkError('ERR_OPTS_VOTING_EXPIRY_INVALID')
    this.#votingExpiryMs = expiry
    this.#markUnfinishedCalls = options.markUnfinishedCalls ?? markUnfinishedTargetCalls
    this.#onWriteFailed = options.onWriteFailed
    if (options.bee !== undefined) this.#setBee(options.bee)
    if (options.executor !== undefined) this.setExecutor(options.executor)
  }

  /** Sets the store and opens the approver (reference API). */
  async initDb(bee: ActionsBee): Promise<void> {
    if (this.#bee !== bee) {
      if (this.#opening) throw new OrkError('ERR_OPTS_BEE_INSTANCE_INVALID', { reason: 'already opened on a store' })
      this.#setBee(bee)
    }
    await this.ready()
  }

  /** Sets a worker object whose methods are the actions (reference API; see {@link workerExecutor}). */
  initWrk(worker: object): void {
    if (worker === null || typeof worker !== 'object' || Array.isArray(worker)) {
      throw new OrkError('ERR_OPTS_WRK_INVALID_TYPE')
    }
    this.#executor = workerExecutor(worker)
  }

  /** Sets the execution target. */
  setExecutor(executor: ActionExecutor): void {
    if (
      executor === null ||
      typeof executor !== 'object' ||
      typeof executor.hasAction !== 'function' ||
      typeof executor.execute !== 'function'
    ) {
      throw new OrkError('ERR_OPTS_WRK_INVALID_TYPE')
    }
    this.#executor = executor
  }

  /**
   * Opens the store: finds the highest id in use and finishes what a crash left
   * behind (actions in `executing` end as `FAILED` / `ERR_ACTION_INTERRUPTED`,
   * keeping the outcome of calls already recorded). Idempotent.
   */
  ready(): Promise<void> {
    if (this.#closing) return Promise.reject(new OrkError('ERR_APPROVER_CLOSED'))
    if (!this.#opening) {
      this.#opening = this.#open()
      this.#opening.catch(() => {
        this.#opening = null
      })
    }
    return this.#opening
  }

  /**
   * Runs {@link execActions} every `intervalMs` (first run after one interval).
   * Calling it again replaces the previous timer.
   */
  startInterval(intervalMs: number): void {
    if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > MAX_TIMER_MS) {
      throw new OrkError('ERR_OPTS_INTERVAL_INVALID')
    }
    if (this.#closing) throw new OrkError('ERR_APPROVER_CLOSED')
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = setInterval(() => {
      this.execActions().catch((error: unknown) => this.#logger.error('execution pass failed', { error }))
    }, intervalMs)
  }

  /** Stops the timer of {@link startInterval}; a pass in progress runs to its end. */
  stopInterval(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }

  /**
   * Stops the timer, ends a running execution as interrupted (its unfinished
   * calls are marked `ERR_ACTION_INTERRUPTED`, exactly as after a crash), puts an
   * action whose start was still being written back in `ready` (nothing was sent),
   * and waits for pending writes. The bee is left open: its owner closes it. Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closing) this.#closing = this.#close()
    return this.#closing
  }

  /** Creates an action in `voting` (or in `ready` when the creator's vote suffices). */
  pushAction(options: PushActionOptions): Promise<ActionRecord> {
    return this.#track(async () => {
      const executor = this.#requireExecutor()
      const valid = validatePush(options, (action) => executor.hasAction(action))
      await this.ready()
      const id = this.#nextId()
      const record: ActionRecord = {
        id,
        batchActionUID: valid.batchActionUID,
        action: valid.action,
        payload: valid.payload,
        votesPos: [valid.voter],
        votesNeg: [],
        reqVotesPos: valid.reqVotesPos,
        reqVotesNeg: valid.reqVotesNeg,
        status: valid.reqVotesPos > 1 ? ACTION_STATUS.VOTING : ACTION_STATUS.APPROVED,
      }
      const state: ActionState = record.status === ACTION_STATUS.VOTING ? 'voting' : 'ready'
      const json = JSON.stringify(record)
      // Refused here with a code: the store would refuse it with an uncoded BAD_ARGUMENT.
      if (!fitsTheStore(json)) throw new OrkError('ERR_ACTION_TOO_LARGE', { bytes: Buffer.byteLength(json) })
      await this.#write([{ put: state, id, json }])
      if (state === 'voting' && this.#votingExpiryMs > 0) {
        this.#votingDeadlines.set(id, performance.now() + this.#votingExpiryMs)
      }
      return record
    })
  }

  /**
   * Adds a vote. Nobody votes twice (the creator already voted). Reaching
   * `reqVotesPos` approvals moves the action to `ready`, reaching `reqVotesNeg`
   * denials moves it to `done` as `DENIED`.
   */
  voteAction(options: { id: number; voter: Voter; approve: boolean }): Promise<void> {
    return this.#track(async () => {
      const { id, voter, approve } = objectOrEmpty(options)
      const actionId = requireActionId(id)
      if (!isValidVoter(voter)) throw new OrkError('ERR_VOTER_INVALID')
      const approving = parseApprove(approve)
      await this.ready()
      await this.#mutex.run(actionId, async () => {
        const record = await this.#readVoting(actionId)
        const votesPos = arrayOrEmpty(record.votesPos)
        const votesNeg = arrayOrEmpty(record.votesNeg)
        if (votesPos.includes(voter) || votesNeg.includes(voter)) throw new OrkError('ERR_VOTER_EXISTS')
        ;(approving ? votesPos : votesNeg).push(voter)
        record.votesPos = votesPos
        record.votesNeg = votesNeg
        if (approving && votesPos.length >= record.reqVotesPos) {
          record.status = ACTION_STATUS.APPROVED
          await this.#move(record, 'voting', 'ready')
        } else if (!approving && votesNeg.length >= record.reqVotesNeg) {
          record.status = ACTION_STATUS.DENIED
          await this.#move(record, 'voting', 'done')
        } else {
          await this.#write([{ put: 'voting', id: actionId, json: JSON.stringify(record) }])
        }
      })
    })
  }

  /** Denies an action still in voting; only its creator (`votesPos[0]`) may. */
  cancelAction(options: { id: number; voter: Voter }): Promise<void> {
    return this.#track(async () => {
      const { id, voter } = objectOrEmpty(options)
      const actionId = requireActionId(id)
      await this.ready()
      await this.#mutex.run(actionId, async () => {
        const record = await this.#readVoting(actionId)
        if (arrayOrEmpty(record.votesPos)[0] !== voter) throw new OrkError('ERR_CALLER_NOT_CREATOR')
        record.status = ACTION_STATUS.DENIED
        await this.#move(record, 'voting', 'done')
      })
    })
  }

  /**
   * Cancels many actions (25 at a time). Never rejects for a per-id failure:
   * each id gets `{ id, success: true }` or `{ id, success: false, error:
   * 'ERR_CANCEL_BATCH_ACTION-ID-<id> <code>' }`, in input order.
   */
  async cancelActionsBatch(options: { ids: number[]; voter: Voter }): Promise<CancelBatchResult[]> {
    const { ids, voter } = objectOrEmpty(options)
    if (!Array.isArray(ids)) throw new OrkError('ERR_IDS_INVALID')
    const results: CancelBatchResult[] = new Array(ids.length)
    let next = 0
    const lane = async () => {
      while (next < ids.length) {
        const index = next++
        const id = ids[index]
        try {
          await this.cancelAction({ id: id as number, voter: voter as Voter })
          results[index] = { id, success: true }
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          results[index] = { id, success: false, error: `ERR_CANCEL_BATCH_ACTION-ID-${id} ${message}` }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(CANCEL_BATCH_CONCURRENCY, ids.length) }, lane))
    return results
  }

  /** Reads one action in one state; `id` is echoed as given, `key` is its 6-byte key. */
  async getAction(subdb: ActionState, id: number): Promise<{ id: number; key: Buffer; data: ActionRecord }> {
    if (!isActionState(subdb)) throw new OrkError('ERR_SUBDB_UNKOWN')
    const actionId = requireActionId(id)
    await this.ready()
    const data = await this.#read(subdb, actionId)
    if (!data) throw new OrkError('ERR_ACTION_ID_NOT_FOUND')
    return { id, key: encodeActionId(actionId), data }
  }

  /**
   * Iterates the actions of one state in id order (creation time), over a
   * snapshot taken when iteration starts. `range` bounds are ids; `limit` and
   * `reverse` may be given in either argument. The caller's objects are not modified.
   */
  async *query(
    subdb: ActionState,
    range: IdRange & { limit?: number; reverse?: boolean } = {},
    options: { limit?: number; reverse?: boolean } = {},
  ): AsyncGenerator<ActionRecord> {
    if (!isActionState(subdb)) throw new OrkError('ERR_SUBDB_UNKOWN')
    await this.ready()
    const merged = { ...objectOrEmpty(options), ...objectOrEmpty(range) }
    const keys = this.#keys!
    const stream = this.#bee!.createReadStream({
      ...keys.range(subdb, merged),
      ...(typeof merged.limit === 'number' && merged.limit >= 0 ? { limit: merged.limit } : {}),
      // hyperbee takes `reverse` by truthiness
      reverse: Boolean(merged.reverse),
      ...BINARY,
    })
    for await (const entry of stream) {
      const record = this.#decode(entry.value)
      if (record) yield record
      else this.#logger.warn('skipping unreadable action record', { state: subdb, key: entry.key.toString('hex') })
    }
  }

  /**
   * One execution pass: expires old voting actions (when configured), then runs
   * every action in `ready`, oldest first, one at a time. Resolves false when a
   * pass is already running, true when this one finished. Never rejects for a
   * failing action.
   */
  async execActions(): Promise<boolean> {
    if (this.#pass || this.#closing) return false
    this.#pass = this.#runPass().finally(() => {
      this.#pass = null
    })
    await this.#pass
    return true
  }

  #setBee(bee: ActionsBee): void {
    const candidate = bee as unknown as Record<string, unknown> | null
    if (
      candidate === null ||
      typeof candidate !== 'object' ||
      typeof candidate.get !== 'function' ||
      typeof candidate.batch !== 'function' ||
      typeof candidate.createReadStream !== 'function' ||
      typeof candidate.ready !== 'function'
    ) {
      throw new OrkError('ERR_OPTS_BEE_INSTANCE_INVALID')
    }
    this.#bee = bee
  }

  #requireExecutor(): ActionExecutor {
    if (!this.#executor) throw new OrkError('ERR_OPTS_WRK_INVALID_TYPE', { reason: 'no executor set' })
    return this.#executor
  }

  async #open(): Promise<void> {
    const bee = this.#bee
    if (!bee) throw new OrkError('ERR_OPTS_BEE_INSTANCE_INVALID', { reason: 'no store set' })
    await bee.ready()
    this.#keys = new ActionKeys(bee.prefix ?? null, bee.sep ?? Buffer.alloc(1))
    for (const state of ACTION_STATES) {
      for await (const entry of bee.createReadStream({
        ...this.#keys.range(state),
        reverse: true,
        limit: 1,
        ...BINARY,
      })) {
        const id = this.#keys.idOf(state, entry.key)
        if (id !== null && id > this.#lastId) this.#lastId = id
      }
    }
    await this.#recover()
  }

  /** Finishes actions a crash left in `executing`, and removes copies left by the reference's non-atomic moves. */
  async #recover(): Promise<void> {
    for (const id of await this.#ids('executing')) {
      await this.#mutex.run(id, async () => {
        const ops: WriteOperation[] = [{ del: 'executing', id }]
        if (!(await this.#exists('done', id))) {
          const record = (await this.#read('executing', id).catch(() => null)) ?? unreadableRecord(id)
          record.status = ACTION_STATUS.FAILED
          record.error = 'ERR_ACTION_INTERRUPTED'
          if (Array.isArray(record.payload)) this.#markCalls(record.payload, 'ERR_ACTION_INTERRUPTED')
          ops.unshift({ put: 'done', id, json: JSON.stringify(record) })
          this.#logger.warn('action interrupted by a restart', { id })
        }
        if (await this.#exists('ready', id)) ops.push({ del: 'ready', id })
        await this.#write(ops)
      })
    }
    for (const id of await this.#ids('ready')) {
      if (await this.#exists('done', id)) {
        this.#logger.warn('dropping a ready copy of an action already done', { id })
        await this.#mutex.run(id, () => this.#write([{ del: 'ready', id }]))
      }
    }
  }

  async #close(): Promise<void> {
    this.stopInterval()
    this.#currentRun?.interrupt()
    await this.#opening?.catch(() => {})
    await this.#pass
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  #track<T>(task: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new OrkError('ERR_APPROVER_CLOSED'))
    const promise = task()
    this.#inFlight.add(promise)
    const forget = () => this.#inFlight.delete(promise)
    promise.then(forget, forget)
    return promise
  }

  /**
   * Ids keep the reference's scheme (creation time in ms) but are made unique
   * without the reference's 50 ms sleep: never below the last id handed out or
   * found in the store, so a clock going backwards cannot overwrite an action.
   */
  #nextId(): number {
    const now = Date.now()
    const behind = this.#lastId - now > CLOCK_BEHIND_LOG_MS
    if (behind && !this.#clockBehindIds) {
      this.#logger.warn('wall clock is behind the last action id: new ids continue from it', {
        clock: now,
        lastId: this.#lastId,
      })
    }
    this.#clockBehindIds = behind
    const id = Math.max(now, this.#lastId + 1)
    this.#lastId = id
    return id
  }

  #decode(value: Buffer | null | undefined): ActionRecord | null {
    if (!value) return null
    try {
      const record = JSON.parse(value.toString('utf8')) as unknown
      return record !== null && typeof record === 'object' && !Array.isArray(record) ? (record as ActionRecord) : null
    } catch {
      return null
    }
  }

  async #read(state: ActionState, id: number): Promise<ActionRecord | null> {
    const entry = await this.#bee!.get(this.#keys!.key(state, id), BINARY)
    if (!entry) return null
    const record = this.#decode(entry.value)
    if (!record) throw new OrkError('ERR_ACTION_RECORD_INVALID', { state, id })
    return withKeyId(record, id)
  }

  async #exists(state: ActionState, id: number): Promise<boolean> {
    return (await this.#bee!.get(this.#keys!.key(state, id), BINARY)) !== null
  }

  async #ids(state: ActionState, range?: IdRange): Promise<number[]> {
    const keys = this.#keys!
    const ids: number[] = []
    for await (const entry of this.#bee!.createReadStream({ ...keys.range(state, range), ...BINARY })) {
      const id = keys.idOf(state, entry.key)
      if (id !== null) ids.push(id)
    }
    return ids
  }

  /** Loads an action from voting (expiring it first when it is too old); must run under the action's lock. */
  async #readVoting(id: number): Promise<ActionRecord> {
    const record = await this.#read('voting', id)
    if (!record) throw new OrkError('ERR_ACTION_ID_NOT_FOUND')
    if (this.#isExpired(id)) {
      await this.#expire(record, id)
      throw new OrkError('ERR_ACTION_ID_NOT_FOUND')
    }
    return record
  }

  #isExpired(id: number): boolean {
    return this.#votingExpiryMs > 0 && this.#votingDeadline(id) <= performance.now()
  }

  /**
   * When an action in voting expires, on the monotonic clock: a wall clock stepped forward
   * (NTP correcting a machine that booted in 1970) would expire every action at once, one
   * stepped back would keep them for the length of the step. Set at the push; an action this
   * process did not push (pushed before a restart) is read once by its id, its creation time:
   * what is left of its expiry then, at most the whole of it (a clock behind its id).
   */
  #votingDeadline(id: number): number {
    let deadline = this.#votingDeadlines.get(id)
    if (deadline === undefined) {
      const left = Math.min(Math.max(id + this.#votingExpiryMs - Date.now(), 0), this.#votingExpiryMs)
      deadline = performance.now() + left
      this.#votingDeadlines.set(id, deadline)
    }
    return deadline
  }

  async #expire(record: ActionRecord, id: number): Promise<void> {
    record.status = ACTION_STATUS.DENIED
    record.error = 'ERR_ACTION_EXPIRED'
    await this.#write([
      { del: 'voting', id },
      { put: 'done', id, json: JSON.stringify(record) },
    ])
    this.#votingDeadlines.delete(id)
    this.#logger.info('voting expired', { id })
  }

  async #move(record: ActionRecord, from: ActionState, to: ActionState): Promise<void> {
    await this.#write([
      { del: from, id: record.id },
      { put: to, id: record.id, json: JSON.stringify(record) },
    ])
    if (from === 'voting') this.#votingDeadlines.delete(record.id)
  }

  /** Applies the operations atomically (sharing a batch with concurrent writes, see {@link GroupCommit}). */
  #write(operations: WriteOperation[]): Promise<void> {
    return this.#commits.write(operations)
  }

  /**
   * Applies the operations as one Hyperbee batch: one append, all or nothing. A write the file
   * system refused rejects with `ERR_STORE_WRITE_FAILED` (its system code in `details`).
   */
  async #applyBatch(operations: WriteOperation[]): Promise<void> {
    const keys = this.#keys!
    const fill = async (batch: ReturnType<ActionsBee['batch']>) => {
      for (const operation of operations) {
        if ('put' in operation) {
          await batch.put(keys.key(operation.put, operation.id), Buffer.from(operation.json, 'utf8'))
        } else {
          await batch.del(keys.key(operation.del, operation.id))
        }
      }
    }
    await writeStoreBatch(this.#bee!.batch(BINARY), fill, this.#onWriteFailed)
  }

  #markCalls(payload: unknown[], code: string): void {
    try {
      this.#markUnfinishedCalls(payload, code)
    } catch (error) {
      this.#logger.warn('marking unfinished calls failed', { error })
    }
  }

  async #runPass(): Promise<void> {
    try {
      await this.ready()
      if (this.#votingExpiryMs > 0) await this.#expireVoting()
      if (!this.#executor) return
      const keys = this.#keys!
      // The move to `done` of one action is written together with the move to
      // `executing` of the next (one append for both instead of two in a row).
      let pendingDone: WriteOperation[] = []
      try {
        // Only this pass moves actions out of `ready`, so the values read are current. They are
        // read a page ahead so that store reads do not sit between one action and the next.
        const { lte } = keys.range('ready')
        let gt = keys.prefix('ready')
        let startFailed = false
        for (;;) {
          const page = await collect(this.#bee!.createReadStream({ gt, lte, limit: READY_PAGE, ...BINARY }))
          for (const entry of page) {
            if (this.#closing) break
            gt = entry.key
            const id = keys.idOf('ready', entry.key)
            if (id === null) continue
            const carried = pendingDone
            pendingDone = []
            const done = await this.#executeOne(id, this.#decode(entry.value), carried)
            // An action that could not start ends the pass: the ones after it wait for the next
            // pass rather than run before it (and a store refusing writes is tried once a pass).
            if (done === null) {
              startFailed = true
              break
            }
            pendingDone = done
          }
          if (page.length < READY_PAGE || this.#closing || startFailed) break
        }
      } finally {
        if (pendingDone.length > 0) {
          await this.#write(pendingDone).catch((error: unknown) => {
            this.#logger.error('could not finish an action; it is finished at the next start', { error })
          })
        }
      }
    } catch (error) {
      this.#logger.error('execution pass failed', { error })
    }
  }

  async #expireVoting(): Promise<void> {
    // Every voting id: ids are creation times on the wall clock, which says nothing reliable
    // about which have expired (see #votingDeadline).
    for (const id of await this.#ids('voting')) {
      if (!this.#isExpired(id)) continue
      await this.#mutex.run(id, async () => {
        const record = await this.#read('voting', id).catch(() => null)
        if (record && this.#isExpired(id)) await this.#expire(record, id)
      })
    }
  }

  /**
   * Runs one ready action until the worker has answered, writing `carried`
   * (the previous action's move to `done`) with its move to `executing`.
   * Returns the operations that move it to `done`, or null when its start could
   * not be written (nothing was sent; it stays ready). Never rejects.
   */
  async #executeOne(
    id: number,
    stored: ActionRecord | null,
    carried: WriteOperation[],
  ): Promise<WriteOperation[] | null> {
    let started: ActionRecord | null
    try {
      started = await this.#startExecution(id, stored, carried)
    } catch (error) {
      this.#logger.error('could not start an action', { id, error })
      // The previous action is over: its move to `done` is written on its own, so that it does
      // not wait in `executing` for the next start, which would end it as interrupted.
      if (carried.length > 0) {
        await this.#write(carried).catch((doneError: unknown) => {
          this.#logger.error('could not finish an action; it is finished at the next start', { error: doneError })
        })
      }
      return null
    }
    if (!started) return []
    const record = started
    if (this.#closing) {
      // close() came while the start was being written: nothing was sent, so the action
      // goes back to `ready` and runs after the next start, rather than ending interrupted.
      record.status = ACTION_STATUS.APPROVED
      return [
        { del: 'executing', id },
        { put: 'ready', id, json: JSON.stringify(record) },
      ]
    }
    const run = new ExecutionRun(record, this.#executionTimeoutFor(record), (json) =>
      this.#write([{ put: 'executing', id, json }]),
    )
    this.#currentRun = run
    try {
      const outcome = await this.#invoke(record, run)
      return await this.#finalOperations(record, run, outcome)
    } catch (error) {
      this.#logger.error('could not finish an action; it is finished at the next start', { id, error })
      return []
    } finally {
      this.#currentRun = null
    }
  }

  async #startExecution(
    id: number,
    record: ActionRecord | null,
    carried: WriteOperation[],
  ): Promise<ActionRecord | null> {
    if (!record) {
      await this.#write([
        ...carried,
        { put: 'done', id, json: JSON.stringify(unreadableRecord(id)) },
        { del: 'ready', id },
      ])
      return null
    }
    withKeyId(record, id)
    record.status = ACTION_STATUS.EXECUTING
    let json: string
    try {
      json = JSON.stringify(record)
    } catch {
      json = JSON.stringify(unreadableRecord(id))
    }
    await this.#write([...carried, { put: 'executing', id, json }, { del: 'ready', id }])
    return record
  }

  #executionTimeoutFor(record: ActionRecord): number {
    const timeout = this.#executionTimeoutMs
    if (typeof timeout === 'number') return timeout
    try {
      const ms = timeout(record)
      if (isPositiveNumber(ms)) return Math.min(ms, MAX_TIMER_MS)
      this.#logger.warn('execution deadline is not a positive number; using the default', { id: record.id, ms })
    } catch (error) {
      this.#logger.warn('execution deadline failed; using the default', { id: record.id, error })
    }
    return DEFAULT_EXECUTION_TIMEOUT_MS
  }

  #invoke(record: ActionRecord, run: ExecutionRun): Promise<Outcome> {
    const payload = record.payload
    if (!Array.isArray(payload) || !Array.isArray(payload[0])) {
      return Promise.resolve({ kind: 'invalid', code: 'ERR_PAYLOAD_INVALID' })
    }
    const executor = this.#executor!
    let known = false
    try {
      known = typeof record.action === 'string' && executor.hasAction(record.action) === true
    } catch {
      known = false
    }
    if (!known) return Promise.resolve({ kind: 'invalid', code: 'ERR_ACTION_UNKOWN' })
    const user = arrayOrEmpty(record.votesPos)[0] as Voter
    const args = [[...payload[0], { actionId: record.id, user }], ...payload.slice(1)]
    return run.invoke(() => executor.execute(record.action, args, run.context(record.id, user)))
  }

  /** Stops the run's checkpoints and builds the move of the action to `done` with its outcome. */
  async #finalOperations(record: ActionRecord, run: ExecutionRun, outcome: Outcome): Promise<WriteOperation[]> {
    await run.end()
    const payload = Array.isArray(record.payload) ? record.payload : []
    switch (outcome.kind) {
      case 'result':
        record.status = ACTION_STATUS.COMPLETED
        if (outcome.value !== undefined) record.result = outcome.value
        break
      case 'error':
        record.status = ACTION_STATUS.FAILED
        record.error = format(outcome.error)
        break
      case 'timeout':
      case 'interrupted': {
        const code = outcome.kind === 'timeout' ? 'ERR_ACTION_TIMEOUT' : 'ERR_ACTION_INTERRUPTED'
        record.status = ACTION_STATUS.FAILED
        record.error = code
        this.#markCalls(payload, code)
        break
      }
      case 'invalid':
        record.status = ACTION_STATUS.FAILED
        record.error = outcome.code
        break
    }
    if (outcome.kind !== 'result') this.#logger.warn('action failed', { id: record.id, error: record.error })
    return [
      { put: 'done', id: record.id, json: finalJson(record, run.lastPayloadJson) },
      { del: 'executing', id: record.id },
    ]
  }
}

/**
 * The record's JSON as it can be stored. A result JSON cannot encode (BigInt, circular) fails the
 * action with `ERR_ACTION_RESULT_INVALID`, a record grown larger than the store takes (a huge
 * result or payload) with `ERR_ACTION_TOO_LARGE`, both without the result; a payload the worker
 * made unusable falls back to its last persisted form. Without this an action whose move to
 * `done` could not be written would stay `executing` until the next start.
 */
function finalJson(record: ActionRecord, lastPayloadJson: string): string {
  const whole = safeStringify(record)
  if (whole !== undefined && fitsTheStore(whole)) return whole
  const { result: _dropped, ...rest } = record
  const error = whole === undefined ? 'ERR_ACTION_RESULT_INVALID' : 'ERR_ACTION_TOO_LARGE'
  const failed: ActionRecord = { ...rest, status: ACTION_STATUS.FAILED, error }
  const withoutResult = safeStringify(failed)
  if (withoutResult !== undefined && fitsTheStore(withoutResult)) return withoutResult
  return JSON.stringify({ ...failed, payload: JSON.parse(lastPayloadJson) as unknown })
}

/**
 * The key is the action's identity: a stored record whose `id` says otherwise (missing, or
 * another action's) takes the key's, so that moving it can never touch another action's keys.
 */
function withKeyId(record: ActionRecord, id: number): ActionRecord {
  if (record.id !== id) record.id = id
  return record
}

function isPositiveNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

function unreadableRecord(id: number): ActionRecord {
  return {
    id,
    action: '',
    payload: [],
    votesPos: [],
    votesNeg: [],
    reqVotesPos: 1,
    reqVotesNeg: 1,
    status: ACTION_STATUS.FAILED,
    error: 'ERR_ACTION_RECORD_INVALID',
  }
}

function objectOrEmpty<T extends object>(value: T): Partial<T> {
  return value !== null && typeof value === 'object' ? value : {}
}

function arrayOrEmpty(value: unknown): Voter[] {
  return Array.isArray(value) ? (value as Voter[]) : []
}
