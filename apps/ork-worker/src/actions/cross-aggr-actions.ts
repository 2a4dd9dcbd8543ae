import { type Logger, silentLogger } from '@ork/logger'
import pLimit from 'p-limit'
import type { PushActionReply, PushActionRequest } from './ork-actions.ts'

/** Default period of the automation (`crossAggrAction.agrrListThingsIntvlMs`, key typo as the reference, Q1). */
export const DEFAULT_CROSS_AGGR_INTERVAL_MS = 10_000
/** Default throttle per container tag (`minActionTsDiff`). */
export const DEFAULT_MIN_ACTION_TS_DIFF_MS = 60_000
/** Voter of automated actions unless the config names one. */
export const AUTOMATION_VOTER = 'MOS AUTOMATION'
const THING_CONCURRENCY = 25

/** What the automation reads and does; the ork passes its own listThings and pushAction. */
export interface CrossAggrActionsDependencies {
  /** `conf.crossAggrAction` (may be undefined or malformed: checked at every run). */
  config: () => unknown
  /** `isAutoSleepAllowed` and the rest of the global config, as edited by setGlobalConfig. */
  globalConfig: () => { isAutoSleepAllowed?: unknown } | undefined
  listThings: (request: { query?: unknown; fields?: unknown }) => Promise<unknown>
  pushAction: (request: PushActionRequest) => Promise<PushActionReply>
  /** Clock of the throttle, in ms (default `performance.now`: monotonic). */
  now?: () => number
  logger?: Logger
}

interface ValidConfig {
  tagPrefix: string
  crossThingType: string
  action: string
  params: unknown[]
  authPerms: unknown[]
  listThingsReq: { query?: unknown; fields?: unknown }
  minActionTsDiff: number
  devicesCondition: unknown[]
  fields: unknown
  voter: string
}

function validConfig(config: unknown): ValidConfig | null {
  if (config === null || typeof config !== 'object') return null
  const c = config as Record<string, unknown>
  const request = c.crossThingsActionReq as Record<string, unknown> | undefined
  if (
    !c.tagPrefix ||
    !c.crossThingType ||
    !c.action ||
    !Array.isArray(c.params) ||
    !Array.isArray(c.authPerms) ||
    !request ||
    typeof request !== 'object'
  ) {
    return null
  }
  // The reference spreads `devicesCondition` into the query: missing or not an array, it
  // throws and never pushes (Q41). Treating "missing" as "no condition" would put every
  // device carrying the tag to sleep, so both are a bad config here.
  const conditions = request.devicesCondition
  if (!Array.isArray(conditions)) return null
  const listThingsReq = c.listThingsReq
  if (listThingsReq === null || typeof listThingsReq !== 'object') return null
  return {
    tagPrefix: String(c.tagPrefix),
    crossThingType: String(c.crossThingType),
    action: String(c.action),
    params: c.params,
    authPerms: c.authPerms,
    listThingsReq: listThingsReq as ValidConfig['listThingsReq'],
    minActionTsDiff:
      typeof c.minActionTsDiff === 'number' && c.minActionTsDiff > 0
        ? c.minActionTsDiff
        : DEFAULT_MIN_ACTION_TS_DIFF_MS,
    devicesCondition: conditions,
    fields: request.fields,
    voter: typeof c.voter === 'string' && c.voter.trim() ? c.voter : AUTOMATION_VOTER,
  }
}

/**
 * The auto-sleep automation of `cross.aggr.action.json` (ork-behaviour.md 7.2): for every
 * thing (e.g. a container with its primary pump running) carrying a tag with `tagPrefix`,
 * when devices of `crossThingType` with that tag still meet `devicesCondition`, push
 * `action` on all devices of that type with that tag, at most once per `minActionTsDiff`
 * per tag. Runs only while `isAutoSleepAllowed`. A run never overlaps the previous one
 * and never throws (Q40, Q41); the throttle map forgets entries once they expire (Q56).
 */
export class CrossAggrActionsJob {
  readonly #dependencies: CrossAggrActionsDependencies
  readonly #logger: Logger
  readonly #now: () => number
  /** Last push time per `<crossThingType>_<tag>` (on the job's clock, see `now`). */
  readonly lastActionAt = new Map<string, number>()
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #closed = false

