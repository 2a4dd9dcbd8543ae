import type { Logger } from '@ork/logger'
import type { FanOutResult } from '@ork/rack-registry'

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
