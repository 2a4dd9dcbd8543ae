/**
 * Builds the server firewall of the reference: `true` means "refuse this peer".
 * `allowed` null/undefined lets everyone in; otherwise only byte-equal keys pass, so an
 * empty list refuses everyone. The handshake payload (claimed addresses) is ignored: the
 * reference removed its IP-based allowance.
 */
export function buildFirewall(
  allowed: readonly (string | Buffer)[] | null | undefined,
): (remotePublicKey: Buffer) => boolean {
  if (allowed === null || allowed === undefined) return () => false
  // Decoded as the reference does (`Buffer.from(key, 'hex')` stops at the first non-hex
  // character, so a trailing space or newline in a config entry still names the key).
  const keys = new Set(allowed.map((key) => (typeof key === 'string' ? Buffer.from(key, 'hex') : key).toString('hex')))
  return (remotePublicKey) => !keys.has(remotePublicKey.toString('hex'))
}

/** The allow list the reference builds: `allow ∪ allowReadOnly` if either is present (even empty), else null. */
export function allowedPeers(
  allow: readonly string[] | undefined,
  allowReadOnly: readonly string[] | undefined,
): string[] | null {
  if (!allow && !allowReadOnly) return null
  return [...(allow ?? []), ...(allowReadOnly ?? [])]
}