  constructor(dependencies: CrossAggrActionsDependencies) {
    this.#dependencies = dependencies
    this.#logger = dependencies.logger ?? silentLogger
    // The throttle measures elapsed time: on the wall clock, a step forward would push again early
    // and a step back would stop the automation for the length of the step.
    this.#now = dependencies.now ?? (() => performance.now())
  }

  /** Starts the period; does nothing when already started. */
  start(intervalMs: number = DEFAULT_CROSS_AGGR_INTERVAL_MS): void {
    if (this.#timer) return
    this.#timer = setInterval(() => {
      void this.run()
    }, intervalMs)
  }

  /** One run; resolves false without doing anything when the previous run is still going or the job is closed. */
  async run(): Promise<boolean> {
    if (this.#running || this.#closed) return false
    this.#running = this.#run()
      .catch((error: unknown) => this.#logger.error('ERR_CROSS_AGGR_ACTIONS_FAILED', { error }))
      .finally(() => {
        this.#running = null
      })
    await this.#running
    return true
  }

  /**
   * Stops the period; a run in progress starts nothing more (no listThings, no push) and is
   * waited for at most `waitMs` (its pushes already sent may need a rack's full deadline).
   * Idempotent.
   */
  async close(waitMs = 10_000): Promise<void> {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    if (!this.#running) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#running, new Promise((done) => (timer = setTimeout(done, waitMs)))])
    clearTimeout(timer)
  }

  async #run(): Promise<void> {
    if (!this.#dependencies.globalConfig()?.isAutoSleepAllowed) return
    const raw = this.#dependencies.config()
    if (raw === undefined || raw === null) return
    const config = validConfig(raw)
    if (!config) {
      this.#logger.error('ERR_CROSS_AGGR_ACTIONS_INVALID_CONFIG')
      return
    }
    this.#forgetExpired(config.minActionTsDiff)
    const things = await this.#dependencies.listThings(config.listThingsReq)
    if (!Array.isArray(things)) {
      this.#logger.error('ERR_CROSS_AGGR_ACTIONS_INVALID_LIST_THINGS_RESPONSE')
      return
    }
    const limit = pLimit(THING_CONCURRENCY)
    await Promise.all(things.map((thing) => limit(() => this.#handleThing(thing, config))))
  }

  async #handleThing(thing: unknown, config: ValidConfig): Promise<void> {
    if (this.#closed) return
    const tags = (thing as { tags?: unknown } | null)?.tags
    if (!Array.isArray(tags)) {
      this.#logger.error('ERR_CROSS_AGGR_ACTIONS_THING_TAGS_INVALID', { id: (thing as { id?: unknown } | null)?.id })
      return
    }
    // A substring match, as the reference (Q40 COPY).
    const tag = tags.find((candidate) => typeof candidate === 'string' && candidate.includes(config.tagPrefix))
    if (!tag) return
    const devices = [{ tags: { $in: [`t-${config.crossThingType}`] } }, { tags: { $in: [tag] } }]
    const throttleKey = `${config.crossThingType}_${tag}`
    const now = this.#now()
    const last = this.lastActionAt.get(throttleKey)
    if (last !== undefined && now - last < config.minActionTsDiff) return
    try {
      const need = await this.#dependencies.listThings({
        query: { $and: [...devices, ...config.devicesCondition] },
        fields: config.fields,
      })
      if (!Array.isArray(need) || need.length === 0 || this.#closed) return
      // The action targets every device of the type with the tag, not only those in `need` (Q40 COPY).
      await this.#dependencies.pushAction({
        query: { $and: devices },
        action: config.action,
        params: config.params,
        voter: config.voter,
        authPerms: config.authPerms,
      })
      this.lastActionAt.set(throttleKey, now)
    } catch (error) {
      this.#logger.error('ERR_CROSS_AGGR_ACTIONS_PUSH_ACTION', { tag, error })
    }
  }

  #forgetExpired(minActionTsDiff: number): void {
    const now = this.#now()
    for (const [key, at] of this.lastActionAt) {
      if (now - at >= minActionTsDiff) this.lastActionAt.delete(key)
    }
  }
}
