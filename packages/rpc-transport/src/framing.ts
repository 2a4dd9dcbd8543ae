import { OrkError } from '@ork/errors'
import { ErrorCodes, HRPC_ERR_PREFIX, RemoteError } from './errors.ts'
import { parseJsonBytes } from './json-bytes.ts'

/**
 * Largest message the Holepunch secret stream can carry (2^24 - 1 bytes) minus room for the
 * protomux and RPC headers. A bigger message makes the stream fail its write and tear down the
 * whole pooled connection, so it is refused before it is sent.
 */
export const TRANSPORT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024 - 1 - 64 * 1024

/**
 * Encodes a value as the reference does (`Buffer.from(JSON.stringify(value))`), so values
 * JSON cannot encode (`undefined`, functions, BigInt) fail with the very same TypeError text.
 */
export function toOutJSON(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value) as string)
}

/** The reply body of an application error: the JSON string `"[HRPC_ERR]=<message>"`. */
export function errorReply(message: string): Buffer {
  return toOutJSON(`${HRPC_ERR_PREFIX}${message}`)
}

/** Parses a JSON body; anything undecodable (including an empty body) is `ERR_FACS_NET_DATA_FORMAT`. */
export function parseInputJSON(body: Buffer | string | null | undefined): unknown {
  if (body === null || body === undefined) throw new OrkError(ErrorCodes.DATA_FORMAT)
  try {
    return typeof body === 'string' ? JSON.parse(body) : parseJsonBytes(body)
  } catch {
    throw new OrkError(ErrorCodes.DATA_FORMAT)
  }
}

/**
 * Deepest nesting of objects and arrays a decoded reply may have (`[]` is one level). No
 * MiningOS reply comes near it. A deeper one still parses (V8's `JSON.parse` does not recurse),
 * but encoding it again (`JSON.stringify`, a Hyperbee put) overflows the stack: one peer's reply
 * would fail a whole fan-out with an uncoded `Maximum call stack size exceeded`.
 */
export const MAX_REPLY_DEPTH = 512

const TOO_DEEP = 1
const OWN_TO_STRING = 2

/**
 * Why a decoded reply cannot be used, or null. Two kinds of valid JSON break the code that
 * handles replies:
 * - nesting deeper than `maxDepth` (see {@link MAX_REPLY_DEPTH});
 * - an object with its own `toString` key (`{"toString": 1}`): JavaScript can then turn it into
 *   neither text nor a number, so `String(x)`, `` `${x}` ``, `x + 1`, comparisons and sorting
 *   throw `Cannot convert object to primitive value` wherever the reply's values are used.
 * One walk, recursing at most `maxDepth` frames and only into containers; `for…in` because it is
 * the quickest walk of parsed JSON objects (they have no inherited enumerable keys). About 20 µs
 * for a day of tailLog records (157 KiB): five times quicker than searching the text for the
 * two problems with `Buffer.includes`.
 */
export function unusableReplyReason(value: unknown, maxDepth: number): string | null {
  if (typeof value !== 'object' || value === null) return null
  const problem = findProblem(value, maxDepth)
  if (problem === TOO_DEEP) return `reply nested deeper than ${maxDepth} levels`
  if (problem === OWN_TO_STRING) return 'reply holds an object with its own "toString" key'
  return null
}

function findProblem(container: object, maxDepth: number): number {
  if (maxDepth === 0) return TOO_DEEP
  if (Array.isArray(container)) {
    for (let index = 0; index < container.length; index++) {
      const item: unknown = container[index]
      if (typeof item === 'object' && item !== null) {
        const problem = findProblem(item, maxDepth - 1)
        if (problem !== 0) return problem
      }
    }
    return 0
  }
  for (const key in container) {
    if (key === 'toString') return OWN_TO_STRING
    const item = (container as Record<string, unknown>)[key]
    if (typeof item === 'object' && item !== null) {
      const problem = findProblem(item, maxDepth - 1)
      if (problem !== 0) return problem
    }
  }
  return 0
}

/**
 * Decodes a JSON reply as every request does: parsed ({@link parseInputJSON}), an
 * `[HRPC_ERR]=` string thrown as a {@link RemoteError} ({@link handleInputError}), and a reply
 * JavaScript code could not use refused as `ERR_FACS_NET_DATA_FORMAT` ({@link unusableReplyReason}).
 */
export function decodeJsonReply(body: Buffer | null): unknown {
  const parsed = parseInputJSON(body)
  handleInputError(parsed)
  const reason = unusableReplyReason(parsed, MAX_REPLY_DEPTH)
  if (reason !== null) throw new OrkError(ErrorCodes.DATA_FORMAT, { reason })
  return parsed
}

/**
 * Throws a {@link RemoteError} when a decoded reply is the reference's error marker: a string
 * whose first 15 characters contain `[HRPC_ERR]=`.
 */
export function handleInputError(value: unknown): void {
  if (typeof value !== 'string') return
  if (!value.slice(0, 15).includes(HRPC_ERR_PREFIX)) return
  throw new RemoteError(value)
}

/** The message the reference puts after the marker for a thrown value (`error.message`). */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message
  }
  return String(error)
}
