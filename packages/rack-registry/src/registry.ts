import { OrkError, storeWriteError, writeStoreBatch } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import Hyperbee from 'hyperbee'
import { matchesTypeFamily, matchesTypePrefix } from './rack-types.ts'

/** The `info` part of a registration; `rpcPublicKey` is the rack's RPC server key (hex). */
export interface RackInfo {
  rpcPublicKey: string
  [field: string]: unknown
}

/**
 * A registered rack: the whole `registerRack` request as the reference stores it. Records
 * loaded from an older store may lack fields the reference never checked, so readers that
 * dial a rack still check `info.rpcPublicKey`.
 */
export interface RackRecord {
  id: string
  type: string
  info: RackInfo
  [field: string]: unknown
}

/** `listRacks` request: `type` is a plain prefix; `keys` truthy keeps `info.rpcPublicKey`. */
export interface ListRacksRequest {
  type?: unknown
  keys?: unknown
}

/** `forgetRacks` request: racks whose id is in `ids` are deleted, or every rack when `all` is truthy. */
export interface ForgetRacksRequest {
  ids?: unknown
  all?: unknown
}

/** Name of the bee holding the racks on the worker's `store/<cluster>-db` corestore. */
export const RACKS_BEE_NAME = 'racks'

/** Encodings of the `racks` bee in the reference: utf-8 keys, binary values (Buffers of JSON). */
export const RACKS_BEE_OPTIONS = Object.freeze({ keyEncoding: 'utf-8' as const })

/**
 * What the registry uses of a Hyperbee 2 instance. Written out because hyperbee ships no
 * types, so that this package's types need nothing from it.
 */
export interface RacksBee {
  ready(): Promise<void>
  close(): Promise<void>
  put(key: string, value: Buffer): Promise<void>
  createReadStream(): AsyncIterable<{ key: string | Uint8Array; value: Uint8Array }>
  batch(): { del(key: string): Promise<void>; flush(): Promise<void>; close(): Promise<void> }
}

/** What {@link openRacksBee} uses of a Corestore 7 instance (corestore ships no types either). */
export interface RacksStore {
  get(options: { name: string }): unknown
}

/** Opens the `racks` bee on a corestore exactly as the reference does (not ready yet; the caller closes it). */
export function openRacksBee(store: RacksStore): RacksBee {
  return new Hyperbee(store.get({ name: RACKS_BEE_NAME }), { ...RACKS_BEE_OPTIONS }) as RacksBee
}

