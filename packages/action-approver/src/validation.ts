import { OrkError } from '@ork/errors'
import type { Voter } from './record.ts'

/** A valid voter is a non-blank string or an integer ≥ 1 (the reference's rule). */
export function isValidVoter(voter: unknown): voter is Voter {
  if (typeof voter === 'string') return voter.trim().length > 0
  return typeof voter === 'number' && Number.isInteger(voter) && voter >= 1
}

/** Options of `pushAction`. */
export interface PushActionOptions {
  /** Name of the worker method to run once approved. */
  action: string
  /** Arguments; `payload[0]` must be an array (the params the context object is appended to). */
  payload: unknown[]
  /** The creator, counted as the first approving vote. */
  voter: Voter
  /** Sets both thresholds; conflicts with `reqVotesPos` / `reqVotesNeg`. */
  reqVotes?: number
  /** Approvals needed, creator included. */
  reqVotesPos?: number
  /** Denials needed. */
  reqVotesNeg?: number
  /** Opaque batch identifier, stored verbatim. */
  batchActionUID?: string
}

/** What a valid push request resolves to. */
export interface ValidatedPush {
  action: string
  payload: unknown[]
  payloadJson: string
  voter: Voter
  reqVotesPos: number
  reqVotesNeg: number
  batchActionUID: string | undefined
}

/**
 * Validates a push request in the reference's order (first failure wins), plus
 * two checks the reference lacked: `payload[0]` must be an array (otherwise the
 * reference stranded the action in `executing` and crashed the process) and the
 * payload must be JSON-serialisable (otherwise the write failed after validation).
 */
export function validatePush(options: unknown, hasAction: (action: string) => boolean): ValidatedPush {
  const input = (options !== null && typeof options === 'object' ? options : {}) as Record<string, unknown>
  const { action, payload, voter, reqVotes, batchActionUID } = input
  if (typeof action !== 'string' || action.trim().length === 0) throw new OrkError('ERR_ACTION_INVALID')
  let known = false
  try {
    known = hasAction(action) === true
  } catch {
    known = false
  }
  if (!known) throw new OrkError('ERR_ACTION_UNKOWN', { action })
  if (!Array.isArray(payload) || !Array.isArray(payload[0])) throw new OrkError('ERR_PAYLOAD_INVALID')
  let payloadJson: string
  try {
    payloadJson = JSON.stringify(payload)
  } catch {
    throw new OrkError('ERR_PAYLOAD_INVALID', { reason: 'not serialisable' })
  }
  if (!isValidVoter(voter)) throw new OrkError('ERR_VOTER_INVALID')
  if (reqVotes && (input.reqVotesPos || input.reqVotesNeg)) throw new OrkError('ERR_REQ_VOTES_CONFLICT')
  const reqVotesPos = input.reqVotesPos || reqVotes
  const reqVotesNeg = input.reqVotesNeg || reqVotes
  if (typeof reqVotesPos !== 'number' || !Number.isInteger(reqVotesPos) || reqVotesPos < 1) {
    throw new OrkError('ERR_REQ_VOTES_POS_INVALID')
  }
  if (typeof reqVotesNeg !== 'number' || !Number.isInteger(reqVotesNeg) || reqVotesNeg < 1) {
    throw new OrkError('ERR_REQ_VOTES_NEG_INVALID')
  }
  if (batchActionUID !== undefined) {
    try {
      JSON.stringify(batchActionUID)
    } catch {
      throw new OrkError('ERR_BATCH_ACTION_UID_INVALID')
    }
  }
  return {
    action,
    payload,
    payloadJson,
    voter,
    reqVotesPos,
    reqVotesNeg,
    batchActionUID: batchActionUID as string | undefined,
  }
}

/**
 * The vote's direction. The reference used truthiness, so the string `'false'`
 * approved; only booleans and the numbers 0 / 1 (used by the reference's tests)
 * are accepted here.
 */
export function parseApprove(approve: unknown): boolean {
  if (typeof approve === 'boolean') return approve
  if (approve === 1 || approve === 0) return approve === 1
  throw new OrkError('ERR_APPROVE_INVALID')
}
