import type { ExecutionContext } from './executor.ts'
import { type ActionRecord, fitsTheStore, safeStringify, type Voter } from './record.ts'

/** How one execution ended. */
export type Outcome =
  | { kind: 'result'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout' }
  | { kind: 'interrupted' }
  | { kind: 'invalid'; code: string }

/**
 * One action's execution: its deadline, its abort signal, and the checkpoint
 * writes of its progress. Checkpoints are chained (never two writes at once) and
 * coalesced (callers that arrive before a write starts share it); once the run
 * has ended they do nothing, so a late worker can never put the action back
 * into `executing` after it moved to `done`.
 */
export class ExecutionRun {
  readonly #record: ActionRecord
  readonly #timeoutMs: number
  readonly #writeExecuting: (json: string) => Promise<void>
  readonly #controller = new AbortController()
  #ended = false
  #tail: Promise<void> = Promise.resolve()
  #pending: Promise<void> | null = null
  #interrupt: (() => void) | null = null
  #interrupted = false
  /** The payload as last persisted; the fallback when the worker leaves it unserialisable or too large. */
  lastPayloadJson: string

  constructor(record: ActionRecord, timeoutMs: number, writeExecuting: (json: string) => Promise<void>) {
    this.#record = record
    this.#timeoutMs = timeoutMs
    this.#writeExecuting = writeExecuting
    this.lastPayloadJson = safeStringify(record.payload) ?? '[]'
  }

  context(actionId: number, user: Voter): ExecutionContext {
    return { actionId, user, signal: this.#controller.signal, checkpoint: () => this.checkpoint() }
  }

  /** Calls the worker and waits for its outcome, the deadline, or an interruption, whichever comes first. */
  async invoke(call: () => unknown): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), this.#timeoutMs)
    })
    const interruption = new Promise<Outcome>((resolve) => {
      this.#interrupt = () => resolve({ kind: 'interrupted' })
      if (this.#interrupted) this.#interrupt()
    })
    const execution = (async (): Promise<Outcome> => {
      try {
        return { kind: 'result', value: await call() }
      } catch (error) {
        return { kind: 'error', error }
      }
    })()
    try {
      return await Promise.race([execution, deadline, interruption])
    } finally {
      clearTimeout(timer)
      this.#controller.abort()
    }
  }

  /** Ends the execution early (the approver is closing). */
  interrupt(): void {
    this.#interrupted = true
    this.#interrupt?.()
  }

  checkpoint(): Promise<void> {
    if (this.#ended) return Promise.resolve()
    if (this.#pending) return this.#pending
    const pending: Promise<void> = this.#tail.then(async () => {
      if (this.#pending === pending) this.#pending = null
      if (this.#ended) return
      // A payload JSON cannot encode, or a record the store would refuse, is not written: the
      // last persisted one stays, and is what the action ends with if it never becomes usable.
      const payloadJson = safeStringify(this.#record.payload)
      const recordJson = safeStringify(this.#record)
      if (payloadJson === undefined || recordJson === undefined || !fitsTheStore(recordJson)) return
      this.lastPayloadJson = payloadJson
      await this.#writeExecuting(recordJson)
    })
    this.#pending = pending
    this.#tail = pending.catch(() => {})
    return pending
  }

  /** Stops further checkpoints and waits for the one being written. */
  async end(): Promise<void> {
    this.#ended = true
    await this.#tail
  }
}
