import { isOpName, opNames } from '@ork/stats'
import { z } from 'zod'

/**
 * zod schemas of every config file the worker reads. Unknown keys are kept (loose
 * objects): operators' files carry keys the reference ignores, and those must not stop
 * a drop-in replacement from starting.
 */

const positiveInteger = z.number().int().positive()

/** The longest delay Node's timers keep: a longer one fires after 1 ms, every 1 ms for an interval. */
const MAX_TIMER_MS = 2_147_483_647
/** A delay or period in ms that Node's timers can wait (about 24.8 days at most). */
const timerMs = (min: number) =>
  z.number().min(min).max(MAX_TIMER_MS, `at most ${MAX_TIMER_MS} ms (about 24.8 days), the longest timer Node keeps`)
/** A period in ms where 0 means the default, as the reference reads it (`value || default`). */
const periodMs = (min: number) =>
  timerMs(0)
    .int()
    .refine((value) => value === 0 || value >= min, `at least ${min} (0 means the default)`)
const hexKey = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected a 64-character hex public key')

/** `config/base.ork.json` → `conf.ork` (required). */
export const baseOrkConfigSchema = z.looseObject({
  actionIntvlMs: periodMs(100).optional(),
  callTargetsLimit: positiveInteger.optional(),
  automationIntvlMs: z.number().optional(),
  automationTypes: z.array(z.unknown()).optional(),
  /** Deadline of one approved action's whole execution, in ms (approver default 600000). */
  actionExecutionTimeoutMs: timerMs(1).int().optional(),
  /** Audit log retention: most entries kept (default 100000). */
  auditLogMaxEntries: positiveInteger.optional(),
  /** Audit log retention: days an entry is kept (default 90). */
  auditLogRetentionDays: z.number().positive().optional(),
})

/** `config/common.json`: base worker logging. */
export const commonConfigSchema = z.looseObject({
  dir_log: z.string().optional(),
  debug: z.union([z.number(), z.boolean()]).optional(),
})

/** `host:port` (or `<key>@host:port`), or `{host, port}`: the forms the DHT takes for a bootstrap node. */
function isBootstrapNode(node: unknown): boolean {
  const isPort = (port: unknown) => Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535
  if (typeof node === 'string') {
    const match = /^[^\s:][^\s]*:(\d{1,5})$/.exec(node)
    return match !== null && isPort(Number(match[1]))
  }
  if (node === null || typeof node !== 'object') return false
  const { host, port } = node as Record<string, unknown>
  return typeof host === 'string' && host !== '' && isPort(port)
}
const bootstrapNode = z.custom<string | { host: string; port: number }>(isBootstrapNode, {
  error: 'expected "host:port" or {"host", "port"}, with a port from 1 to 65535',
})

/** `config/facs/net.config.json`, section `r0`. */
export const netConfigSchema = z.looseObject({
  allow: z.array(hexKey).optional(),
  allowReadOnly: z.array(hexKey).optional(),
  allowLocal: z.boolean().optional(),
  dhtOpts: z.looseObject({ bootstrap: z.array(bootstrapNode).optional(), host: z.string().optional() }).optional(),
})

/**
 * A daily-history time zone: `offset` in ms east of UTC (the reference's form), or an
 * IANA `timezone` name whose days follow daylight-saving changes.
 */
export const timezoneSchema = z.looseObject({
  code: z.string().min(1),
  offset: z.number().optional(),
  timezone: z
    .string()
    .refine(isIanaZone, { error: (issue) => `unknown IANA time zone "${String(issue.input)}"` })
    .optional(),
})

/** Whether this runtime knows the zone (refused at start rather than skipped by every history run). */
function isIanaZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch {
    return false
  }
}

/** `config/global.config.json` → `conf.globalConfig` (optional). */
export const globalConfigSchema = z.looseObject({
  aggrTailLogTimezones: z.array(timezoneSchema).optional(),
  isAutoSleepAllowed: z.boolean().optional(),
})

const projection = z.record(z.string(), z.unknown())

/** One entry of `aggrTailLogKeys`. */
export const aggrTailLogKeySchema = z.looseObject({
  key: z.string().min(1),
  type: z.string().min(1),
  tag: z.string().optional(),
  fields: projection.optional(),
  aggrFields: projection.optional(),
  /** Sent to racks as is; 0 (no limit) as in the reference. */
  limit: z.number().int().min(0).optional(),
})

/** `config/aggr.data.json` → `conf.aggrData` (optional). Key typos are the reference's. */
export const aggrDataConfigSchema = z.looseObject({
  agrrTailLogIntvlMs: periodMs(1).optional(),
  /** 0 means the default (180), as the reference reads it. */
  aggrTailLogStoreDays: z.number().int().min(0).optional(),
  aggrTailLogApiDelay: timerMs(0).optional(),
  aggrTailLogKeys: z.array(aggrTailLogKeySchema).optional(),
})

/** `config/aggr.stats.json` → `conf.aggrStats`: base type → ops. */
export const aggrStatsConfigSchema = z.record(
  z.string(),
  z.looseObject({
    ops: z.record(
      z.string(),
      z.looseObject({
        // Checked at start: an unknown op would otherwise end every tailLog of the type with no rows.
        op: z.string().refine(isOpName, {
          error: (issue) => `unknown op "${String(issue.input)}" (known: ${opNames.join(', ')})`,
        }),
        src: z.string().optional(),
      }),
    ),
  }),
)

/** `config/aggr.crossthg.json` → `conf.aggrCrossthg`, keyed by full request type. */
export const aggrCrossthgConfigSchema = z.record(
  z.string(),
  z.looseObject({
    searchAggr: z.array(z.record(z.string(), z.unknown())),
    searchFields: projection.optional(),
    crossArrKey: z.string(),
    crossObjKey: z.string(),
    thgProperty: z.array(z.string()),
    groupAggr: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
)

/** `config/cross.aggr.action.json` → `conf.crossAggrAction` (optional). */
export const crossAggrActionConfigSchema = z.looseObject({
  tagPrefix: z.string(),
  crossThingType: z.string(),
  action: z.string(),
  params: z.array(z.unknown()),
  authPerms: z.array(z.string()),
  listThingsReq: z.looseObject({ query: z.record(z.string(), z.unknown()).optional(), fields: projection.optional() }),
  minActionTsDiff: z.number().min(0).optional(),
  crossThingsActionReq: z.looseObject({
    devicesCondition: z.array(z.record(z.string(), z.unknown())),
    fields: projection.optional(),
  }),
  voter: z.string().optional(),
  agrrListThingsIntvlMs: periodMs(1).optional(),
})

export type BaseOrkConfig = z.infer<typeof baseOrkConfigSchema>
export type CommonConfig = z.infer<typeof commonConfigSchema>
export type NetConfig = z.infer<typeof netConfigSchema>
export type GlobalConfig = z.infer<typeof globalConfigSchema>
export type AggrDataConfig = z.infer<typeof aggrDataConfigSchema>
export type AggrTailLogKey = z.infer<typeof aggrTailLogKeySchema>
export type AggrStatsConfig = z.infer<typeof aggrStatsConfigSchema>
export type AggrCrossthgConfig = z.infer<typeof aggrCrossthgConfigSchema>
export type CrossAggrActionConfig = z.infer<typeof crossAggrActionConfigSchema>
