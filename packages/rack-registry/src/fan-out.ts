import { OrkError } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import pLimit from 'p-limit'
import { classifyRackFailure, RackHealth, type RackHealthEntry, type RackHealthOptions } from './health.ts'
import type { RackRecord } from './registry.ts'
import { defaultMaxHeldReplySize, HeldReplies, parsedSizeEstimate, ReplyBudget } from './reply-limits.ts'

/**
 * What fan-outs need from a transport: `RpcNode.request` of @ork/rpc-transport satisfies it.
 * It resolves with the parsed JSON reply and rejects on remote or transport failure.
 */
export interface RackRequester {
  request(
    key: string | Buffer,
    method: string,
    data: unknown,
    options?: { timeout?: number; onReply?: (body: Buffer) => void; decode?: (body: Buffer) => unknown },
  ): Promise<unknown>
}

/** One rack's outcome in a fan-out. */
export type FanOutResult<T = unknown> =
  | { rack: RackRecord; ok: true; value: T }
  | { rack: RackRecord; ok: false; error: Error }

/** Per-call limits; the defaults are the reference's fan-out parameters (ork-behaviour.md 3.2). */
export interface FanOutOptions {
  /** Racks asked at a time (default 25). */
  concurrency?: number
  /** Deadline of each rack's request in ms (default 10000); down racks get the probe deadline. */
  timeout?: number
  /** The request changes the rack (see {@link CallOptions.write}). */
  write?: boolean
  /**
   * For methods whose reply concatenates the racks' replies, so that it is at least their sum:
   * the largest reply the caller can send (the transport's message limit). Once the racks'
   * replies add up to more, the fan-out stops at once and rejects with
   * `ERR_FACS_NET_PAYLOAD_TOO_LARGE`, the error the reply would get: racks not yet asked are
   * not asked, replies still on their way are dropped unparsed.
   */
  maxReplyBytes?: number
  /**
   * Decodes each rack's reply bytes in place of the transport's JSON decoding (see
   * {@link CallOptions.decode}); `index` is the rack's place in `racks`.
   */
  decodeReply?: (body: Buffer, rack: RackRecord, index: number) => unknown
}

/** Options of one rack's request. */
export interface CallOptions {
  /** Deadline in ms (default: the fan-out's timeout). */
  timeout?: number
  /**
   * The request changes the rack: it always gets its full deadline, even when the rack is
   * down. Cut short, a write the rack still carries out would be reported as failed.
   */
  write?: boolean
  /** Called with the reply's bytes before they are parsed; what it throws fails the request. */
  onReply?: (body: Buffer) => void
  /**
   * Decodes the reply's bytes in place of the transport's JSON decoding: the call resolves with
   * what it returns, and what it throws fails the request like an undecodable reply.
   */
  decode?: (body: Buffer) => unknown
}

/** The payload sent to every rack, or a function building each rack's own payload. */
export type FanOutPayload = unknown | ((rack: RackRecord) => unknown)

export interface RackFanOutOptions extends RackHealthOptions {
  transport: RackRequester
  /** Default concurrency of {@link RackFanOut.fanOut} (25). */
  concurrency?: number
  /** Default request timeout in ms (10000). */
  timeout?: number
  /**
   * Most heap the rack replies kept at once by all fan-outs together may take once parsed, as
   * {@link parsedSizeEstimate} reckons it before parsing (default: a quarter of the heap limit, 1 GiB
   * under node's default 4 GiB). A reply that would take them past it is refused unparsed, as
   * that rack's failure (`ERR_FACS_NET_PAYLOAD_TOO_LARGE`), under each method's own policy for
   * a failed rack.
   */
  maxHeldReplySize?: number
  logger?: Logger
}

/** The reference's fan-out concurrency. */
export const DEFAULT_FAN_OUT_CONCURRENCY = 25
/** The reference's fan-out timeout in ms. */
export const DEFAULT_FAN_OUT_TIMEOUT = 10_000

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function checkLimit(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1) throw new OrkError('ERR_OPTS_INVALID', { option, value })
  return value
}

/**
 * Asks racks over the transport and keeps their health. Failure policies (swallow, null entry,
 * `0`, rethrow) belong to each worker method and are built on the settled results returned here.
 */
export class RackFanOut {
  readonly #transport: RackRequester
  readonly #health: RackHealth
  readonly #logger: Logger
  readonly #concurrency: number
  readonly #timeout: number
  /** Racks (id and key) with a liveness probe in flight. */
  readonly #probing = new Set<string>()
  readonly #heldReplies: HeldReplies

  constructor(options: RackFanOutOptions) {
    this.#transport = options.transport
    this.#logger = options.logger ?? silentLogger
    this.#health = new RackHealth({ ...options, logger: this.#logger })
    this.#concurrency = checkLimit(options.concurrency ?? DEFAULT_FAN_OUT_CONCURRENCY, 'concurrency')
    this.#timeout = checkLimit(options.timeout ?? DEFAULT_FAN_OUT_TIMEOUT, 'timeout')
    const maxHeldReplySize = checkLimit(options.maxHeldReplySize ?? defaultMaxHeldReplySize(), 'maxHeldReplySize')
    this.#heldReplies = new HeldReplies(maxHeldReplySize, this.#logger)
  }

