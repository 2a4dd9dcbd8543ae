import type { ActionRecord } from '@ork/action-approver'
import { isInvalidActionError } from './action-caller.ts'

/** An action as the ork's read methods return it: `payload` split into its three parts. */
export type FlatAction = Omit<ActionRecord, 'payload'> & {
  requiredPerms: unknown
  targets: unknown
  params: unknown
}

/**
 * Splits a stored record's `payload` into `requiredPerms`, `targets` and `params` and
 * drops `payload` (getAction, getActionsBatch, queryActions). With `dropTags` the `tags`
 * of every call are removed too, as queryActions does.
 */
export function flattenAction(record: ActionRecord, options: { dropTags?: boolean } = {}): FlatAction {
  const { payload, ...rest } = record
  const parts = Array.isArray(payload) ? payload : []
  const targets = parts[1]
  if (options.dropTags && targets !== null && typeof targets === 'object') {
    for (const target of Object.values(targets as Record<string, unknown>)) {
      const calls = (target as { calls?: unknown } | null)?.calls
      if (!Array.isArray(calls)) continue
      for (const call of calls) {
        if (call !== null && typeof call === 'object') delete (call as { tags?: unknown }).tags
      }
    }
  }
  return { ...rest, requiredPerms: parts[2], targets, params: parts[0] }
}

/**
 * The reference's `_filterInvalidActionsErrors` (8.6): keeps an action iff at least one of
 * its targets has no error or an error other than UNKNOWN_METHOD / CHANNEL_CLOSED.
 * Works on flattened actions (`targets`) and stored records (`payload[1]`).
 */
export function filterInvalidActionsErrors<T extends { targets?: unknown; payload?: unknown }>(actions: T[]): T[] {
  return actions.filter((action) => {
    const targets = action.targets ?? (Array.isArray(action.payload) ? action.payload[1] : undefined)
    if (targets === null || typeof targets !== 'object') return false
    return Object.values(targets as Record<string, unknown>).some((target) => {
      const error = (target as { error?: unknown } | null)?.error
      return !error || !isInvalidActionError(error)
    })
  })
}
