/**
 * The ork's permission checks (reference `permissions.js`). A permission is
 * `<access>:<levels>`, e.g. `miner:rw`. Unlike the reference, malformed entries
 * (no `:`, not a string) and a missing list never throw: they just do not match.
 */
export function hasPermission(permissions: unknown, requested: unknown): boolean {
  if (!requested || typeof requested !== 'string') return false
  if (!Array.isArray(permissions)) return false
  if (permissions.includes(requested)) return true
  const [access, level] = requested.split(':')
  if (level === undefined) return false
  return permissions.some((entry) => {
    if (typeof entry !== 'string') return false
    const [entryAccess, entryLevels] = entry.split(':')
    if (entryLevels === undefined || entryAccess !== access) return false
    return [...level].every((character) => entryLevels.includes(character))
  })
}

/** `hasPermission(permissions, type + ':w')`. */
export function hasWritePermission(permissions: unknown, type: string): boolean {
  return hasPermission(permissions, `${type}:w`)
}

/** `hasPermission(permissions, type + ':r')`. */
export function hasReadPermission(permissions: unknown, type: string): boolean {
  return hasPermission(permissions, `${type}:r`)
}

/** `hasPermission(permissions, type + ':rw')`: both letters are needed. */
export function hasReadWritePermission(permissions: unknown, type: string): boolean {
  return hasPermission(permissions, `${type}:rw`)
}
