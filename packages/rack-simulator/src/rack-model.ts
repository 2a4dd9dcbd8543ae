import { OrkError } from '@ork/errors'
import { baseTypeOf, type DeviceProfile, deviceProfile } from './device-catalog.ts'
import {
  type DeviceAlert,
  type DeviceReading,
  deviceReading,
  deviceSnap,
  type ThingLast,
  thingLast,
} from './device-state.ts'
import { hashString, hashUnit, mulberry32, randomHex, randomUuid } from './random.ts'
import { aggregateStats, type StatEntry } from './stat-ops.ts'
import { statInterval, type TailLogSource, type TimeLog, tailLog } from './tail-log.ts'
import { applyThingFilters, isEmptyValue, projectDocuments, queryIdCandidates } from './thing-query.ts'
import {
  codeNumber,
  codePrefix,
  prepareThingTags,
  type SimulatedThing,
  skipTagPrefixes,
  type ThingComment,
  thingCode,
} from './things.ts'

type Request = Record<string, unknown>
type Document = Record<string, unknown>

const MINUTE = 60_000
const FIVE_MINUTES = 5 * MINUTE
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** Options of a {@link RackModel}. */
export interface RackModelOptions {
  /** Thing type served by the rack, e.g. `miner-am-s19xp`, `container-bd-d40`, `powermeter-abb`, `sensor-temp`. */
  type: string
  /** Number of simulated devices. */
  count: number
  /** Seed of every generated value (same seed, same rack). */
  seed: number | string
  /** Rack number `n` of the rack id `${type}-rack-${n}` (default 1). */
  rackNumber?: number
  /** Rack id (default `${type}-rack-${rackNumber}`, as `${getThingType()}-${ctx.rack}`). */
  rackId?: string
  /** Clock (default `Date.now`). Tail logs cover `[now - historyMs, now]`. */
  now?: () => number
  /** How much history the tail logs hold (default 7 days). */
  historyMs?: number
  /** Containers the miners/sensors are placed in (`info.container`); generated when absent. */
  containers?: string[]
  /** Share of miners placed in the `maintenance` container (default 0.01). */
  maintenanceShare?: number
  /** `config/global.config.json` of the rack; `null` makes getWrkConf fail with ERR_GLOBAL_CONFIG_MISSING. */
  globalConfig?: Record<string, unknown> | null
  /** Initial worker settings (getWrkSettings). */
  settings?: Record<string, unknown>
}

/** One write the rack executed (recorded so tests can check that no device got the same call twice). */
export interface ExecutedCall {
  rackId: string
  /** Rack method: queryThing, registerThing, updateThing, forgetThings, rackReboot, applyThings. */
  method: string
  /** Device the call reached (queryThing/updateThing/applyThings). */
  thingId?: string
  /** Device action (queryThing/applyThings), e.g. `reboot`, `setPowerMode`. */
  action?: string
  /** Parameters of the device action, or the request of a rack action. */
  params: unknown
  /** `actionId` the ork appended, when present. */
  actionId?: unknown
  /** Rack clock at execution. */
  at: number
  result?: unknown
  error?: string
}

/** RPC methods of a rack worker (rack-protocol.md section 1), except the raw `echo` and `ping`. */
export const RACK_JSON_METHODS: readonly string[] = [
  'getRack',
  'queryThing',
  'listThings',
  'getThingsCount',
  'registerThing',
  'updateThing',
  'saveThingComment',
  'editThingComment',
  'deleteThingComment',
  'forgetThings',
  'applyThings',
  'tailLog',
  'getHistoricalLogs',
  'getReplicaConf',
  'rackReboot',
  'getWrkExtData',
  'getWrkConf',
  'getThingConf',
  'getWrkSettings',
  'saveWrkSettings',
  'getWriteCalls',
  'getInstanceId',
]

/** Extra methods miner racks register (`FIRMWARE_RPC`). */
export const MINER_EXTRA_METHODS: readonly string[] = ['listFirmwares', 'registerFirmware']

