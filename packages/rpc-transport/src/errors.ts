/** The marker the reference puts in front of an application error message in a reply. */
export const HRPC_ERR_PREFIX = '[HRPC_ERR]='

/** Error codes of this package (besides the transport codes of {@link TransportErrorCode}). */
export const ErrorCodes = {
  /** A request or a reply is not valid JSON (reference code). */
  DATA_FORMAT: 'ERR_FACS_NET_DATA_FORMAT',
  /** The node is not ready (or already closed) — reference code for "no RPC instance". */
  RPC_NOT_FOUND: 'ERR_FACS_NET_RPC_NOTFOUND',
  /** A request or reply body is larger than `maxPayloadBytes`. */
  PAYLOAD_TOO_LARGE: 'ERR_FACS_NET_PAYLOAD_TOO_LARGE',
  /** A public key is neither a 32-byte Buffer nor 64 hex characters. */
  PUBLIC_KEY_INVALID: 'ERR_FACS_NET_PUBLIC_KEY_INVALID',
  /** A responder was registered after `listen()`, or twice for the same method. */
  RESPONDER_INVALID: 'ERR_FACS_NET_RESPONDER_INVALID',
  /** Sent (as a REQUEST_ERROR cause) to a read-only peer calling a write method. */
  MISSING_WRITE_PERMISSIONS: 'ERR_MISSING_WRITE_PERMISSIONS',
} as const

/**
 * Codes of transport failures, as reported by `@hyperswarm/rpc` / `protomux-rpc`.
 * `CLIENT_CLOSED` stands for the plain `RPC client closed` error of a pooled client
 * (and for requests made on a closed {@link RpcNode}).
 */
export type TransportErrorCode =
  | 'TIMEOUT_EXCEEDED'
  | 'CHANNEL_CLOSED'
  | 'CHANNEL_DESTROYED'
  | 'UNKNOWN_METHOD'
  | 'REQUEST_ERROR'
  | 'DECODE_ERROR'
  | 'ENCODE_ERROR'
  | 'CLIENT_CLOSED'

/**
 * A request failed below the application layer: timeout, connection closed or
 * refused, unknown method, or a remote responder that threw outside the JSON
 * framing (`REQUEST_ERROR`, e.g. `ERR_MISSING_WRITE_PERMISSIONS`).
 *
 * `message` is the underlying text unchanged (`TIMEOUT_EXCEEDED: timeout of 10000ms exceeded`,
 * `RPC client closed`, …) so code matching on the reference's messages keeps working.
 */
export class TransportError extends Error {
  readonly code: TransportErrorCode
  /** For `REQUEST_ERROR`: the message of the error the remote responder threw. */
  readonly causeMessage: string | undefined
  /** For `REQUEST_ERROR`: the `code` of the error the remote responder threw, if any. */
  readonly causeCode: string | undefined

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TransportError'
    this.code = code
    const cause = options?.cause as { message?: unknown; code?: unknown } | undefined
    // protomux-rpc puts the remote error in the cause of the cause: RPCError(REQUEST_ERROR).cause
    const remote = (cause as { cause?: { message?: unknown; code?: unknown } } | undefined)?.cause
    this.causeMessage = typeof remote?.message === 'string' ? remote.message : undefined
    this.causeCode = typeof remote?.code === 'string' && remote.code !== '' ? remote.code : undefined
  }
}

/**
 * The remote handler failed: the reply was the JSON string `"[HRPC_ERR]=<message>"`.
 * `message` is the whole string, as the reference client throws it, so a re-thrown
 * remote error carries the prefix twice exactly like the reference's.
 */
export class RemoteError extends Error {
  /** The text after the `[HRPC_ERR]=` marker, usually an `ERR_*` code. */
  readonly remoteMessage: string

  constructor(message: string) {
    super(message)
    this.name = 'RemoteError'
    const at = message.indexOf(HRPC_ERR_PREFIX)
    this.remoteMessage = at === -1 ? message : message.slice(at + HRPC_ERR_PREFIX.length)
  }
}

const transportCodes = new Set<string>([
  'TIMEOUT_EXCEEDED',
  'CHANNEL_CLOSED',
  'CHANNEL_DESTROYED',
  'UNKNOWN_METHOD',
  'REQUEST_ERROR',
  'DECODE_ERROR',
  'ENCODE_ERROR',
])

/** Wraps an error thrown by `@hyperswarm/rpc` into a {@link TransportError}; other errors pass through. */
export function toTransportError(error: unknown): unknown {
  if (error instanceof TransportError || error instanceof RemoteError) return error
  if (!(error instanceof Error)) return error
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && transportCodes.has(code)) {
    return new TransportError(code as TransportErrorCode, error.message, { cause: error })
  }
  if (error.message === 'RPC client closed') {
    return new TransportError('CLIENT_CLOSED', error.message, { cause: error })
  }
  return error
}

/** True for the errors the reference retries on: code `CHANNEL_CLOSED` or a message containing `RPC client closed`. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return (error as { code?: unknown }).code === 'CHANNEL_CLOSED' || error.message.includes('RPC client closed')
}
