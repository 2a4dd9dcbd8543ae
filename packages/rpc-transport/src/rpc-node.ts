import { setTimeout as sleep } from 'node:timers/promises'
import HyperswarmRPC from '@hyperswarm/rpc'
import { OrkError } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import pLimit from 'p-limit'
import { removeInterruptedDeviceFile } from './device-file.ts'
import { ErrorCodes, isRetryable, TransportError, toTransportError } from './errors.ts'
import { allowedPeers, buildFirewall } from './firewall.ts'
import {
  decodeJsonReply,
  errorReply,
  MAX_REPLY_DEPTH,
  messageOf,
  parseInputJSON,
  TRANSPORT_MAX_PAYLOAD_BYTES,
  toOutJSON,
} from './framing.ts'
import { SEED_DHT, SEED_RPC, SeedStore } from './seeds.ts'
import { createUdx, DEFAULT_UDP_RECEIVE_BUFFER_BYTES } from './udp-buffers.ts'

/** Reference defaults (hp-svc-facs-net). */
export const DEFAULT_TIMEOUT_MS = 30_000
export const DEFAULT_POOL_LINGER_MS = 300_000
export const DEFAULT_AUTO_RETRY_DELAY_MS = 200

/** A DHT bootstrap node: `"host:port"` or `{ host, port }`. */
export type BootstrapNode = string | { host: string; port: number }

/** Options passed to HyperDHT. `keyPair` is always replaced by the `seedDht` key pair. */
export interface DhtOptions {
  bootstrap?: BootstrapNode[]
  /** Interface to bind; `'127.0.0.1'` on a loopback testnet. */
  host?: string
  port?: number
  firewalled?: boolean
  [option: string]: unknown
}

/** The part of a Corestore this package uses (so callers need no Holepunch types). */
export interface CorestoreLike {
  get(options: { name: string }): unknown
}

export interface RpcNodeOptions {
  /** Corestore directory, opened and closed by the node. Either this or `store`. */
  storeDir?: string
  /** An open Corestore owned by the caller (the node never closes it). */
  store?: CorestoreLike
  dhtOpts?: DhtOptions
  /** Hex keys allowed to connect; absent = everyone (unless `allowReadOnly` is set), `[]` = no one. */
  allow?: readonly string[]
  /** Hex keys allowed to connect and call read methods only. */
  allowReadOnly?: readonly string[]
  /** Removed in the reference: accepted and ignored with a warning. */
  allowLocal?: boolean
  /** Default request timeout in ms (falsy → 30000, as in the reference). */
  timeout?: number
  /** Idle time before a pooled connection is closed (falsy → 300000). */
  poolLinger?: number
  /** Pause between retries (falsy → 200). */
  autoRetryDelay?: number
  /** Largest request or reply body, in bytes; capped to what the transport can carry (~16 MiB). */
  maxPayloadBytes?: number
  /**
   * UDP receive buffer of each socket (falsy → 4 MiB, capped by the kernel's
   * net.core.rmem_max). Large enough that a burst of replies from every rack at once is not
   * dropped by the kernel.
   */
  udpReceiveBufferBytes?: number
  logger?: Logger
}

/** `r` methods are open to read-only peers; `w` methods refuse them. */
export type MethodOperation = 'r' | 'w'

export interface HandlerContext {
  /** The caller's DHT public key (its `rpcClientKey`). */
  remotePublicKey: Buffer
  method: string
}

export type JsonHandler = (data: unknown, context: HandlerContext) => unknown
export type RawHandler = (
  request: Buffer,
  context: HandlerContext,
) => Buffer | Uint8Array | Promise<Buffer | Uint8Array>

export interface RespondOptions {
  /** Defaults to `'w'`, so a method forgotten in the tagging is closed to read-only peers. */
  op?: MethodOperation
}

