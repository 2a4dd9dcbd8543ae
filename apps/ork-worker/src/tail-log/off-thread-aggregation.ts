import { existsSync } from 'node:fs'
import { getHeapStatistics } from 'node:v8'
import { Worker } from 'node:worker_threads'
import { OrkError } from '@ork/errors'
import type { Logger } from '@ork/logger'
import { decodeJsonReply } from '@ork/rpc-transport'
import type { AggrTimeRange, TailLogSpec } from '@ork/stats'
import { type FromThread, restoreError, type ToThread } from './aggregation-protocol.ts'

/**
 * tailLog's decoding and aggregation of rack replies, on a thread of their own.
 *
 * Why: a day of 5-minute records from 50 racks is 7.7 MiB of JSON, and parsing it took about a
 * third of a tailLog on the thread that also receives the replies: each parse there delayed the
 * packets of the replies still arriving, and every other request. Here the replies go to the
 * thread as bytes as they arrive, the thread parses them (as the transport would, see
 * `decodeJsonReply`) and aggregates them in rack order; only the rows come back. The main
 * thread keeps its event loop for the network and the other requests.
 *
 * Replies that are not an array or an object (an `[HRPC_ERR]=` error, a bare value) are decoded
 * here as the transport does, so a rack's failure is classified as before.
 */

/** What a fan-out result holds for a reply handed to the thread. */
export const SENT_TO_THREAD: unique symbol = Symbol('sent to the aggregation thread')

/** The result of {@link AggregationRun.finish}. */
export interface ThreadAggregate {
  rows: unknown[]
  failures: { index: number; error: Error }[]
  aggregationError: Error | undefined
  /** Time the thread spent grouping and aggregating. */
  aggregationMs: number
}

const OPEN_ARRAY = 0x5b
const OPEN_OBJECT = 0x7b
const isWhitespace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09

/** The thread's script: beside this module once built; run from the sources (tests, benches), the built one. */
function threadScript(): URL {
  const beside = new URL('./aggregation-thread.js', import.meta.url)
  if (existsSync(beside)) return beside
  const built = new URL('../../dist/aggregation-thread.js', import.meta.url)
  if (existsSync(built)) return built
  throw new OrkError('ERR_TAIL_LOG_AGGREGATION_FAILED', { reason: 'aggregation thread not built (run the build)' })
}

interface Pending {
  resolve: (aggregate: ThreadAggregate) => void
  reject: (error: Error) => void
}

/** The thread and the runs waiting on it; a thread that dies fails its runs and is replaced at the next one. */
export class OffThreadAggregation {
  readonly #logger: Logger
  #thread: Worker | undefined
  #nextRun = 1
  readonly #pending = new Map<number, Pending>()
  #closed = false

  readonly #script: URL | undefined

  /** `script`: another thread script (tests); the ork's built aggregation-thread.js by default. */
  constructor(options: { logger: Logger; script?: URL }) {
    this.#logger = options.logger
    this.#script = options.script
  }