/** Property each handler reads first: what a `null` request fails on in the real worker. */
const FIRST_PROPERTY: Record<string, string> = {
  listThings: 'offset',
  getThingsCount: 'query',
  tailLog: 'key',
  queryThing: 'id',
  registerThing: 'id',
  updateThing: 'id',
  forgetThings: 'query',
  saveThingComment: 'thingId',
  editThingComment: 'thingId',
  deleteThingComment: 'thingId',
  applyThings: 'method',
  getHistoricalLogs: 'logType',
  getWrkConf: 'fields',
  getThingConf: 'requestType',
  saveWrkSettings: 'entries',
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** `getJsonChanges` of the rack: `{path: {oldValue, newValue}}` or `{path: {additions, deletions}}`. */
function jsonChanges(previous: unknown, current: unknown): Record<string, unknown> {
  const changes: Record<string, unknown> = {}
  const walk = (before: unknown, after: unknown, path: string): void => {
    const beforeObject = (before ?? {}) as Record<string, unknown>
    const afterObject = (after ?? {}) as Record<string, unknown>
    const keys = new Set([...Object.keys(beforeObject), ...Object.keys(afterObject)])
    for (const key of keys) {
      const currentPath = path ? `${path}.${key}` : key
      const oldValue = before ? beforeObject[key] : undefined
      const newValue = after ? afterObject[key] : undefined
      if (isObject(oldValue) && isObject(newValue)) walk(oldValue, newValue, currentPath)
      else if (Array.isArray(oldValue) && Array.isArray(newValue)) {
        const additions = newValue.filter((item) => !oldValue.includes(item))
        const deletions = oldValue.filter((item) => !newValue.includes(item))
        if (additions.length > 0 || deletions.length > 0) changes[currentPath] = { additions, deletions }
      } else if (oldValue !== newValue) changes[currentPath] = { oldValue, newValue }
    }
  }
  walk(previous, current, '')
  return changes
}

const pick = (thing: SimulatedThing | undefined): Document | undefined =>
  thing && { id: thing.id, info: thing.info, tags: thing.tags, type: thing.type, code: thing.code }

/**
 * The parameters of a queryThing/applyThings call as the templates spread them
 * (`ctrl[method](...req.params)`): strings spread into characters, and anything not
 * iterable fails with the engine's own message (`req.params is not iterable …`).
 */
function spreadParams(req: Request): unknown[] {
  const collect = (...parameters: unknown[]) => parameters
  return collect(...(req.params as unknown[]))
}

/** The container template's check of switchSocket's argument: `[pduIndex, socketIndex, enabled]` tuples. */
function validateSocketSwitches(switches: unknown): void {
  if (!Array.isArray(switches)) throw new OrkError('ERR_SWITCH_SOCKET_ARGS_INVALID')
  for (const arg of switches) {
    // Destructured as the template does: a non-iterable tuple fails with the engine's TypeError.
    const [pduIndex, socketIndex, enabled] = arg as unknown[]
    if (typeof pduIndex !== 'string') throw new OrkError('ERR_SWITCH_SOCKET_PDU_INDEX_INVALID')
    if (typeof socketIndex !== 'string') throw new OrkError('ERR_SWITCH_SOCKET_SOCKET_INDEX_INVALID')
    if (typeof enabled !== 'boolean') throw new OrkError('ERR_SWITCH_SOCKET_ENABLED_INVALID')
  }
}

/**
 * The state and request handlers of one simulated rack worker, without any
 * network: `handle(method, request)` returns what the real rack returns, or
 * throws an {@link OrkError} whose message is the rack's error text.
 */
export class RackModel implements TailLogSource {
  readonly type: string
  readonly rackId: string
  readonly family: DeviceProfile['family']
  readonly profile: DeviceProfile
  readonly seed: number
  readonly historyMs: number
  /** Every write the rack executed, in order. */
  readonly executedCalls: ExecutedCall[] = []
  readonly instanceId: string
  /** Set by the RPC wiring once the server key is known (getRack reports it). */
  rpcPublicKey = ''

  private readonly clock: () => number
  private readonly random: () => number
  private readonly things = new Map<string, SimulatedThing>()
  private readonly globalConfig: Record<string, unknown> | null
  private settings: Record<string, unknown>
  private readonly reservedCodes = new Set<string>()
  private readonly infoHistory = new Map<number, Array<Record<string, unknown>>>()
  private readonly createdAt: number
  private nextDeviceIndex = 0
  /** Clock time of the latest write: the rack re-collects snapshots right after acting on a device. */
  private lastChangeAt = Number.NEGATIVE_INFINITY
  private version = 0
  private positionIndex: { version: number; size: number; positions: Map<string, number> } | undefined
  private tagIndex: { version: number; byTag: Map<string, SimulatedThing[]> } | undefined
  private readonly statCache = new Map<string, Document>()
  private readonly readingCache = new Map<number, { version: number; readings: Map<string, DeviceReading> }>()
  private readonly lastCache = new Map<string, { version: number; slot: number; last: ThingLast }>()

  constructor(options: RackModelOptions) {
    if (!Number.isInteger(options.count) || options.count < 0) throw new OrkError('ERR_RACK_COUNT_INVALID')
    this.type = options.type
    this.profile = deviceProfile(options.type)
    this.family = this.profile.family
    const rackNumber = options.rackNumber ?? 1
    this.rackId = options.rackId ?? `${options.type}-rack-${rackNumber}`
    this.seed = typeof options.seed === 'number' ? options.seed >>> 0 : hashString(options.seed)
    this.seed = hashString(`${this.seed}:${this.rackId}`)
    this.random = mulberry32(this.seed)
    this.clock = options.now ?? Date.now
    this.historyMs = options.historyMs ?? 7 * DAY
    this.createdAt = Math.floor((this.clock() - this.historyMs) / DAY) * DAY
    this.globalConfig =
      options.globalConfig === undefined
        ? { isAutoSleepAllowed: false, siteName: 'simulated-site' }
        : options.globalConfig
    this.settings = { ...(options.settings ?? {}) }
    this.instanceId = randomUuid(this.random)
    this.generateThings(options, rackNumber)
  }

  /** The rack clock. */
  now(): number {
    return this.clock()
  }

  /**
   * Changes whenever a read reply may change: after a write, and as the clock
   * moves (every 10 s, the finest collection interval). Lets the wire layer
   * reuse encoded replies, so simulated racks sharing one process with the code
   * under test do not dominate its measurements.
   */
  readStamp(): string {
    return `${this.version}:${Math.floor(this.clock() / 10_000)}`
  }

  /** Number of things the rack holds. */
  get thingCount(): number {
    return this.things.size
  }

  /** Container names the rack's devices sit in (containers: the names of the containers themselves). */
  containerNames(): string[] {
    return [...new Set([...this.things.values()].map((thing) => thing.info.container).filter(Boolean))] as string[]
  }

  /** RPC methods this rack answers with JSON (echo and ping are raw). */
  methods(): string[] {
    return this.family === 'miner' ? [...RACK_JSON_METHODS, ...MINER_EXTRA_METHODS] : [...RACK_JSON_METHODS]
  }

  /** Answers one request like the real rack worker (throws OrkError for `[HRPC_ERR]=` replies). */
  async handle(method: string, request: unknown): Promise<unknown> {
    if (!this.methods().includes(method)) throw new OrkError('ERR_METHOD_UNKNOWN', { method })
    if (request === null || request === undefined) {
      const property = FIRST_PROPERTY[method]
      if (property) throw new OrkError(`Cannot read properties of ${String(request)} (reading '${property}')`)
      if (method === 'getWriteCalls') {
        throw new OrkError(`Cannot destructure property 'query' of 'data' as it is ${String(request)}.`)
      }
    }
    const body = (typeof request === 'object' && request !== null ? request : {}) as Request
    switch (method) {
      case 'getRack':
        return { id: this.rackId, rpcPubKey: this.rpcPublicKey }
      case 'getInstanceId':
        return this.instanceId
      case 'listThings':
        return this.listThings(body)
      case 'getThingsCount':
        return this.getThingsCount(body)
      case 'queryThing':
        return this.queryThing(body)
      case 'registerThing':
        return this.registerThing(body)
      case 'updateThing':
        return this.updateThing(body)
      case 'saveThingComment':
      case 'editThingComment':
      case 'deleteThingComment':
        return this.comment(method, body)
      case 'forgetThings':
        return this.forgetThings(body)
      case 'applyThings':
        return this.applyThings(body)
      case 'tailLog':
        return tailLog(this, body)
      case 'getHistoricalLogs':
        return this.getHistoricalLogs(body)
      case 'getReplicaConf':
        return this.getReplicaConf()
      case 'rackReboot':
        this.record({ method: 'rackReboot', params: body, result: 1 })
        return 1
      case 'getWrkExtData':
        return {}
      case 'getWrkConf':
        return this.getWrkConf(body)
      case 'getThingConf':
        return this.getThingConf(body)
      case 'getWrkSettings':
        return { ...this.settings }
      case 'saveWrkSettings':
        // `saveSettingsEntries`: any object (arrays too), nothing else.
        if (!body.entries || typeof body.entries !== 'object') throw new OrkError('ERR_ENTRIES_INVALID')
        this.settings = { ...this.settings, ...(body.entries as Record<string, unknown>) }
        return { ...this.settings }
      case 'getWriteCalls':
        return this.getWriteCalls(body)
      case 'listFirmwares':
        return [{ version: this.profile.firmwareVersion, type: this.type }]
      default:
        return 1
    }
  }

  // --- things --------------------------------------------------------------------------------

  private generateThings(options: RackModelOptions, rackNumber: number): void {
    const count = options.count
    const prefix = codePrefix(this.type).toLowerCase()
    const containers =
      options.containers && options.containers.length > 0
        ? options.containers
        : Array.from({ length: Math.max(1, Math.ceil(count / 200)) }, (_, index) =>
            count > 200 ? `group-${rackNumber}-${index + 1}` : `group-${rackNumber}`,
          )
    const perContainer = Math.max(1, Math.ceil(count / containers.length))
    const maintenanceShare = options.maintenanceShare ?? 0.01
    for (let number = 1; number <= count; number++) {
      const code = thingCode(this.type, number)
      const id = `${prefix}-r${rackNumber}-${String(number).padStart(4, '0')}`
      const deviceIndex = this.nextDeviceIndex++
      const info: Record<string, unknown> = {}
      const slotInContainer = (number - 1) % perContainer
      const container = containers[Math.min(containers.length - 1, Math.floor((number - 1) / perContainer))] as string
      switch (this.family) {
        case 'miner': {
          const inMaintenance = hashUnit(this.seed, deviceIndex, 91) < maintenanceShare
          info.container = inMaintenance ? 'maintenance' : container
          if (!inMaintenance) info.pos = `${Math.floor(slotInContainer / 14) + 1}-${(slotInContainer % 14) + 1}`
          info.macAddress = randomHex(this.random, 6).replace(/(..)(?!$)/g, '$1:')
          info.serialNum = `${codePrefix(this.type).replace(/-/g, '')}${randomHex(this.random, 5).toUpperCase()}`
          info.nominalHashrateMhs = this.profile.nominalHashrateMhs
          break
        }
        case 'container':
          info.container = `${prefix}-${rackNumber}-${number}`
          info.pos = String(number)
          info.serialNum = `${codePrefix(this.type).replace(/-/g, '')}${randomHex(this.random, 4).toUpperCase()}`
          info.nominalHashrateMhs = this.profile.nominalHashrateMhs
          info.nominalEfficiencyWThs = Math.round(this.profile.nominalPowerW / (this.profile.nominalHashrateMhs / 1e6))
          info.nominalMinerCapacity = this.profile.minerCapacity
          break
        case 'powermeter':
          info.pos = number === 1 ? 'site' : `tr-${number - 1}`
          if (number > 1) info.container = container
          info.serialNum = randomHex(this.random, 4).toUpperCase()
          break
        case 'sensor':
          info.container = container
          info.pos = String(slotInContainer + 1)
          info.serialNum = randomHex(this.random, 4).toUpperCase()
          break
      }
      info.createdAt = this.createdAt
      info.updatedAt = this.createdAt
      const comments: ThingComment[] = []
      if (hashUnit(this.seed, deviceIndex, 92) < 0.05) {
        comments.push({
          id: randomUuid(this.random),
          ts: this.createdAt + Math.floor(hashUnit(this.seed, deviceIndex, 93) * this.historyMs),
          comment: 'Replaced a fan; monitoring temperatures',
          user: 'tech@site.example',
        })
      }
      const opts: Record<string, unknown> =
        this.family === 'miner'
          ? {
              address: `10.${rackNumber % 256}.${Math.floor(number / 250) % 256}.${(number % 250) + 2}`,
              port: 4028,
              username: 'root',
              password: 'root',
            }
          : { address: `10.200.${rackNumber % 256}.${(number % 250) + 2}`, port: 502 }
      const thing: SimulatedThing = {
        id,
        type: this.type,
        code,
        tags: [],
        opts,
        info,
        comments,
        deviceIndex,
        profile: this.profile,
        runtime: {},
      }
      if (this.family === 'miner') {
        thing.runtime.pools = [
          { url: 'stratum+tcp://btc.pool.example:3333', username: `simsite.${code.toLowerCase()}` },
          { url: 'stratum+tcp://btc-backup.pool.example:3333', username: `simsite.${code.toLowerCase()}` },
        ]
      }
      thing.tags = prepareThingTags(thing, this.profile.brandTags)
      this.things.set(id, thing)
    }
  }

  private changed(): void {
    this.lastChangeAt = this.clock()
    this.version++
    this.statCache.clear()
  }

  private last(thing: SimulatedThing): ThingLast {
    // Racks collect snapshots every minute; listThings shows the latest collection.
    const now = this.clock()
    const slot = Math.max(Math.floor(now / MINUTE) * MINUTE, Math.min(this.lastChangeAt, now))
    const cached = this.lastCache.get(thing.id)
    if (cached && cached.slot === slot && cached.version === this.version) return cached.last
    const last = thingLast(thing, this.seed, slot)
    this.lastCache.set(thing.id, { version: this.version, slot, last })
    return last
  }

  /**
   * The in-memory thing documents the rack filters (`{id,type,code,tags,opts,info,comments,last}`),
   * in rack order. A query that names its ids gets only those things (see queryIdCandidates):
   * mingo's answer is the same, without scanning every thing of the rack, which matters when
   * one process plays a whole site.
   */
  private memoryDocuments(query?: unknown): Document[] {
    return this.candidateThings(query).map((thing) => ({
      id: thing.id,
      type: thing.type,
      code: thing.code,
      tags: thing.tags,
      opts: thing.opts,
      info: thing.info,
      comments: thing.comments,
      last: this.last(thing),
    }))
  }

  private candidateThings(query: unknown): SimulatedThing[] {
    const ids = queryIdCandidates(query)
    if (ids === null) return [...this.things.values()]
    const found = [...new Set(ids)].flatMap((id) => this.things.get(id) ?? [])
    if (found.length < 2) return found
    const positions = this.thingPositions()
    return found.sort((left, right) => (positions.get(left.id) as number) - (positions.get(right.id) as number))
  }

  /** Each thing's place in rack order, rebuilt after a change. */
  private thingPositions(): Map<string, number> {
    if (this.positionIndex?.version !== this.version || this.positionIndex.size !== this.things.size) {
      const positions = new Map<string, number>()
      for (const id of this.things.keys()) positions.set(id, positions.size)
      this.positionIndex = { version: this.version, size: this.things.size, positions }
    }
    return this.positionIndex.positions
  }

  private packThing(document: Document, status: unknown): Document {
    const pack: Document = {
      id: document.id,
      code: document.code,
      type: document.type,
      tags: document.tags,
      info: document.info,
      rack: this.rackId,
      comments: document.comments,
    }
    if (this.family === 'miner') {
      const opts = document.opts as Record<string, unknown> | undefined
      pack.address = opts?.address
      pack.port = opts?.port
    }
    if (status) pack.last = document.last
    return pack
  }

  private listThings(request: Request): Document[] {
    const filtered = applyThingFilters(this.memoryDocuments(request.query), {
      ...request,
      offset: request.offset ?? 0,
      limit: request.limit ?? 100,
    })
    return filtered.map((document) => this.packThing(document, request.status))
  }

  private getThingsCount(request: Request): number {
    if (!request.query) return this.things.size
    return applyThingFilters(this.memoryDocuments(request.query), { query: request.query }).length
  }

  private record(call: Omit<ExecutedCall, 'rackId' | 'at'>): void {
    this.executedCalls.push({ rackId: this.rackId, at: this.clock(), ...call })
  }

  // --- device control ------------------------------------------------------------------------

  private controller(thing: SimulatedThing): Record<string, (...parameters: unknown[]) => unknown> {
    const validateWriteAction = (...parameters: unknown[]): number => {
      const [action, first] = parameters
      if (action === 'setLED' && typeof first !== 'boolean') throw new OrkError('ERR_SET_LED_ENABLED_INVALID')
      if (action === 'setPowerMode' && !this.profile.powerModes.includes(first as string)) {
        throw new OrkError('ERR_SET_POWER_MODE_INVALID')
      }
      if (action === 'switchContainer' && typeof first !== 'boolean') {
        throw new OrkError('ERR_SWITCH_CONTAINER_ENABLED_INVALID')
      }
      if (action === 'switchCoolingSystem' && typeof first !== 'boolean') {
        throw new OrkError('ERR_SWITCH_COOLING_SYSTEM_ENABLED_INVALID')
      }
      if (action === 'switchSocket') validateSocketSwitches(first)
      return 1
    }
    const success = () => ({ success: true })
    switch (this.family) {
      case 'miner':
        return {
          validateWriteAction,
          reboot: () => {
            thing.runtime.rebootedAt = this.clock()
            this.changed()
            return success()
          },
          setPowerMode: (mode) => {
            if (!this.profile.powerModes.includes(mode as string)) throw new OrkError('ERR_SET_POWER_MODE_INVALID')
            thing.runtime.powerMode = { mode: mode as string, since: this.clock() }
            this.changed()
            return success()
          },
          setLED: (enabled) => {
            if (typeof enabled !== 'boolean') throw new OrkError('ERR_SET_LED_ENABLED_INVALID')
            thing.runtime.ledOn = enabled
            this.changed()
            return success()
          },
          setupPools: success,
          setPools: success,
          updateFirmware: () => {
            if (!this.profile.updatesFirmware) throw new OrkError('ERR_NOT_IMPL')
            return success()
          },
          getRealtimeData: () =>
            deviceSnap(thing, deviceReading(thing, this.seed, this.clock()), this.seed, this.clock()),
        }
      case 'container':
        return {
          validateWriteAction,
          switchContainer: (enabled) => {
            thing.runtime.containerOff = { off: enabled === false, since: this.clock() }
            this.changed()
            return success()
          },
          switchSocket: success,
          switchCoolingSystem: success,
        }
      case 'powermeter':
        return { validateWriteAction, resetPowerFailCounter: success, resetEventLog: success }
      case 'sensor':
        return { validateWriteAction }
    }
  }

  private async queryThing(request: Request): Promise<unknown> {
    const thing = this.things.get(request.id as string)
    if (!thing) throw new OrkError('ERR_THING_NOTFOUND')
    const controller = this.controller(thing)
    const method = request.method as string
    const implementation = Object.hasOwn(controller, method) ? controller[method] : undefined
    if (!implementation) throw new OrkError('ERR_THING_METHOD_NOTFOUND')
    const parameters = spreadParams(request)
    // Validation is a read; only calls that act on the device are recorded.
    if (method === 'validateWriteAction') return implementation(...parameters)
    const trailer = parameters[parameters.length - 1]
    const actionId = isObject(trailer) ? trailer.actionId : undefined
    try {
      const result = await implementation(...parameters)
      this.record({ method: 'queryThing', thingId: thing.id, action: method, params: parameters, actionId, result })
      return result
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      this.record({
        method: 'queryThing',
        thingId: thing.id,
        action: method,
        params: parameters,
        actionId,
        error: message,
      })
      throw error
    }
  }

  private nextCode(): string {
    const highest = [...this.things.values()]
      .map((thing) => thing.code)
      .concat([...this.reservedCodes])
      .reduce((maximum, code) => Math.max(maximum, codeNumber(code)), 0)
    return thingCode(this.type, highest + 1)
  }

  private registerThing(request: Request): number {
    if (request.id && this.things.has(request.id as string)) throw new OrkError('ERR_THING_WITH_ID_ALREADY_EXISTS')
    const requestedCode = request.code as string | undefined
    if (requestedCode && !/-\d+$/.test(requestedCode)) throw new OrkError('ERR_THING_CODE_INVALID')
    if (requestedCode && [...this.things.values()].some((thing) => thing.code === requestedCode)) {
      throw new OrkError('ERR_THING_WITH_CODE_ALREADY_EXISTS')
    }
    // Miner and container racks need the device's connection options (`_validateRegisterThing`).
    if ((this.family === 'miner' || this.family === 'container') && !request.opts) {
      throw new OrkError('ERR_THING_VALIDATE_OPTS_INVALID')
    }
    if (this.family === 'miner') this.validateMinerDataChange(request)
    // `_prepThingTags` checks auxiliary tags only when some are given.
    if (request.tags && !Array.isArray(request.tags)) throw new OrkError('ERR_THING_TAGS_INVALID')
    const now = this.clock()
    const comments: ThingComment[] = []
    if (request.comment && request.user) comments.push({ ts: now, comment: request.comment, user: request.user })
    const code = requestedCode ?? this.nextCode()
    const id = (request.id as string | undefined) ?? randomUuid(this.random)
    const info = { ...(isObject(request.info) ? request.info : {}), createdAt: now, updatedAt: now }
    const thing: SimulatedThing = {
      id: String(id),
      type: this.type,
      code,
      tags: [],
      opts: isObject(request.opts) ? request.opts : {},
      info,
      comments,
      deviceIndex: this.nextDeviceIndex++,
      profile: this.profile,
      runtime: {},
    }
    thing.tags = prepareThingTags(thing, this.profile.brandTags, request.tags)
    this.things.set(thing.id, thing)
    this.changed()
    this.record({ method: 'registerThing', thingId: thing.id, params: request, actionId: request.actionId, result: 1 })
    return 1
  }

  /**
   * The miner template's `_validateMinerDataChange`: no other miner may hold the same serial
   * number, MAC address (any case), container position, or address (`allowDuplicateIPs` off).
   */
  private validateMinerDataChange(request: Request): void {
    const info = (isObject(request.info) ? request.info : {}) as Record<string, unknown>
    const opts = (isObject(request.opts) ? request.opts : {}) as Record<string, unknown>
    const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value)
    for (const other of this.things.values()) {
      if (other.id === request.id) continue
      const otherInfo = other.info as Record<string, unknown>
      if (otherInfo.serialNum && otherInfo.serialNum === info.serialNum)
        throw new OrkError('ERR_THING_SERIALNUM_EXISTS')
      if (otherInfo.macAddress && lower(otherInfo.macAddress) === lower(info.macAddress)) {
        throw new OrkError('ERR_THING_MACADDRESS_EXISTS')
      }
      if (
        otherInfo.pos &&
        otherInfo.pos === info.pos &&
        otherInfo.container &&
        otherInfo.container === info.container
      ) {
        throw new OrkError('ERR_THING_POS_EXISTS')
      }
      if (other.opts.address && other.opts.address === opts.address) throw new OrkError('ERR_THING_IP_ADDRESS_EXISTS')
    }
  }

  private updateThing(request: Request): number {
    const thing = request.id ? this.things.get(request.id as string) : undefined
    if (!thing) throw new OrkError('ERR_THING_NOTFOUND')
    const code = request.code as string | undefined
    if (this.family === 'miner') {
      // The miner template replaces the code checks with its own (`_validateUpdateThing`).
      this.validateMinerDataChange(request)
    } else if (code) {
      if (!/-\d+$/.test(code)) throw new OrkError('ERR_THING_CODE_INVALID')
      if ([...this.things.values()].some((other) => other.id !== thing.id && other.code === code)) {
        throw new OrkError('ERR_THING_WITH_CODE_ALREADY_EXISTS')
      }
    }
    if (request.tags && !Array.isArray(request.tags)) throw new OrkError('ERR_THING_TAGS_INVALID')
    const previousInfo = { ...thing.info }
    const previousTags = [...thing.tags]
    if (code) thing.code = code
    if (isObject(request.opts)) thing.opts = request.forceOverwrite ? request.opts : { ...thing.opts, ...request.opts }
    if (request.comment && request.user)
      thing.comments.push({ ts: this.clock(), comment: request.comment, user: request.user })
    if (isObject(request.info)) {
      thing.info = request.forceOverwrite
        ? request.info
        : { ...thing.info, ...request.info, ...(request.actionId ? { lastActionId: request.actionId } : {}) }
    }
    thing.tags = prepareThingTags(thing, this.profile.brandTags, request.tags, previousTags)
    const now = this.clock()
    thing.info = { ...thing.info, updatedAt: now }
    const entries = this.infoHistory.get(now) ?? []
    entries.push({ ts: now, changes: jsonChanges(previousInfo, thing.info), id: thing.id })
    this.infoHistory.set(now, entries)
    this.changed()
    this.record({ method: 'updateThing', thingId: thing.id, params: request, actionId: request.actionId, result: 1 })
    return 1
  }

  private comment(method: string, request: Request): number {
    const thing = request.thingId ? this.things.get(request.thingId as string) : undefined
    if (!thing) throw new OrkError('ERR_THING_NOTFOUND')
    if (method === 'saveThingComment') {
      thing.comments.push({
        id: randomUuid(this.random),
        ts: this.clock(),
        comment: request.comment,
        user: request.user,
        ...(request.pos ? { pos: request.pos } : {}),
      })
      this.changed()
      return 1
    }
    const index = request.id
      ? thing.comments.findIndex((entry) => entry.id === request.id)
      : request.ts
        ? thing.comments.findIndex((entry) => entry.ts === request.ts)
        : -1
    if (index === -1) throw new OrkError('ERR_THING_COMMENT_NOTFOUND')
    const entry = thing.comments[index] as ThingComment
    if (entry.user !== request.user) throw new OrkError('ERR_COMMENT_ACCESS_DENIED')
    if (method === 'editThingComment') entry.comment = request.comment
    else thing.comments.splice(index, 1)
    this.changed()
    return 1
  }

  private forgetThings(request: Request): number {
    let query = request.query ?? { id: { $in: [] } }
    if (request.all) query = { id: { $exists: true } }
    const forgotten = applyThingFilters(this.memoryDocuments(query), { ...request, query }).map(
      (document) => document.id,
    )
    for (const id of forgotten) this.things.delete(id as string)
    this.changed()
    this.record({ method: 'forgetThings', params: request, actionId: request.actionId, result: forgotten })
    return 1
  }

  private async applyThings(request: Request): Promise<number> {
    const method = request.method as string
    if (!method) throw new OrkError('ERR_METHOD_INVALID')
    const selected = new Set(
      applyThingFilters(this.memoryDocuments(request.query), request).map((document) => document.id),
    )
    let done = 0
    for (const thing of [...this.things.values()]) {
      if (!selected.has(thing.id)) continue
      const implementation = this.controller(thing)[method]
      if (!implementation || method === 'validateWriteAction') continue
      try {
        // Inside the per-thing try, as the template: missing params fail (and count) each thing.
        const parameters = spreadParams(request)
        const result = await implementation(...parameters)
        this.record({ method: 'applyThings', thingId: thing.id, action: method, params: parameters, result })
        done++
      } catch {
        // The real rack logs and counts only successes.
      }
    }
    return done
  }

  private async getWriteCalls(
    request: Request,
  ): Promise<{ calls: Array<{ id: unknown; tags: unknown }>; reqVotes: number }> {
    const { query, action, params, rackActionId = null } = request
    const whitelisted = this.profile.whitelistedActions.find(([name]) => name === action)
    if (!whitelisted) return { calls: [], reqVotes: 1 }
    const reply = { calls: [] as Array<{ id: unknown; tags: unknown }>, reqVotes: whitelisted[1] }
    if (rackActionId) {
      reply.calls.push({ id: rackActionId, tags: [] })
      return reply
    }
    const things = this.listThings({ query, limit: 100000 })
    for (const thing of things) {
      // Spread as the facility does (`[action, ...params]`): a non-iterable fails with the engine's message.
      await this.queryThing({ id: thing.id, method: 'validateWriteAction', params: [action, ...(params as unknown[])] })
      reply.calls.push({ id: thing.id, tags: thing.tags })
    }
    return reply
  }

  // --- configuration -------------------------------------------------------------------------

  private getWrkConf(request: Request): unknown {
    if (!this.globalConfig) throw new OrkError('ERR_GLOBAL_CONFIG_MISSING')
    return projectDocuments([this.globalConfig], request.fields ?? {})[0]
  }

  private getThingConf(request: Request): unknown {
    if (request.requestType === 'nextAvailableCode') return this.nextCode()
    if (this.family === 'miner' && request.requestType === 'poolConfig') {
      return [
        { url: 'stratum+tcp://btc.pool.example:3333', worker_name: 'simsite', worker_password: 'x' },
        { url: 'stratum+tcp://btc-backup.pool.example:3333', worker_name: 'simsite', worker_password: 'x' },
      ]
    }
    throw new OrkError('ERR_INVALID_REQUEST_TYPE')
  }

  private getReplicaConf(): unknown {
    const keys: Record<string, string> = {}
    for (const thing of this.things.values()) {
      keys[`thing-5m-${thing.id}-0`] = [0, 1, 2, 3, 4, 5, 6, 7]
        .map((part) => hashString(`${this.seed}:${thing.id}:${part}`).toString(16).padStart(8, '0'))
        .join('')
    }
    return { metaDiscoveryKeys: keys }
  }

  // --- logs ----------------------------------------------------------------------------------

  private historyStart(): number {
    return this.clock() - this.historyMs
  }

  private thingsByTag(): Map<string, SimulatedThing[]> {
    if (this.tagIndex?.version === this.version) return this.tagIndex.byTag
    const skipped = skipTagPrefixes(this.family)
    const byTag = new Map<string, SimulatedThing[]>()
    for (const thing of this.things.values()) {
      for (const tag of thing.tags) {
        if (skipped.some((prefix) => tag.startsWith(prefix))) continue
        const list = byTag.get(tag) ?? []
        list.push(thing)
        byTag.set(tag, list)
      }
    }
    this.tagIndex = { version: this.version, byTag }
    return byTag
  }

  /** Tags that have stat logs (every thing tag except the family's skipped prefixes). */
  statTags(): string[] {
    return [...this.thingsByTag().keys()]
  }

  private readingsAt(ts: number): Map<string, DeviceReading> {
    const cached = this.readingCache.get(ts)
    if (cached && cached.version === this.version) return cached.readings
    const readings = new Map<string, DeviceReading>()
    for (const thing of this.things.values()) readings.set(thing.id, deviceReading(thing, this.seed, ts))
    if (this.readingCache.size > 400) this.readingCache.clear()
    this.readingCache.set(ts, { version: this.version, readings })
    return readings
  }

  private statRecord(key: string, tag: string, ts: number): Document {
    const cacheKey = `${key}|${tag}|${ts}`
    const cached = this.statCache.get(cacheKey)
    if (cached) return cached
    const readings = this.readingsAt(ts)
    const entries: StatEntry[] = []
    for (const thing of this.thingsByTag().get(tag) ?? []) {
      if ((thing.info.createdAt as number) > ts) continue
      entries.push({ thing, reading: readings.get(thing.id) as DeviceReading })
    }
    const record = { ts, ...aggregateStats(this.family, entries) }
    if (this.statCache.size > 20_000) this.statCache.clear()
    this.statCache.set(cacheKey, record)
    return record
  }

  /** @internal tail-log source: the log `${key}-${tag}` at a rotation. */
  openLog(key: string, tag: string, offset: number): TimeLog | null {
    if (offset > 0) return null
    const now = this.clock()
    if (key === 'thing-5m') {
      const thing = this.things.get(tag)
      if (!thing) return null
      const first = Math.max(this.historyStart(), thing.info.createdAt as number)
      return {
        kind: 'series',
        intervalMs: FIVE_MINUTES,
        firstTs: Math.ceil(first / FIVE_MINUTES) * FIVE_MINUTES,
        lastTs: Math.floor(now / FIVE_MINUTES) * FIVE_MINUTES,
        record: (ts) => {
          const reading = deviceReading(thing, this.seed, ts)
          return { ts, err: null, snap: deviceSnap(thing, reading, this.seed, ts) }
        },
      }
    }
    if (key === 'stat-rtd') {
      if (tag !== `t-${baseTypeOf(this.type)}`) return null
      return {
        kind: 'single',
        record: () => {
          const readings = this.readingsAt(Math.floor(now / 10_000) * 10_000)
          const entries = [...this.things.values()].map((thing) => ({
            thing,
            reading: readings.get(thing.id) as DeviceReading,
          }))
          return aggregateStats(this.family, entries)
        },
      }
    }
    const interval = statInterval(key)
    if (!interval || !this.thingsByTag().has(tag)) return null
    return {
      kind: 'series',
      intervalMs: interval,
      firstTs: Math.ceil(this.historyStart() / interval) * interval,
      lastTs: Math.floor(now / interval) * interval,
      record: (ts) => this.statRecord(key, tag, ts),
    }
  }

  private alertsAtHour(hourStart: number): Array<DeviceAlert & { thingId: string }> {
    const alerts: Array<DeviceAlert & { thingId: string }> = []
    const readings = this.readingsAt(hourStart)
    for (const thing of this.things.values()) {
      const reading = readings.get(thing.id) as DeviceReading
      for (const entry of reading.alerts)
        if (entry.createdAt === hourStart) alerts.push({ ...entry, thingId: thing.id })
    }
    return alerts
  }

  private getHistoricalLogs(request: Request): unknown {
    const logType = request.logType
    if (!logType) throw new OrkError('ERR_INFO_HISTORY_LOG_TYPE_INVALID')
    const offset = (request.offset || 0) as number
    const limit = request.limit ? (request.limit as number) : undefined
    const start = request.start as number | undefined
    const end = request.end as number | undefined
    if (logType === 'alerts') {
      if (offset > 0) throw new OrkError('ERR_LOG_NOTFOUND')
      const newest = Math.floor(Math.min(this.clock(), end || Number.POSITIVE_INFINITY) / HOUR) * HOUR
      const oldest = Math.max(this.historyStart(), start || 0)
      const groups: Array<Array<DeviceAlert & { thingId: string }>> = []
      for (let hourStart = newest; hourStart >= oldest; hourStart -= HOUR) {
        if (limit !== undefined && groups.length >= limit) break
        const alerts = this.alertsAtHour(hourStart)
        if (alerts.length > 0) groups.push(alerts)
      }
      const logs = groups
        .flat()
        .slice(0, limit)
        .map(({ thingId, ...alert }) => ({ ...alert, thing: pick(this.things.get(thingId)) }))
      if (request.query === undefined || request.query === null) return logs
      return applyThingFilters(logs, { query: request.query })
    }
    if (logType === 'info') {
      if (offset > 0 || this.infoHistory.size === 0) throw new OrkError('ERRs_INFO_HISTORY_LOG_NOTFOUND')
      const keys = [...this.infoHistory.keys()]
        .filter((ts) => (!start || ts >= start) && (!end || ts <= end))
        .sort((left, right) => right - left)
        .slice(0, limit)
      let logs: Document[] = keys
        .flatMap((ts) => this.infoHistory.get(ts) ?? [])
        .slice(0, limit)
        .map(({ id, ...rest }) => ({ ...rest, thing: pick(this.things.get(id as string)) }))
      if (!isEmptyValue(request.fields)) logs = projectDocuments(logs, request.fields)
      return applyThingFilters(logs, { ...request, offset: request.offset ?? 0, limit: request.limit ?? 100 })
    }
    // Another log type: the real handler falls through and returns undefined, which its net
    // facility cannot encode (see encodeReply).
    return undefined
  }
}