export interface RequestOptions {
  /** ms; falsy → the node's default timeout. Counts from dispatch, connection set-up included. */
  timeout?: number
  /** Extra attempts on `CHANNEL_CLOSED` / `RPC client closed` (reference `autoRetry`, default 0). */
  autoRetry?: number
  /** ms between attempts (falsy → the node's `autoRetryDelay`). */
  autoRetryDelay?: number
  /**
   * Called with a JSON reply's bytes before they are parsed (a parsed reply takes several times
   * its size, over 20 times for `[{},{},…]`). What it throws rejects the request, the reply
   * unparsed: a caller keeping many replies can refuse one it has no room for.
   */
  onReply?: (body: Buffer) => void
  /**
   * Decodes the reply's bytes in place of the JSON decoding (which {@link decodeJsonReply}
   * does): the request resolves with what it returns and rejects with what it throws. For a
   * caller that decodes replies elsewhere, such as on another thread. Called after `onReply`
   * and the size check.
   */
  decode?: (body: Buffer) => unknown
}

export interface RequestAllOptions extends RequestOptions {
  /** Requests in flight at once; absent or 0 → all at once. */
  concurrency?: number
}

/** One result of {@link RpcNode.requestAll}: `[null, reply, key]` or `[error, null, key]`. */
export type SettledReply<K> = [Error, null, K] | [null, unknown, K]

interface Responder {
  op: MethodOperation
  raw: boolean
  handler: JsonHandler | RawHandler
}

type State = 'new' | 'opening' | 'ready' | 'closing' | 'closed'

/**
 * A MiningOS RPC endpoint: the `hp-svc-facs-net` facility of the reference, as one object.
 *
 * Keys come from seeds persisted in the store (`storeConf` bee, `seedDht` / `seedRpc`), the
 * server speaks the reference's JSON framing (`"[HRPC_ERR]=<message>"` replies), and the client
 * pools one connection per peer. Register handlers with {@link respond} before {@link listen}.
 */
export class RpcNode {
  readonly #options: RpcNodeOptions
  readonly #logger: Logger
  readonly #timeout: number
  readonly #poolLinger: number
  readonly #autoRetryDelay: number
  readonly #maxPayloadBytes: number
  readonly #responders = new Map<string, Responder>()
  readonly #readOnly: Set<string>

  #state: State = 'new'
  #opening: Promise<void> | null = null
  #closing: Promise<void> | null = null
  #listening: Promise<void> | null = null
  #ownedStore: Corestore | null = null
  #seeds: SeedStore | null = null
  #dht: HyperDHT | null = null
  #rpc: HyperswarmRPC | null = null
  #server: HyperswarmRPC.Server | null = null
  #rpcKeyPair: HyperDHT.KeyPair | null = null
  #dhtKeyPair: HyperDHT.KeyPair | null = null

