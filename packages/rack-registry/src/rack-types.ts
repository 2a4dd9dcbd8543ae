/**
 * The three ways the reference ork matches a rack's `type` against a requested type.
 * They differ on purpose (ork-behaviour.md 3.1, quirk Q9), so each has its own name and
 * callers pick the one their method uses. A stored `type` that is not a string (possible in
 * a store written by the reference, which never checked) matches nothing instead of crashing.
 */

/**
 * `listRacks` selection: plain string prefix, so `miner` also matches `minerpool` (COPY, Q9).
 * An empty requested type matches every rack.
 */
export function matchesTypePrefix(rackType: unknown, requestedType: string): boolean {
  return typeof rackType === 'string' && rackType.startsWith(requestedType)
}

/**
 * Fan-out selection (tailLog, getWrkExtData, getWrkConf, getThingConf, pushAction `rackType`):
 * the type itself or one of its dash-separated subtypes, so `miner` matches `miner` and
 * `miner-am-s19` but not `minerpool`.
 */
export function matchesTypeFamily(rackType: unknown, requestedType: string): boolean {
  return typeof rackType === 'string' && (rackType === requestedType || rackType.startsWith(`${requestedType}-`))
}

/**
 * The base type used for permissions (`miner:w`) and aggregation specs (`aggrStats.miner`):
 * the text before the first `-` (`miner-am-s19` → `miner`, `wrk-miner-s19` → `wrk`).
 */
export function baseTypeOf(rackType: string): string {
  const dash = rackType.indexOf('-')
  return dash === -1 ? rackType : rackType.slice(0, dash)
}
