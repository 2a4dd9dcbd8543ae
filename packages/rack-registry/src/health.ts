import { OrkError } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'

/** How a failed rack request bears on the rack's health. */
export type RackFailureKind =
  /** The rack answered (application error, unknown method, bad reply): it is alive. */
  | 'answered'
  /** No answer (timeout, closed channel, anything unrecognised): counts toward marking it down. */
  | 'unreachable'
  /** A failure on our side (client closing, rack record without a key, unencodable request): says nothing about the rack. */
  | 'local'

/** Transport codes that prove the remote side received the request and replied (a reply too large or undecodable included). */
const ANSWERED_CODES = new Set([
  'UNKNOWN_METHOD',
  'REQUEST_ERROR',
  'DECODE_ERROR',
  'ENCODE_ERROR',
  'ERR_FACS_NET_DATA_FORMAT',
  'ERR_FACS_NET_PAYLOAD_TOO_LARGE',
])
/** Failures on this side: the rack was never asked (no key, a bad key, a node not started, our own close). */
const LOCAL_CODES = new Set([
  'CLIENT_CLOSED',
  'CHANNEL_DESTROYED',
  'ERR_RACK_INFO_RPC_PUBKEY_INVALID',
  'ERR_RACK_PAYLOAD_INVALID',
  'ERR_FACS_NET_PUBLIC_KEY_INVALID',
  'ERR_FACS_NET_RPC_NOTFOUND',
])
const REMOTE_ERROR_PREFIX = '[HRPC_ERR]='

/**
 * Sorts a rack request failure. Matching is structural (`code`, `name`, message prefix) so it
 * works with the errors of @ork/rpc-transport and with raw @hyperswarm/rpc errors alike.
 */
export function classifyRackFailure(error: unknown): RackFailureKind {
  const { code, name, message, details } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown
    name?: unknown
    message?: unknown
    details?: { stage?: unknown }
  }
  // The request could not even be encoded (too large, unencodable): it never left this node.
  if (details?.stage === 'request') return 'local'
  if (name === 'RemoteError') return 'answered'
  if (typeof message === 'string' && message.slice(0, 15).includes(REMOTE_ERROR_PREFIX)) return 'answered'
  if (typeof code === 'string' && ANSWERED_CODES.has(code)) return 'answered'
  if (typeof code === 'string' && LOCAL_CODES.has(code)) return 'local'
  if (message === 'RPC client closed') return 'local'
  return 'unreachable'
}

/** A snapshot of one rack's health. Times are epoch milliseconds, `null` when it never happened. */
export interface RackHealthEntry {
  rackId: string
  rpcPublicKey: string
  /** `down` after `downAfterFailures` consecutive unreachable failures, until the rack answers again. */
  state: 'up' | 'down'
  /** Last time the rack answered, including with an application error: proof it is alive. */
  lastSuccessAt: number | null
  /** Last unreachable failure, and its message. */
  lastFailureAt: number | null
  lastFailure: string | null
  consecutiveFailures: number
  downSince: number | null
}

export interface RackHealthOptions {
  /** Consecutive unreachable failures after which a rack is marked down (default 3). */
  downAfterFailures?: number
  /** Deadline of requests to a down rack, in ms (default 1000); never longer than the caller's timeout. */
  probeTimeout?: number
  /**
   * A down rack gets the caller's full deadline on one request every this many ms (default
   * 30000), so that a rack slower to answer than `probeTimeout` can come back up.
   */
  fullDeadlineEvery?: number
  /**
   * While a rack is down, a liveness probe (the rack's `echo`, with the full deadline) is sent
   * in the background at most this often, in ms (default 5000), when a request to it is cut to
   * the probe deadline: a rack that is back but slower than `probeTimeout` to answer its methods
   * is then up again within seconds, with its replies counted.
   */
  livenessProbeEvery?: number
  logger?: Logger
  /** Clock of the snapshot's times (epoch ms; default `Date.now`). */
  now?: () => number
  /**
   * Clock of the elapsed times health decides on (ms; default `performance.now`): it must not
   * follow steps of the wall clock, or a clock stepped back would keep a down rack from its
   * full deadlines and probes, and count each new failure as part of an old stall.
   */
  monotonicNow?: () => number
}

/** When an entry's events happened on the monotonic clock (the entry's own times are wall-clock times). */
interface MonotonicTimes {
  answeredAt: number | null
  failedAt: number | null
  downAt: number | null
}

/** The identity health is tracked under: a re-registration with a new key starts afresh. */
export interface RackIdentity {
  id: string
  rpcPublicKey: string
}

/** Forgotten rack ids remembered for {@link RackHealth.isCurrent}. */
export const FORGOTTEN_IDS_KEPT = 4096