  constructor(options: RpcNodeOptions) {
    if (!options.storeDir && !options.store) {
      throw new OrkError('ERR_FACS_STORE_STORAGE_PATH_INVALID', { reason: 'storeDir or store is required' })
    }
    this.#options = options
    this.#logger = options.logger ?? silentLogger
    this.#timeout = positive(options.timeout) ?? DEFAULT_TIMEOUT_MS
    this.#poolLinger = positive(options.poolLinger) ?? DEFAULT_POOL_LINGER_MS
    this.#autoRetryDelay = positive(options.autoRetryDelay) ?? DEFAULT_AUTO_RETRY_DELAY_MS
    this.#maxPayloadBytes = Math.min(
      positive(options.maxPayloadBytes) ?? TRANSPORT_MAX_PAYLOAD_BYTES,
      TRANSPORT_MAX_PAYLOAD_BYTES,
    )
    // Keys decoded as the firewall decodes them (see buildFirewall).
    this.#readOnly = new Set((options.allowReadOnly ?? []).map((key) => Buffer.from(key, 'hex').toString('hex')))
  }

  /** The server key (from `seedRpc`): what peers dial. Available after {@link ready}. */
  get rpcPublicKey(): Buffer {
    return this.#requireReady().rpcKeyPair.publicKey
  }

  /** The DHT key (from `seedDht`): the identity remote firewalls see. Available after {@link ready}. */
  get clientPublicKey(): Buffer {
    return this.#requireReady().dhtKeyPair.publicKey
  }

  /** The default request timeout in ms. */
  get timeout(): number {
    return this.#timeout
  }

  /** The largest request/reply body accepted, in bytes. */
  get maxPayloadBytes(): number {
    return this.#maxPayloadBytes
  }

  /** True once {@link listen} has completed and until {@link close}. */
  get listening(): boolean {
    return this.#server !== null && this.#state === 'ready'
  }

  /** Loads (or creates) the seeds, starts the DHT and the RPC client. Idempotent. */
  ready(): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(new TransportError('CLIENT_CLOSED', 'RPC client closed'))
    }
    this.#opening ??= this.#open()
    return this.#opening
  }

  async #open(): Promise<void> {
    this.#state = 'opening'
    try {
      let store = this.#options.store as Corestore | undefined
      if (!store) {
        const storeDir = this.#options.storeDir as string
        if (removeInterruptedDeviceFile(storeDir)) {
          this.#logger.warn('removed the empty device file a crash during its first open left', { storeDir })
        }
        store = new Corestore(storeDir)
        this.#ownedStore = store
        await store.ready()
      }
      this.#seeds = new SeedStore(store)
      const dhtSeed = await this.#seeds.getSeed(SEED_DHT)
      const rpcSeed = await this.#seeds.getSeed(SEED_RPC)
      this.#dhtKeyPair = HyperDHT.keyPair(dhtSeed)
      this.#rpcKeyPair = HyperDHT.keyPair(rpcSeed)
      const udx = createUdx(positive(this.#options.udpReceiveBufferBytes) ?? DEFAULT_UDP_RECEIVE_BUFFER_BYTES)
      this.#dht = new HyperDHT({ ...this.#options.dhtOpts, keyPair: this.#dhtKeyPair, udx })
      this.#rpc = new HyperswarmRPC({ dht: this.#dht, keyPair: this.#rpcKeyPair, poolLinger: this.#poolLinger })
    } catch (error) {
      await this.#release()
      this.#state = 'new'
      this.#opening = null
      throw error
    }
    if (this.#state === 'opening') this.#state = 'ready'
    this.#logger.debug('rpc node ready', {
      rpcPublicKey: this.#rpcKeyPair.publicKey.toString('hex'),
      clientPublicKey: this.#dhtKeyPair.publicKey.toString('hex'),
    })
  }

  /**
   * Registers a JSON method. The handler gets the parsed request and returns a
   * JSON-serialisable value; whatever it throws goes back as `"[HRPC_ERR]=<message>"`.
   * Read-only peers calling an `op: 'w'` method get `ERR_MISSING_WRITE_PERMISSIONS` as a
   * transport `REQUEST_ERROR`, as the reference delivers it.
   */
  respond(method: string, handler: JsonHandler, options: RespondOptions = {}): this {
    return this.#register(method, { op: options.op ?? 'w', raw: false, handler })
  }

  /** Registers a method on raw bytes (the reference's `echo` and `ping`); no JSON, no permission check. */
  respondRaw(method: string, handler: RawHandler): this {
    return this.#register(method, { op: 'r', raw: true, handler })
  }

  #register(method: string, responder: Responder): this {
    if (this.#listening) throw new OrkError(ErrorCodes.RESPONDER_INVALID, { method, reason: 'already listening' })
    if (this.#responders.has(method)) throw new OrkError(ErrorCodes.RESPONDER_INVALID, { method, reason: 'duplicate' })
    if (typeof responder.handler !== 'function') {
      throw new OrkError(ErrorCodes.RESPONDER_INVALID, { method, reason: 'handler is not a function' })
    }
    this.#responders.set(method, responder)
    return this
  }

  /** Starts the server on the `seedRpc` key with the firewall from `allow` / `allowReadOnly`. Idempotent. */
  listen(): Promise<void> {
    this.#listening ??= this.#startServer().catch(async (error: unknown) => {
      // Allow another attempt (responders stay registered) instead of memoising the failure.
      const server = this.#server
      this.#server = null
      this.#listening = null
      await server?.close().catch(() => {})
      throw error
    })
    return this.#listening
  }

  async #startServer(): Promise<void> {
    await this.ready()
    const rpc = this.#rpc as HyperswarmRPC
    if (this.#options.allowLocal) {
      this.#logger.warn('allowLocal was removed and is ignored')
    }
    const allowed = allowedPeers(this.#options.allow, this.#options.allowReadOnly)
    const refuse = buildFirewall(allowed)
    const server = rpc.createServer({
      firewall: (remotePublicKey) => {
        const refused = refuse(remotePublicKey)
        // A warning: a peer left out of the list by mistake (a new API node, a typo) shows without DEBUG.
        if (refused) {
          this.#logger.warn('peer refused: its key is not in allow or allowReadOnly', {
            peer: remotePublicKey.toString('hex'),
          })
        }
        return refused
      },
    })
    for (const [method, responder] of this.#responders) {
      server.respond(method, (request, connection) => this.#dispatch(method, responder, request, connection))
    }
    this.#server = server
    await server.listen()
    this.#logger.debug('rpc server listening', { methods: this.#responders.size, firewall: allowed !== null })
    // Listening succeeds even when no DHT node answered (a wrong bootstrap, no network): nobody can
    // then find this server, which should not pass unnoticed.
    if ((this.#dht as HyperDHT).toArray({ limit: 1 }).length === 0) {
      this.#logger.warn(
        'listening, but no DHT node answered: peers cannot find this server (check dhtOpts.bootstrap)',
        {
          bootstrap: this.#options.dhtOpts?.bootstrap,
        },
      )
    }
  }

  /**
   * A raw handler's reply, its value going out as is. What it throws (or a reply that is not
   * bytes) goes back as a plain Error, which the caller sees as `REQUEST_ERROR`: protomux-rpc
   * re-throws a TypeError or RangeError out of the process as a programming error.
   */
  #dispatchRaw(
    method: string,
    handler: RawHandler,
    request: Buffer | null,
    context: HandlerContext,
  ): Buffer | Uint8Array | Promise<Buffer | Uint8Array> {
    const checked = (reply: unknown): Buffer | Uint8Array => {
      if (reply instanceof Uint8Array) return reply
      throw new Error(`${method}: the raw handler's reply is not bytes`)
    }
    const failed = (error: unknown): never => {
      this.#logger.warn('raw handler failed', { method, error })
      throw new Error(error instanceof Error ? error.message : String(error))
    }
    try {
      const reply = handler(request ?? Buffer.alloc(0), context)
      return isPromiseLike(reply) ? Promise.resolve(reply).then(checked, failed) : checked(reply)
    } catch (error) {
      return failed(error)
    }
  }

  // Not async: protomux-rpc awaits whatever comes back, and a raw handler's value can go out as is.
  #dispatch(
    method: string,
    responder: Responder,
    request: Buffer | null,
    connection: HyperswarmRPC.Connection,
  ): Buffer | Uint8Array | Promise<Buffer | Uint8Array> {
    const remotePublicKey = connection.stream.remotePublicKey
    const context: HandlerContext = { remotePublicKey, method }
    if (responder.raw) return this.#dispatchRaw(method, responder.handler as RawHandler, request, context)
    if (responder.op === 'w' && this.#readOnly.has(remotePublicKey.toString('hex'))) {
      this.#logger.error(ErrorCodes.MISSING_WRITE_PERMISSIONS, { method, peer: remotePublicKey.toString('hex') })
      // A plain Error on purpose: the reference's carries no code, and protomux-rpc sends the
      // cause's code on the wire, so an OrkError would be visible to clients.
      throw new Error(ErrorCodes.MISSING_WRITE_PERMISSIONS)
    }
    return this.#handleReply(method, responder.handler as JsonHandler, request, context)
  }

  /** The reference's `handleReply`: JSON in, JSON out, every failure framed as `[HRPC_ERR]=`. */
  async #handleReply(
    method: string,
    handler: JsonHandler,
    request: Buffer | null,
    context: HandlerContext,
  ): Promise<Buffer> {
    if (request && request.byteLength > this.#maxPayloadBytes) {
      this.#logger.warn('request too large', { method, bytes: request.byteLength })
      return errorReply(ErrorCodes.PAYLOAD_TOO_LARGE)
    }
    let data: unknown
    try {
      data = parseInputJSON(request)
    } catch (error) {
      this.#logger.debug('undecodable request', { method })
      return errorReply(messageOf(error))
    }
    let value: unknown
    try {
      value = await handler(data, context)
    } catch (error) {
      this.#logger.debug('handler failed', { method, error: messageOf(error) })
      return errorReply(messageOf(error))
    }
    let reply: Buffer
    try {
      reply = toOutJSON(value)
    } catch (error) {
      // Past V8's longest string (~512 MiB) JSON.stringify throws "Invalid string length": a
      // reply far over the limit, which the caller must see as such, not as an uncoded error.
      if (error instanceof RangeError && error.message === 'Invalid string length') {
        this.#logger.warn('reply too large', { method, bytes: 'over the longest string' })
        return errorReply(ErrorCodes.PAYLOAD_TOO_LARGE)
      }
      this.#logger.debug('handler failed', { method, error: messageOf(error) })
      return errorReply(messageOf(error))
    }
    if (reply.byteLength > this.#maxPayloadBytes) {
      this.#logger.warn('reply too large', { method, bytes: reply.byteLength })
      return errorReply(ErrorCodes.PAYLOAD_TOO_LARGE)
    }
    return reply
  }

  /**
   * Sends a JSON request and resolves with the parsed reply.
   *
   * Rejects with a {@link RemoteError} for an `[HRPC_ERR]=` reply, a {@link TransportError}
   * for transport failures, or an `OrkError`: `ERR_FACS_NET_DATA_FORMAT` for undecodable
   * replies, replies JavaScript code could not use (nested deeper than {@link MAX_REPLY_DEPTH}
   * levels, or holding an object with its own `toString` key) and unencodable data;
   * `ERR_FACS_NET_PAYLOAD_TOO_LARGE`; `ERR_FACS_NET_PUBLIC_KEY_INVALID`.
   */
  async request(
    publicKey: string | Buffer,
    method: string,
    data: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const rpc = this.#requireRpc()
    const key = toPublicKey(publicKey)
    const body = this.#encodeRequest(data)
    const { onReply, decode } = options
    if (!onReply && !decode) return this.#send(rpc, key, method, body, options, this.#decodeJson)
    return this.#send(rpc, key, method, body, options, (value) => {
      onReply?.(value ?? Buffer.alloc(0))
      if (!decode) return this.#decodeJson(value)
      this.#checkReplySize(value)
      return decode(value ?? Buffer.alloc(0))
    })
  }

  readonly #decodeJson = (value: Buffer | null): unknown => {
    this.#checkReplySize(value)
    return decodeJsonReply(value)
  }

  #checkReplySize(value: Buffer | null): void {
    if (value && value.byteLength > this.#maxPayloadBytes) throw new OrkError(ErrorCodes.PAYLOAD_TOO_LARGE)
  }

  /** Sends raw bytes (e.g. to `echo` / `ping`) and resolves with the raw reply (empty Buffer for none). */
  async requestRaw(
    publicKey: string | Buffer,
    method: string,
    body: Buffer | Uint8Array,
    options: RequestOptions = {},
  ): Promise<Buffer> {
    const rpc = this.#requireRpc()
    const key = toPublicKey(publicKey)
    if (body.byteLength > this.#maxPayloadBytes) throw new OrkError(ErrorCodes.PAYLOAD_TOO_LARGE, { stage: 'request' })
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    return this.#send(rpc, key, method, bytes, options, decodeRaw)
  }

  async #send<T>(
    rpc: HyperswarmRPC,
    key: Buffer,
    method: string,
    body: Buffer,
    options: RequestOptions,
    decode: (value: Buffer | null) => T,
  ): Promise<T> {
    const timeout = positive(options.timeout) ?? this.#timeout
    let retriesLeft = options.autoRetry ?? 0
    for (;;) {
      try {
        return decode(await rpc.request(key, method, body, { timeout }))
      } catch (error) {
        // The reference retries on these texts even when they come from a remote application error.
        if (retriesLeft > 0 && isRetryable(error) && this.#state === 'ready') {
          retriesLeft--
          // Per request, 0 means no pause (only the constructor's option treats falsy as "default").
          await sleep(nonNegative(options.autoRetryDelay) ?? this.#autoRetryDelay)
          if (this.#state !== 'ready') throw toTransportError(error)
          continue
        }
        throw toTransportError(error)
      }
    }
  }

  /**
   * Sends one request to every key and resolves, in input order, with a settled tuple per key
   * (the reference's `jRequestAll`). Never rejects.
   */
  async requestAll<K extends string | Buffer>(
    publicKeys: readonly K[],
    method: string,
    data: unknown,
    options: RequestAllOptions = {},
  ): Promise<SettledReply<K>[]> {
    const { concurrency, ...requestOptions } = options
    const call = async (key: K): Promise<SettledReply<K>> => {
      try {
        return [null, await this.request(key, method, data, requestOptions), key]
      } catch (error) {
        return [error instanceof Error ? error : new Error(String(error)), null, key]
      }
    }
    if (!concurrency) return Promise.all(publicKeys.map(call))
    const limit = pLimit(concurrency)
    return Promise.all(publicKeys.map((key) => limit(() => call(key))))
  }

  /** Fire-and-forget JSON message (the reference's `jEvent`): no reply, no error from the peer. */
  event(publicKey: string | Buffer, method: string, data: unknown): void {
    const rpc = this.#requireRpc()
    rpc.event(toPublicKey(publicKey), method, this.#encodeRequest(data))
  }

  /** Encodes request data; its errors carry `details.stage: 'request'` (nothing was sent). */
  #encodeRequest(data: unknown): Buffer {
    let body: Buffer
    try {
      body = toOutJSON(data)
    } catch (error) {
      throw new OrkError(ErrorCodes.DATA_FORMAT, { stage: 'request', reason: messageOf(error) }, { cause: error })
    }
    if (body.byteLength > this.#maxPayloadBytes) {
      throw new OrkError(ErrorCodes.PAYLOAD_TOO_LARGE, {
        stage: 'request',
        bytes: body.byteLength,
        max: this.#maxPayloadBytes,
      })
    }
    return body
  }

  /** Closes the server, every pooled connection, the DHT and the seed bee (and the store if owned). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    const opening = this.#opening
    this.#state = 'closing'
    if (opening) await opening.catch(() => {})
    if (this.#listening) await this.#listening.catch(() => {})
    await this.#release()
    this.#state = 'closed'
  }

  /** Releases in the order Holepunch needs: server, clients, DHT, bee, store. */
  async #release(): Promise<void> {
    const steps: [string, () => Promise<void> | undefined][] = [
      ['server', () => this.#server?.close()],
      ['rpc', () => this.#rpc?.destroy()],
      ['dht', () => this.#dht?.destroy()],
      ['seeds', () => this.#seeds?.close()],
      ['store', () => this.#ownedStore?.close()],
    ]
    for (const [name, step] of steps) {
      try {
        await step()
      } catch (error) {
        this.#logger.warn('error while closing', { part: name, error: messageOf(error) })
      }
    }
    this.#server = null
    this.#rpc = null
    this.#dht = null
    this.#seeds = null
    this.#ownedStore = null
  }

  #requireReady(): { rpcKeyPair: HyperDHT.KeyPair; dhtKeyPair: HyperDHT.KeyPair } {
    if (!this.#rpcKeyPair || !this.#dhtKeyPair) throw new OrkError(ErrorCodes.RPC_NOT_FOUND)
    return { rpcKeyPair: this.#rpcKeyPair, dhtKeyPair: this.#dhtKeyPair }
  }

  #requireRpc(): HyperswarmRPC {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new TransportError('CLIENT_CLOSED', 'RPC client closed')
    }
    if (this.#state !== 'ready' || !this.#rpc) throw new OrkError(ErrorCodes.RPC_NOT_FOUND)
    return this.#rpc
  }
}

/** The reference replaces falsy options by defaults; negative or NaN ones would disable timers, so they do too. */
function positive(value: number | undefined): number | undefined {
  return typeof value === 'number' && value > 0 && Number.isFinite(value) ? value : undefined
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

function nonNegative(value: number | undefined): number | undefined {
  return typeof value === 'number' && value >= 0 && Number.isFinite(value) ? value : undefined
}

function decodeRaw(value: Buffer | null): Buffer {
  if (value === null) return Buffer.alloc(0)
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from((value as Uint8Array).buffer, (value as Uint8Array).byteOffset, (value as Uint8Array).byteLength)
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/

function toPublicKey(key: string | Buffer): Buffer {
  if (typeof key === 'string') {
    if (!HEX_KEY.test(key)) throw new OrkError(ErrorCodes.PUBLIC_KEY_INVALID)
    return Buffer.from(key, 'hex')
  }
  if (Buffer.isBuffer(key)) {
    if (key.byteLength !== 32) throw new OrkError(ErrorCodes.PUBLIC_KEY_INVALID)
    return key
  }
  if ((key as unknown) instanceof Uint8Array) {
    const bytes = key as Uint8Array
    if (bytes.byteLength !== 32) throw new OrkError(ErrorCodes.PUBLIC_KEY_INVALID)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  throw new OrkError(ErrorCodes.PUBLIC_KEY_INVALID)
}
