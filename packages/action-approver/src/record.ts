/**
 * Status values stored in an action record. Values equal their names, as in the
 * reference; there is no cancelled status (cancelling yields `DENIED`).
 */
export const ACTION_STATUS = Object.freeze({
  VOTING: 'VOTING',
  APPROVED: 'APPROVED',
  DENIED: 'DENIED',
  EXECUTING: 'EXECUTING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
} as const)

/** One of the {@link ACTION_STATUS} values. */
export type ActionStatus = (typeof ACTION_STATUS)[keyof typeof ACTION_STATUS]

/** The four states (Hyperbee sub-databases) an action can live in. */
export const ACTION_STATES = Object.freeze(['voting', 'ready', 'executing', 'done'] as const)

/** One of the {@link ACTION_STATES}. */
export type ActionState = (typeof ACTION_STATES)[number]

/** A voter: a non-blank string or an integer ≥ 1. */
export type Voter = string | number

/**
 * An action as stored (UTF-8 JSON) under its state's key. Field order on push is
 * the reference's: id, batchActionUID, action, payload, votesPos, votesNeg,
 * reqVotesPos, reqVotesNeg, status; `result` or `error` are appended at completion.
 */
export interface ActionRecord {
  /** Creation time in ms, unique per store; also the 6-byte key. */
  id: number
  /** Opaque batch identifier, present only when given to `pushAction`. */
  batchActionUID?: string | undefined
  /** Name of the worker method run when approved. */
  action: string
  /** Arguments; by convention `[params[], targets, requiredPerms]` in the ork. */
  payload: unknown[]
  /** Approving voters; `votesPos[0]` is always the creator. */
  votesPos: Voter[]
  votesNeg: Voter[]
  reqVotesPos: number
  reqVotesNeg: number
  status: ActionStatus
  /** Return value of a successful execution (absent when it returned undefined). */
  result?: unknown
  /** Why the execution failed, or why the action was ended without running. */
  error?: string
}

export function isActionState(value: unknown): value is ActionState {
  return typeof value === 'string' && (ACTION_STATES as readonly string[]).includes(value)
}

/**
 * The largest action record the store takes, in bytes of JSON: Hypercore refuses blocks over
 * 15 MiB (`MAX_SUGGESTED_BLOCK_SIZE`), less room for Hyperbee's node around the value.
 */
export const MAX_ACTION_RECORD_BYTES = 15 * 1024 * 1024 - 64 * 1024

/** True when a record's JSON is small enough for the store to take. */
export const fitsTheStore = (json: string): boolean => Buffer.byteLength(json) <= MAX_ACTION_RECORD_BYTES

/** `JSON.stringify(value)`, or undefined for a value JSON cannot encode (BigInt, circular). */
export function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}
