/**
 * The batch UID of pushActionsBatch (4.12): `<batchTs>-<uid>`, then `-<suffix>` when a
 * suffix is given. Without a UID the suffix follows the timestamp (`<batchTs>-<suffix>`),
 * where the reference produced `undefined-<suffix>` (Q19 FIX).
 */
export function batchActionUid(batchTs: number, uid: unknown, suffix: unknown): string | undefined {
  let result = uid ? `${batchTs}-${uid}` : undefined
  if (suffix) result = `${result ?? batchTs}-${suffix}`
  return result
}

/** The timestamp a batch UID starts with (`id` of a grouped batch), as text. */
export function batchUidPrefix(uid: string): string {
  const dash = uid.indexOf('-')
  return dash === -1 ? uid : uid.slice(0, dash)
}

/** Escapes a literal for use inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
