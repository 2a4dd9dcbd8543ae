import { OrkError } from '@ork/errors'
import type { Logger } from '@ork/logger'
import type { FanOutResult } from '@ork/rack-registry'

/**
 * Why a rack's reply cannot be used by a method, or null when it can. A refused reply counts as
 * that rack failing (see {@link refuseMalformedReplies}).
 */
export type ReplyCheck = (reply: unknown) => string | null

/** A count as racks answer it (getThingsCount, forgetThings' `1`): a non-negative safe integer. */
export const countReplyCheck: ReplyCheck = (reply) =>
  Number.isSafeInteger(reply) && (reply as number) >= 0 ? null : 'not a count'

/**
 * The results with every reply that `check` refuses turned into that rack's failure
 * (`ERR_RACK_REPLY_INVALID`, the reason in its details). A rack answering what the method cannot
 * use is then treated as one that does not answer, under the method's own failure policy (left
 * out and logged, `config: null`, or failing forgetThings), instead of breaking the whole call
 * with an uncoded error or spoiling the other racks' results.
 */
export function refuseMalformedReplies(results: FanOutResult[], check: ReplyCheck): FanOutResult[] {
  return results.map((result) => {
    if (!result.ok) return result
    const reason = check(result.value)
    if (reason === null) return result
    return { rack: result.rack, ok: false, error: new OrkError('ERR_RACK_REPLY_INVALID', { reason }) }
  })
}

/**
 * The reference's "concat" merge (ork-behaviour.md 3.2): replies flattened one level in rack
 * order. A failed rack contributes nothing and is logged with its id and reason (the
 * reference's "swallow" policy, made visible in the logs).
 */
export function concatSwallowingFailures(results: FanOutResult[], method: string, logger: Logger): unknown[] {
  const merged: unknown[] = []
  for (const result of results) {
    if (!result.ok) {
      logFailure(result, method, logger)
      continue
    }
    if (Array.isArray(result.value)) {
      for (const item of result.value) merged.push(item)
    } else {
      merged.push(result.value)
    }
  }
  return merged
}

/** Logs one rack's failure with the rack id and the reason, never silently dropping it. */
export function logFailure(result: FanOutResult & { ok: false }, method: string, logger: Logger): void {
  logger.warn('rack request failed', { method, rackId: result.rack.id, error: result.error })
}