export interface RackRegistryOptions {
  /** A bee the caller owns (opened with {@link RACKS_BEE_OPTIONS}); the registry never closes it. */
  bee?: RacksBee
  /** A corestore the caller owns; the registry opens the `racks` bee on it and closes that bee. */
  store?: RacksStore
  logger?: Logger
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/

/**
 * True for a value the transport can dial: 32 bytes as 64 hex characters.
 *
 * Stricter than the reference (any truthy value). A key that is not 32 bytes of hex can never
 * be dialled, so such a registration would only make every later fan-out fail for that rack;
 * refusing it at registration tells the operator at once. Same error code as the reference.
 */
export function isRackPublicKey(value: unknown): value is string {
  return typeof value === 'string' && HEX_KEY.test(value)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks a `registerRack` request in the reference's order. Beyond the reference's truthiness
 * checks: `id` and `type` must be strings (a non-string id crashes the bee's utf-8 key encoding,
 * a non-string type would break every later listRacks and fan-out), a missing `info` gives
 * `ERR_RACK_INFO_RPC_PUBKEY_INVALID` instead of a TypeError (Q14 FIX), and the key must be hex
 * (see {@link isRackPublicKey}).
 */
export function validateRackRegistration(request: unknown): RackRecord {
  const fields = isPlainObject(request) ? request : {}
  if (!fields.id || typeof fields.id !== 'string') throw new OrkError('ERR_RACK_ID_INVALID')
  if (!fields.type || typeof fields.type !== 'string') throw new OrkError('ERR_RACK_TYPE_INVALID')
  const info = fields.info
  if (!isPlainObject(info) || !isRackPublicKey(info.rpcPublicKey)) {
    throw new OrkError('ERR_RACK_INFO_RPC_PUBKEY_INVALID')
  }
  return fields as RackRecord
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** Byte-wise order of the UTF-8 encodings, which is the order Hyperbee keeps utf-8 keys in. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

function withoutPublicKey(rack: RackRecord): RackRecord {
  const copy = structuredClone(rack) as RackRecord
  if (isPlainObject(copy.info)) delete (copy.info as Partial<RackInfo>).rpcPublicKey
  return copy
}

/**
 * The racks of a cluster, kept in memory (they are few and read on every query) and persisted
 * in the reference's `racks` bee layout before any change is acknowledged.
 *
 * Records returned by {@link get}, {@link all} and {@link select} are deeply frozen shared
 * objects; {@link list} returns fresh copies meant to be sent to a client.
 */
export class RackRegistry {
  readonly #logger: Logger
  readonly #bee: RacksBee
  readonly #ownsBee: boolean
  readonly #racks = new Map<string, RackRecord>()
  /** Rack ids in key order; kept sorted so readers never sort. */
  #order: string[] = []
  #opening: Promise<void> | null = null
  #closing: Promise<void> | null = null
  #loaded = false
  /** Serialises changes so memory and bee always agree, whatever the interleaving of calls. */
  #lastChange: Promise<unknown> = Promise.resolve()

  constructor(options: RackRegistryOptions) {
    this.#logger = options.logger ?? silentLogger
    if (options.bee) {
      this.#bee = options.bee
      this.#ownsBee = false
    } else if (options.store) {
      this.#bee = openRacksBee(options.store)
      this.#ownsBee = true
    } else {
      throw new OrkError('ERR_RACK_REGISTRY_STORE_INVALID')
    }
  }

  /** Opens the bee and loads every rack into memory. Idempotent. */
  ready(): Promise<void> {
    this.#opening ??= this.#load()
    return this.#opening
  }

  async #load(): Promise<void> {
    await this.#bee.ready()
    for await (const entry of this.#bee.createReadStream()) {
      const id = typeof entry.key === 'string' ? entry.key : Buffer.from(entry.key).toString('utf-8')
      let record: unknown
      try {
        record = JSON.parse(Buffer.from(entry.value).toString('utf-8'))
      } catch {
        this.#logger.warn('skipping rack entry that is not JSON', { id })
        continue
      }
      if (!isPlainObject(record)) {
        this.#logger.warn('skipping rack entry that is not an object', { id })
        continue
      }
      this.#racks.set(id, deepFreeze(record as RackRecord))
      this.#order.push(id)
    }
    // The stream already yields key order; sorting guards a bee opened with another key encoding.
    this.#order.sort(compareKeys)
    this.#loaded = true
    this.#logger.debug('racks loaded', { count: this.#order.length })
  }

  /** Closes the bee if the registry opened it. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#opening?.catch(() => {})
      await this.#lastChange.catch(() => {})
      this.#loaded = false
      if (this.#ownsBee) await this.#bee.close()
    })()
    return this.#closing
  }

  /** Number of registered racks. */
  get size(): number {
    this.#assertLoaded()
    return this.#order.length
  }

  /**
   * `registerRack`: validates (see {@link validateRackRegistration}), then upserts the whole
   * request under its id. Resolves with `1`, as the reference replies, once it is persisted;
   * a write the file system refuses rejects with `ERR_STORE_WRITE_FAILED` and changes nothing.
   */
  async register(request: unknown): Promise<1> {
    const { id } = validateRackRegistration(request)
    const value = Buffer.from(JSON.stringify(request))
    // The in-memory copy is parsed back from the stored bytes so both hold exactly the same thing.
    const record = deepFreeze(JSON.parse(value.toString('utf-8')) as RackRecord)
    await this.#change(async () => {
      await this.#bee.put(id, value).catch((error: unknown) => {
        throw storeWriteError(error) ?? error
      })
      if (!this.#racks.has(id)) this.#insertId(id)
      this.#racks.set(id, record)
    })
    this.#logger.info('rack registered', { id, type: record.type })
    return 1
  }

  /**
   * `forgetRacks`: deletes the racks whose id is listed in `ids` (an array), or every rack when
   * `all` is truthy, in one atomic batch. Resolves with the number deleted; `{}` deletes nothing.
   * A write the file system refuses rejects with `ERR_STORE_WRITE_FAILED` and deletes nothing.
   */
  async forget(request: ForgetRacksRequest = {}): Promise<number> {
    const all = Boolean(request?.all)
    const ids = Array.isArray(request?.ids) ? new Set<unknown>(request.ids) : null
    if (!all && !ids) return 0
    return this.#change(async () => {
      const doomed = this.#order.filter((id) => all || ids?.has(id))
      if (doomed.length === 0) return 0
      await writeStoreBatch(this.#bee.batch(), async (batch) => {
        for (const id of doomed) await batch.del(id)
      })
      const gone = new Set(doomed)
      for (const id of doomed) this.#racks.delete(id)
      this.#order = this.#order.filter((id) => !gone.has(id))
      this.#logger.info('racks forgotten', { ids: doomed })
      return doomed.length
    })
  }

  /**
   * `listRacks`: racks whose type starts with `type` (plain prefix, Q9; all racks when `type` is
   * falsy), in key order, as fresh copies without `info.rpcPublicKey` unless `keys` is truthy.
   * A truthy non-string `type` throws `ERR_TYPE_INVALID`.
   */
  list(request: ListRacksRequest = {}): RackRecord[] {
    const type = request?.type
    if (type && typeof type !== 'string') throw new OrkError('ERR_TYPE_INVALID')
    this.#assertLoaded()
    const keepKeys = Boolean(request?.keys)
    const result: RackRecord[] = []
    for (const id of this.#order) {
      const rack = this.#racks.get(id) as RackRecord
      if (type && !matchesTypePrefix(rack.type, type as string)) continue
      result.push(keepKeys ? (structuredClone(rack) as RackRecord) : withoutPublicKey(rack))
    }
    return result
  }

  /** The rack registered under `id` (frozen, with its key), or `undefined`. */
  get(id: string): RackRecord | undefined {
    this.#assertLoaded()
    return this.#racks.get(id)
  }

  /** Every rack in key order (frozen, with keys): the ALL selection of fan-outs. */
  all(): RackRecord[] {
    this.#assertLoaded()
    return this.#order.map((id) => this.#racks.get(id) as RackRecord)
  }

  /** Racks whose type is `type` or a `type-` subtype, in key order: the TYPE selection of fan-outs. */
  select(type: string): RackRecord[] {
    return this.all().filter((rack) => matchesTypeFamily(rack.type, type))
  }

  #insertId(id: string): void {
    let low = 0
    let high = this.#order.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (compareKeys(this.#order[middle] as string, id) < 0) low = middle + 1
      else high = middle
    }
    this.#order.splice(low, 0, id)
  }

  #change<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new OrkError('ERR_RACK_REGISTRY_CLOSED'))
    const run = this.#lastChange
      .catch(() => {})
      .then(async () => {
        await this.ready()
        if (!this.#loaded) throw new OrkError('ERR_RACK_REGISTRY_CLOSED')
        return work()
      })
    this.#lastChange = run
    return run
  }

  #assertLoaded(): void {
    if (!this.#loaded) {
      throw new OrkError(this.#closing ? 'ERR_RACK_REGISTRY_CLOSED' : 'ERR_RACK_REGISTRY_NOT_READY')
    }
  }
}
