import { OrkError } from '@ork/errors'
import type { RackModel } from './rack-model.ts'

/** Prefix of application errors in replies (`hp-svc-facs-net`). */
export const HRPC_ERROR_PREFIX = '[HRPC_ERR]='

/** Bytes sent by a rack configured to reply garbage: not JSON. */
export const GARBAGE_REPLY: Buffer = Buffer.from([0x00, 0xff, 0x7b, 0x6e, 0x6f, 0x74, 0x2d, 0x6a, 0x73, 0x6f, 0x6e])

/** Fault injection of a simulated rack (each can be switched at any time). */
export interface RackFaults {
  /** Every reply is delayed by this many ms. */
  delayMs?: number
  /** Methods (or all with `true`) that never answer; pending requests are released on close. */
  neverAnswer?: boolean | string[]
  /** Methods (or all with `true`) that reply non-JSON bytes. */
  garbage?: boolean | string[]
  /** Methods that reply `[HRPC_ERR]=ERR_SIMULATED_FAILURE`. */
  failMethods?: string[]
}

const matches = (setting: boolean | string[] | undefined, method: string): boolean =>
  setting === true || (Array.isArray(setting) && setting.includes(method))

/** Hooks the wire layer needs to park requests that never answer. */
export interface PendingRequests {
  /** A promise that stays pending until the rack closes, then rejects. */
  park(): Promise<never>
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds))

/**
 * What a real rack replies when a handler returns `undefined`: its net facility cannot encode
 * it, and the Buffer TypeError goes back as an application error (libraries.md 4.5, step 3).
 */
const UNDEFINED_REPLY_MESSAGE = (() => {
  try {
    Buffer.from(undefined as unknown as string)
    return 'ERR_UNDEFINED_REPLY'
  } catch (error) {
    return (error as Error).message
  }
})()

/** JSON-encodes a reply the way racks do; `undefined` becomes the error a real rack sends. */
export function encodeReply(value: unknown): Buffer {
  const json = JSON.stringify(value)
  return Buffer.from(json ?? JSON.stringify(`${HRPC_ERROR_PREFIX}${UNDEFINED_REPLY_MESSAGE}`))
}

/**
 * Methods whose replies depend only on the request and {@link RackModel.readStamp}.
 * getWriteCalls is one: it lists things and runs validateWriteAction on each, which changes
 * nothing. Real racks do that work in parallel on their own machines; simulated racks of a
 * benchmark share one thread, so repeating it would measure the simulator, not the ork.
 */
const CACHEABLE_METHODS = new Set(['listThings', 'getThingsCount', 'tailLog', 'getHistoricalLogs', 'getWriteCalls'])
const CACHE_SIZE = 256
const replyCaches = new WeakMap<RackModel, { stamp: string; replies: Map<string, Buffer> }>()

/**
 * Answers one raw request of a rack: the bytes a real rack worker would send
 * back for `method` with body `request`, after applying the fault settings.
 * Errors are replies too (`"[HRPC_ERR]=<message>"` as a JSON string), never RPC errors.
 */
export async function answerRackRequest(
  model: RackModel,
  faults: RackFaults,
  pending: PendingRequests,
  method: string,
  request: Buffer,
): Promise<Buffer> {
  if (faults.delayMs && faults.delayMs > 0) await sleep(faults.delayMs)
  if (matches(faults.neverAnswer, method)) await pending.park()
  if (matches(faults.garbage, method)) return GARBAGE_REPLY
  if (method === 'echo' || method === 'ping') return request
  if (faults.failMethods?.includes(method)) return encodeReply(`${HRPC_ERROR_PREFIX}ERR_SIMULATED_FAILURE`)
  let body: unknown
  try {
    body = JSON.parse(request.toString())
  } catch {
    return encodeReply(`${HRPC_ERROR_PREFIX}ERR_FACS_NET_DATA_FORMAT`)
  }
  const cacheable = CACHEABLE_METHODS.has(method)
  const cacheKey = `${method}\u0000${request.toString()}`
  let cache = replyCaches.get(model)
  if (cacheable) {
    const stamp = model.readStamp()
    if (cache?.stamp !== stamp) {
      cache = { stamp, replies: new Map() }
      replyCaches.set(model, cache)
    }
    const cached = cache.replies.get(cacheKey)
    if (cached) return cached
  }
  try {
    const reply = encodeReply(await model.handle(method, body))
    if (cacheable && cache) {
      if (cache.replies.size >= CACHE_SIZE) cache.replies.clear()
      cache.replies.set(cacheKey, reply)
    }
    return reply
  } catch (error) {
    const message = error instanceof Error ? error.message : new OrkError('ERR_UNKNOWN').message
    return encodeReply(`${HRPC_ERROR_PREFIX}${message}`)
  }
}