  /**
   * Sends `method` to every rack, at most `concurrency` at a time, and settles with one result
   * per rack in the order of `racks`. Each rack's failure is in its result: the only rejection
   * is `ERR_FACS_NET_PAYLOAD_TOO_LARGE` for a fan-out over its `maxReplyBytes`.
   */
  async fanOut<T = unknown>(
    racks: readonly RackRecord[],
    method: string,
    payload: FanOutPayload,
    options: FanOutOptions = {},
  ): Promise<FanOutResult<T>[]> {
    const concurrency = checkLimit(options.concurrency ?? this.#concurrency, 'concurrency')
    const timeout = checkLimit(options.timeout ?? this.#timeout, 'timeout')
    const budget =
      options.maxReplyBytes === undefined
        ? null
        : new ReplyBudget(checkLimit(options.maxReplyBytes, 'maxReplyBytes'), method, racks.length)
    const limit = pLimit(concurrency)
    /** Estimated size of the replies this fan-out keeps, held until it settles (its results keep them). */
    let heldSize = 0
    const settled = Promise.all(
      racks.map((rack, index) =>
        limit(async (): Promise<FanOutResult<T>> => {
          if (budget?.exceeded) return { rack, ok: false, error: budget.error }
          /** This rack's reply as taken: given back if it then fails. */
          let taken = { bytes: 0, size: 0 }
          const onReply = (body: Buffer) => {
            const reply = { bytes: body.byteLength, size: parsedSizeEstimate(body) }
            this.#heldReplies.take(reply.size, method, rack.id)
            try {
              budget?.take(reply.bytes)
            } catch (error) {
              this.#heldReplies.giveBack(reply.size)
              throw error
            }
            taken = reply
            heldSize += reply.size
          }
          try {
            const data = typeof payload === 'function' ? payload(rack) : payload
            const { decodeReply } = options
            const decode = decodeReply ? (body: Buffer) => decodeReply(body, rack, index) : undefined
            const callOptions = { timeout, write: options.write === true, onReply, ...(decode ? { decode } : {}) }
            const value = (await this.call(rack, method, data, callOptions)) as T
            return { rack, ok: true, value }
          } catch (error) {
            budget?.giveBack(taken.bytes)
            this.#heldReplies.giveBack(taken.size)
            heldSize -= taken.size
            return { rack, ok: false, error: asError(error) }
          }
        }),
      ),
    ).finally(() => this.#heldReplies.giveBack(heldSize))
    if (!budget) return settled
    // Rejecting at once answers the caller without waiting for the requests still out (up to their
    // deadline); their replies are dropped unparsed as they arrive.
    return Promise.race([settled, budget.overflow]).catch((error: unknown) => {
      this.#logger.warn('rack replies exceed what one reply can carry: request refused', budget.summary())
      throw error
    })
  }

  /**
   * Sends `method` to one rack (the ONE selection) and updates its health. Rejects with the
   * transport's error, or `ERR_RACK_INFO_RPC_PUBKEY_INVALID` for a stored rack without a key.
   */
  async call(rack: RackRecord, method: string, payload: unknown, options: CallOptions = {}): Promise<unknown> {
    const key = rack?.info?.rpcPublicKey
    if (typeof key !== 'string' || key.length === 0) throw new OrkError('ERR_RACK_INFO_RPC_PUBKEY_INVALID')
    const identity = { id: rack.id, rpcPublicKey: key }
    const fullTimeout = options.timeout ?? this.#timeout
    const timeout = options.write ? fullTimeout : this.#health.deadlineFor(identity, fullTimeout)
    if (timeout < fullTimeout) this.#probeLiveness(identity, fullTimeout)
    const sentAt = this.#health.monotonicNow()
    const ticket = this.#health.begin()
    try {
      const value = await this.#transport.request(key, method, payload, {
        timeout,
        ...(options.onReply ? { onReply: options.onReply } : {}),
        ...(options.decode ? { decode: options.decode } : {}),
      })
      // The rack may have been forgotten or re-keyed meanwhile: its late outcome is then dropped.
      if (this.#health.isCurrent(identity, ticket)) this.#health.recordAnswer(identity)
      return value
    } catch (error) {
      const current = this.#health.isCurrent(identity, ticket)
      const kind = current ? this.#health.recordFailure(identity, error, sentAt) : classifyRackFailure(error)
      this.#logger.debug('rack request failed', { rackId: rack.id, method, kind, timeout, error })
      throw error
    }
  }

  /**
   * Asks a down rack's `echo` in the background, with the full deadline: any answer (an
   * unknown method included) proves it alive and brings it up, whatever its methods cost.
   */
  #probeLiveness(identity: { id: string; rpcPublicKey: string }, timeout: number): void {
    // Per key: a probe still waiting on a rack's old key must not hold up its new key's.
    const probe = `${identity.id}\n${identity.rpcPublicKey}`
    if (this.#probing.has(probe) || !this.#health.claimLivenessProbe(identity)) return
    this.#probing.add(probe)
    const ticket = this.#health.begin()
    const answered = () => {
      if (this.#health.isCurrent(identity, ticket)) this.#health.recordAnswer(identity)
    }
    this.#transport
      .request(identity.rpcPublicKey, 'echo', {}, { timeout })
      .then(answered, (error: unknown) => {
        if (classifyRackFailure(error) === 'answered') answered()
      })
      .finally(() => this.#probing.delete(probe))
  }

  /** Snapshot of every contacted rack's health (for a status method and for logs). */
  health(): RackHealthEntry[] {
    return this.#health.snapshot()
  }

  /** Forgets the health of racks that were removed from the registry (all when omitted). */
  forgetHealth(rackIds?: Iterable<string>): void {
    this.#health.forget(rackIds)
  }
}