  /** Starts one tailLog's aggregation; the thread is started with the first one. */
  begin(): AggregationRun {
    if (this.#closed) throw new OrkError('ERR_ORK_CLOSING')
    this.#thread ??= this.#startThread()
    return new AggregationRun(this, this.#thread, this.#nextRun++)
  }

  /** @internal Awaits a run's rows, or fails it at once when the thread it was begun on has stopped. */
  awaitFinish(thread: Worker, run: number, pending: Pending): void {
    if (thread !== this.#thread) {
      pending.reject(new OrkError('ERR_TAIL_LOG_AGGREGATION_FAILED', { reason: 'aggregation thread stopped' }))
      return
    }
    this.#pending.set(run, pending)
  }

  async close(): Promise<void> {
    this.#closed = true
    const thread = this.#thread
    this.#thread = undefined
    this.#failPending('the ork is closing')
    await thread?.terminate()
  }

  #startThread(): Worker {
    // The main thread's heap limit, set explicitly so that a thread running out of it is stopped
    // (ERR_WORKER_OUT_OF_MEMORY) and replaced while the ork goes on.
    const maxOldGenerationSizeMb = Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20)
    const thread = new Worker(this.#script ?? threadScript(), { resourceLimits: { maxOldGenerationSizeMb } })
    // Idle, it must not keep the process alive; the requests waiting on it do.
    thread.unref()
    thread.on('message', (message: FromThread) => {
      const pending = this.#pending.get(message.run)
      if (!pending) return
      this.#pending.delete(message.run)
      if (message.type === 'failed') {
        pending.reject(restoreError(message.error))
        return
      }
      pending.resolve({
        rows: message.rows,
        failures: message.failures.map(({ index, error }) => ({ index, error: restoreError(error) })),
        aggregationError: message.aggregationError && restoreError(message.aggregationError),
        aggregationMs: message.aggregationMs,
      })
    })
    const stopped = (reason: string, error?: unknown) => {
      if (thread !== this.#thread) return
      this.#thread = undefined
      this.#logger.error('tailLog aggregation thread stopped; the next tailLog starts another', { reason, error })
      this.#failPending(reason)
    }
    thread.on('error', (error) => stopped('failed', error))
    thread.on('exit', (exitCode) => stopped(`exited with code ${exitCode}`))
    return thread
  }

  #failPending(reason: string): void {
    for (const pending of this.#pending.values()) {
      pending.reject(new OrkError('ERR_TAIL_LOG_AGGREGATION_FAILED', { reason }))
    }
    this.#pending.clear()
  }
}

/** One tailLog's replies, handed to the thread rack by rack, and its rows. */
export class AggregationRun {
  readonly #owner: OffThreadAggregation
  readonly #thread: Worker
  readonly #id: number
  #ended = false

  constructor(owner: OffThreadAggregation, thread: Worker, id: number) {
    this.#owner = owner
    this.#thread = thread
    this.#id = id
  }

  /**
   * A rack's reply bytes (the fan-out's `decodeReply`): an array or an object goes to the thread
   * undecoded ({@link SENT_TO_THREAD}); anything else is decoded here, as the transport does.
   */
  decode(body: Buffer, index: number): unknown {
    let first = 0
    while (isWhitespace(body[first])) first++
    if (body[first] !== OPEN_ARRAY && body[first] !== OPEN_OBJECT) return decodeJsonReply(body)
    // A copy of its own, so that the thread gets it without a second copy and nothing here keeps it.
    const bytes = new Uint8Array(body).buffer
    this.#post({ type: 'reply', run: this.#id, index, bytes }, [bytes])
    return SENT_TO_THREAD
  }

  /** A rack's reply decoded here (or given by a caller that decoded it): the thread gets a copy. */
  setValue(index: number, value: unknown): void {
    this.#post({ type: 'value', run: this.#id, index, value })
  }

  /**
   * The racks' items in rack order (a rack the thread got nothing for contributes none), grouped
   * and aggregated with `spec` (@ork/stats `aggregateTailLogItems`). Rejects with what the
   * aggregation throws (`ERR_AGGR_TIMES_INVALID`), or `ERR_TAIL_LOG_AGGREGATION_FAILED` when the
   * thread stopped.
   */
  finish(rackCount: number, spec: TailLogSpec, aggrTimes: AggrTimeRange[] | undefined): Promise<ThreadAggregate> {
    this.#ended = true
    return new Promise((resolve, reject) => {
      this.#owner.awaitFinish(this.#thread, this.#id, { resolve, reject })
      this.#post({ type: 'finish', run: this.#id, rackCount, spec, aggrTimes })
    })
  }

  /** Forgets the replies sent so far (the tailLog failed before its aggregation). */
  drop(): void {
    if (this.#ended) return
    this.#ended = true
    this.#post({ type: 'drop', run: this.#id })
  }

  #post(message: ToThread, transfer: ArrayBuffer[] = []): void {
    this.#thread.postMessage(message, transfer)
  }
}