/**
 * Per-rack liveness bookkeeping. A rack that stops answering is only probed with a short
 * deadline, so one dead rack no longer costs every fan-out the full timeout (ork-behaviour.md 0:
 * a rack that accepts the connection and never replies costs 10 s on every fan-out).
 */
export class RackHealth {
  readonly downAfterFailures: number
  readonly probeTimeout: number
  readonly fullDeadlineEvery: number
  readonly livenessProbeEvery: number
  readonly #logger: Logger
  readonly #now: () => number
  readonly #monotonicNow: () => number
  readonly #entries = new Map<string, RackHealthEntry>()
  /** Monotonic times of each entry. */
  readonly #times = new WeakMap<RackHealthEntry, MonotonicTimes>()
  /** When each down rack last got a full deadline (monotonic clock). */
  readonly #lastFullDeadline = new Map<string, number>()
  /** When each down rack was last given a liveness probe (monotonic clock). */
  readonly #lastLivenessProbe = new Map<string, number>()
  /**
   * Request tickets (see {@link begin}) increase with every request and every forget, so they
   * order them: an outcome is stale when its rack was forgotten, or its entry replaced by another
   * key, after the request left.
   */
  #ticket = 0
  /** Ticket at which each forgotten rack id was forgotten (at most {@link FORGOTTEN_IDS_KEPT} ids). */
  readonly #forgottenAt = new Map<string, number>()
  /** Ticket before which every outcome is stale: the last forget of every rack, or of too many ids. */
  #allForgottenAt = 0
  /** Ticket at which each entry was created. */
  readonly #createdAt = new WeakMap<RackHealthEntry, number>()

  constructor(options: RackHealthOptions = {}) {
    this.downAfterFailures = positiveInteger(options.downAfterFailures ?? 3, 'downAfterFailures')
    this.probeTimeout = positiveInteger(options.probeTimeout ?? 1000, 'probeTimeout')
    this.fullDeadlineEvery = positiveInteger(options.fullDeadlineEvery ?? 30_000, 'fullDeadlineEvery')
    this.livenessProbeEvery = positiveInteger(options.livenessProbeEvery ?? 5000, 'livenessProbeEvery')
    this.#logger = options.logger ?? silentLogger
    this.#now = options.now ?? Date.now
    this.#monotonicNow = options.monotonicNow ?? (() => performance.now())
  }

  /**
   * The deadline to use for a request to `rack` when the caller allows `timeout` ms: the
   * probe deadline while the rack is down, except for one request every `fullDeadlineEvery`.
   */
  deadlineFor(rack: RackIdentity, timeout: number): number {
    if (!this.isDown(rack)) return timeout
    const now = this.#monotonicNow()
    const entry = this.#entries.get(rack.id)
    const since = this.#lastFullDeadline.get(rack.id) ?? (entry && this.#times.get(entry)?.downAt) ?? now
    if (now - since >= this.fullDeadlineEvery) {
      this.#lastFullDeadline.set(rack.id, now)
      return timeout
    }
    return Math.min(timeout, this.probeTimeout)
  }

  /** True when a down rack is due a liveness probe; the caller then sends it. */
  claimLivenessProbe(rack: RackIdentity): boolean {
    if (!this.isDown(rack)) return false
    const now = this.#monotonicNow()
    const last = this.#lastLivenessProbe.get(rack.id)
    if (last !== undefined && now - last < this.livenessProbeEvery) return false
    this.#lastLivenessProbe.set(rack.id, now)
    return true
  }

  isDown(rack: RackIdentity): boolean {
    const entry = this.#entries.get(rack.id)
    return entry !== undefined && entry.rpcPublicKey === rack.rpcPublicKey && entry.state === 'down'
  }

  /** Records that the rack answered (successfully or with an application error). */
  recordAnswer(rack: RackIdentity): void {
    const entry = this.#entry(rack)
    if (entry.state === 'down' && entry.downSince !== null) {
      // A date an operator reads, where the snapshot keeps epoch milliseconds.
      this.#logger.info('rack answers again', { rackId: rack.id, downSince: new Date(entry.downSince).toISOString() })
    }
    entry.lastSuccessAt = this.#now()
    this.#timesOf(entry).answeredAt = this.#monotonicNow()
    entry.consecutiveFailures = 0
    entry.state = 'up'
    entry.downSince = null
    this.#lastFullDeadline.delete(rack.id)
    this.#lastLivenessProbe.delete(rack.id)
  }

  /**
   * A ticket for a request about to be sent; the request's outcome is recorded only
   * when {@link isCurrent} still holds for it once it settles.
   */
  begin(): number {
    return ++this.#ticket
  }

