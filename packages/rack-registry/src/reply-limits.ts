import { getHeapStatistics } from 'node:v8'
import { OrkError } from '@ork/errors'
import type { Logger } from '@ork/logger'

/** Heap an object or array takes once parsed, beyond its JSON text, as reckoned here (bytes). */
const PARSED_CONTAINER_BYTES = 64
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b

/**
 * The heap a JSON reply may take once parsed, reckoned before parsing it: its size plus
 * {@link PARSED_CONTAINER_BYTES} per `{` or `[` (those inside strings too: it errs on the large
 * side). Racks' things parse to 1.5-3 times their size, but `[{},{},…]` to over 20 times: the
 * size alone would let a few such replies fill the heap. Counted with the native `indexOf`: on
 * 14 MiB of things, 10-15 ms against 160-200 ms for the parse (a loop in JavaScript took 25-30 ms).
 */
export function parsedSizeEstimate(body: Buffer): number {
  let containers = 0
  for (const byte of [OPEN_BRACE, OPEN_BRACKET]) {
    for (let index = body.indexOf(byte); index !== -1; index = body.indexOf(byte, index + 1)) containers++
  }
  return body.length + containers * PARSED_CONTAINER_BYTES
}

/** A quarter of the heap limit (node's `--max-old-space-size`): 1 GiB under node's default 4 GiB. */
export function defaultMaxHeldReplySize(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / 4)
}

/**
 * What the rack replies kept by every running fan-out take once parsed, against a bound: a
 * request, or several at once, with many racks answering large replies must not exhaust the heap
 * and take the process (every rack's actions, the API node's link) down with it.
 */
export class HeldReplies {
  #size = 0

  constructor(
    readonly max: number,
    readonly logger: Logger,
  ) {}

  /** Counts a reply about to be parsed, or refuses it (unparsed) when there is no room for it. */
  take(size: number, method: string, rackId: string): void {
    if (this.#size + size > this.max) {
      const details = { method, rackId, size, heldSize: this.#size, max: this.max }
      this.logger.warn('rack reply refused: the replies kept at once would take too much memory', details)
      throw new OrkError('ERR_FACS_NET_PAYLOAD_TOO_LARGE', { reason: 'replies held at once', ...details })
    }
    this.#size += size
  }

  giveBack(size: number): void {
    this.#size -= size
  }
}

/**
 * The running total of one fan-out's reply bytes against `maxReplyBytes` (see FanOutOptions).
 * A rack's reply adds at least its size less its brackets to a concatenated reply (racks write
 * compact JSON, which the ork writes out again unchanged): past the limit, the reply is too large.
 */
export class ReplyBudget {
  /** Bytes of the replies taken so far, each less the 2 bytes of its brackets. */
  #total = 0
  #rejectOverflow: (error: OrkError) => void = () => {}
  /** Rejects with {@link error} once the replies exceed the limit. */
  readonly overflow: Promise<never>
  readonly error: OrkError
  exceeded = false

  constructor(
    readonly max: number,
    readonly method: string,
    readonly racks: number,
  ) {
    this.error = new OrkError('ERR_FACS_NET_PAYLOAD_TOO_LARGE', { method, max })
    this.overflow = new Promise<never>((_resolve, reject) => {
      this.#rejectOverflow = reject
    })
    // Rejected only when a caller races it; never an unhandled rejection otherwise.
    this.overflow.catch(() => {})
  }

  /**
   * Counts a reply before it is parsed, or refuses it when it takes the total past the limit.
   * Counted here rather than once parsed: several replies can be parsed before any of their
   * callers resumes.
   */
  take(bytes: number): void {
    if (this.exceeded) throw this.error
    this.#total += Math.max(0, bytes - 2)
    if (this.#total <= this.max) return
    this.exceeded = true
    this.#rejectOverflow(this.error)
    throw this.error
  }

  /** Uncounts a reply taken that then failed (an error reply, undecodable): it adds nothing. */
  giveBack(bytes: number): void {
    this.#total -= Math.max(0, bytes - 2)
  }

  summary(): Record<string, unknown> {
    return { method: this.method, racks: this.racks, bytes: this.#total, max: this.max }
  }
}
