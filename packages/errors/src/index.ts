/**
 * An error whose `code` is a MiningOS wire code such as `ERR_RACK_ID_INVALID`.
 *
 * The message is the code itself, so that the `[HRPC_ERR]=<message>` reply the
 * reference sends stays byte-identical. Extra context for logs goes in `details`,
 * which never reaches the wire.
 */
export class OrkError extends Error {
  readonly code: string
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, options)
    this.name = 'OrkError'
    this.code = code
    this.details = details
  }
}

/** True when `value` is an {@link OrkError}, optionally with the given code. */
export function isOrkError(value: unknown, code?: string): value is OrkError {
  return value instanceof OrkError && (code === undefined || value.code === code)
}