  /**
   * False for the outcome of a request (its {@link begin} ticket) that says nothing about the
   * rack as now registered: the rack was forgotten after it left (recording it would bring back
   * a forgotten rack's entry), or the rack's entry is now for another key, created after it left
   * (a re-registration: the old key's late answer or failure would replace the new key's health).
   */
  isCurrent(rack: RackIdentity, ticket: number): boolean {
    if (Math.max(this.#forgottenAt.get(rack.id) ?? 0, this.#allForgottenAt) > ticket) return false
    const entry = this.#entries.get(rack.id)
    if (!entry || entry.rpcPublicKey === rack.rpcPublicKey) return true
    return (this.#createdAt.get(entry) ?? 0) <= ticket
  }

  /** The monotonic clock: pass its reading taken when a request is sent to {@link recordFailure}. */
  monotonicNow(): number {
    return this.#monotonicNow()
  }

  /**
   * Records a failed request; only an unreachable failure moves the rack toward `down`, and
   * only one sent (`sentAt`, a {@link monotonicNow} reading) after the last recorded failure and
   * the last answer: requests that were in flight together fail together in one stall, which
   * is one failure, not several; and a rack that answered after the request left is alive.
   */
  recordFailure(rack: RackIdentity, error: unknown, sentAt?: number): RackFailureKind {
    const kind = classifyRackFailure(error)
    if (kind === 'answered') this.recordAnswer(rack)
    if (kind !== 'unreachable') return kind
    const entry = this.#entry(rack)
    const times = this.#timesOf(entry)
    const now = this.#monotonicNow()
    const sameStall = sentAt !== undefined && times.failedAt !== null && sentAt < times.failedAt
    // The rack answered something after this request left (a liveness probe, say): it is alive,
    // and this request only outlasted the deadline it was given.
    const answeredSince = sentAt !== undefined && times.answeredAt !== null && times.answeredAt >= sentAt
    entry.lastFailureAt = this.#now()
    times.failedAt = now
    entry.lastFailure = error instanceof Error ? error.message : String(error)
    if (sameStall || answeredSince) return kind
    entry.consecutiveFailures += 1
    if (entry.state === 'up' && entry.consecutiveFailures >= this.downAfterFailures) {
      entry.state = 'down'
      entry.downSince = entry.lastFailureAt
      times.downAt = now
      this.#logger.warn('rack marked down', {
        rackId: rack.id,
        consecutiveFailures: entry.consecutiveFailures,
        lastFailure: entry.lastFailure,
      })
    }
    return kind
  }

  /** Copies of every tracked rack's health, in order of first contact. */
  snapshot(): RackHealthEntry[] {
    return [...this.#entries.values()].map((entry) => ({ ...entry }))
  }

  /** Drops the health of racks that were forgotten (all when `rackIds` is omitted). */
  forget(rackIds?: Iterable<string>): void {
    const ticket = ++this.#ticket
    if (!rackIds) {
      this.#allForgottenAt = ticket
      this.#forgottenAt.clear()
      this.#entries.clear()
      this.#lastFullDeadline.clear()
      this.#lastLivenessProbe.clear()
      return
    }
    for (const id of rackIds) {
      this.#forgottenAt.set(id, ticket)
      this.#entries.delete(id)
      this.#lastFullDeadline.delete(id)
      this.#lastLivenessProbe.delete(id)
    }
    // Bounded in a process that runs for months: past the cap, every request in flight counts as
    // stale instead (dropping a few outcomes costs nothing; health is rebuilt by the next ones).
    if (this.#forgottenAt.size > FORGOTTEN_IDS_KEPT) {
      this.#allForgottenAt = ticket
      this.#forgottenAt.clear()
    }
  }

  #timesOf(entry: RackHealthEntry): MonotonicTimes {
    let times = this.#times.get(entry)
    if (!times) {
      times = { answeredAt: null, failedAt: null, downAt: null }
      this.#times.set(entry, times)
    }
    return times
  }

  #entry(rack: RackIdentity): RackHealthEntry {
    let entry = this.#entries.get(rack.id)
    if (!entry || entry.rpcPublicKey !== rack.rpcPublicKey) {
      this.#lastFullDeadline.delete(rack.id)
      entry = {
        rackId: rack.id,
        rpcPublicKey: rack.rpcPublicKey,
        state: 'up',
        lastSuccessAt: null,
        lastFailureAt: null,
        lastFailure: null,
        consecutiveFailures: 0,
        downSince: null,
      }
      this.#createdAt.set(entry, this.#ticket)
      this.#entries.set(rack.id, entry)
    }
    return entry
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new OrkError('ERR_OPTS_INVALID', { option: name, value })
  return value
}
