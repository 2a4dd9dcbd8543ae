import type { DeviceAlert, DeviceReading } from './device-state.ts'
import type { SimulatedThing } from './things.ts'

/** One device as the stat builder sees it. */
export interface StatEntry {
  thing: SimulatedThing
  reading: DeviceReading
}

type OpName =
  | 'sum'
  | 'avg'
  | 'cnt'
  | 'group'
  | 'group_sum'
  | 'group_avg'
  | 'group_cnt'
  | 'group_max'
  | 'alerts_group_cnt'

interface OpSpec {
  op: OpName
  value?: (entry: StatEntry) => unknown
  filter?: (entry: StatEntry) => unknown
  group?: (entry: StatEntry) => unknown
}

/** lib-stats numeric coercion: truthy values become numbers, falsy ones 0. */
const toNumber = (value: unknown): number => (value ? Number(value) : 0)

const MAINTENANCE = 'maintenance'
const inMaintenance = (entry: StatEntry): boolean => entry.thing.info.container === MAINTENANCE
const byContainer = (entry: StatEntry): unknown => entry.thing.info.container
const byType = (entry: StatEntry): unknown => entry.thing.type
const hashrate = (entry: StatEntry): unknown => entry.reading.hashrateMhs
const power = (entry: StatEntry): unknown => entry.reading.powerW
const efficiency = (entry: StatEntry): unknown => entry.reading.efficiencyWThs
const status = (entry: StatEntry): string => entry.reading.status
const mining = (entry: StatEntry): boolean => status(entry) === 'mining'
const hasReading = (entry: StatEntry): boolean => !entry.reading.offline
const withMode = (mode: string) => (entry: StatEntry) => mining(entry) && entry.reading.powerMode === mode
const errorWithHashrate = (mode: string) => (entry: StatEntry) =>
  status(entry) === 'error' && (entry.reading.hashrateMhs ?? 0) > 0 && entry.reading.powerMode === mode
const notMaintenanceAnd = (test: (entry: StatEntry) => unknown) => (entry: StatEntry) =>
  !inMaintenance(entry) && test(entry)

const ALERTS: Record<string, OpSpec> = {
  alerts_cnt: { op: 'alerts_group_cnt', value: (entry) => entry.reading.alerts },
}

/** Ops of the miner template (miningos-tpl-wrk-miner workers/lib/stats.js), in its order. */
const MINER_OPS: Record<string, OpSpec> = {
  ...ALERTS,
  hashrate_mhs_1m_sum: { op: 'sum', value: hashrate },
  hashrate_mhs_1m_group_sum: { op: 'group_sum', value: hashrate, group: byContainer },
  hashrate_mhs_1m_avg: { op: 'avg', value: hashrate },
  hashrate_mhs_1m_cnt: { op: 'cnt', filter: (entry) => !inMaintenance(entry) && entry.reading.hashrateMhs != null },
  hashrate_mhs_1m_cnt_active: { op: 'cnt', filter: mining },
  offline_or_sleeping_miners_cnt: {
    op: 'cnt',
    filter: notMaintenanceAnd((entry) => ['offline', 'sleeping'].includes(status(entry))),
  },
  online_or_minor_error_miners_cnt: { op: 'cnt', filter: notMaintenanceAnd(mining) },
  error_miners_cnt: { op: 'cnt', filter: notMaintenanceAnd((entry) => status(entry) === 'error') },
  not_mining_miners_cnt: { op: 'cnt', filter: notMaintenanceAnd((entry) => status(entry) === 'not_mining') },
  power_w_sum: { op: 'sum', value: power },
  power_w_avg: { op: 'avg', value: power },
  power_w_type_group_sum: { op: 'group_sum', value: power, group: byType, filter: (entry) => !inMaintenance(entry) },
  power_w_type_group_avg: { op: 'group_avg', value: power, group: byType, filter: (entry) => !inMaintenance(entry) },
  power_w_container_group_sum: { op: 'group_sum', value: power, group: byContainer },
  power_w_container_group_avg: { op: 'group_avg', value: power, group: byContainer },
  uptime_ms_avg: { op: 'avg', value: (entry) => entry.reading.uptimeMs },
  frequency_mhz_avg: { op: 'avg', value: (entry) => entry.reading.frequencyAvg },
  efficiency_w_ths_avg: { op: 'avg', value: efficiency },
  temperature_c_avg: { op: 'avg', value: (entry) => entry.reading.temperatureAvg },
  temperature_c_group_avg: { op: 'group_avg', value: (entry) => entry.reading.temperatureAvg, group: byContainer },
  temperature_c_group_max: { op: 'group_max', value: (entry) => entry.reading.temperatureMax, group: byContainer },
  offline_cnt: {
    op: 'group_cnt',
    group: byContainer,
    filter: notMaintenanceAnd((entry) => status(entry) === 'offline'),
  },
  error_cnt: { op: 'group_cnt', group: byContainer, filter: notMaintenanceAnd((entry) => status(entry) === 'error') },
  not_mining_cnt: {
    op: 'group_cnt',
    group: byContainer,
    filter: notMaintenanceAnd((entry) => status(entry) === 'not_mining'),
  },
  power_mode_sleep_cnt: { op: 'group_cnt', group: byContainer, filter: (entry) => status(entry) === 'sleeping' },
  power_mode_low_cnt: { op: 'group_cnt', group: byContainer, filter: withMode('low') },
  power_mode_normal_cnt: { op: 'group_cnt', group: byContainer, filter: withMode('normal') },
  power_mode_high_cnt: { op: 'group_cnt', group: byContainer, filter: withMode('high') },
  power_mode_low_include_error_cnt: { op: 'group_cnt', group: byContainer, filter: errorWithHashrate('low') },
  power_mode_normal_include_error_cnt: { op: 'group_cnt', group: byContainer, filter: errorWithHashrate('normal') },
  power_mode_high_include_error_cnt: { op: 'group_cnt', group: byContainer, filter: errorWithHashrate('high') },
  type_cnt: { op: 'group_cnt', group: byType, filter: (entry) => !inMaintenance(entry) },
  offline_type_cnt: {
    op: 'group_cnt',
    group: byType,
    filter: notMaintenanceAnd((entry) => status(entry) === 'offline'),
  },
  maintenance_type_cnt: { op: 'group_cnt', group: byType, filter: inMaintenance },
  online_positive_hashrate_type_cnt: {
    op: 'group_cnt',
    group: byType,
    filter: notMaintenanceAnd((entry) => status(entry) !== 'offline' && (entry.reading.hashrateMhs ?? 0) > 0),
  },
  online_without_hashrate_type_cnt: {
    op: 'group_cnt',
    group: byType,
    filter: notMaintenanceAnd((entry) => status(entry) !== 'offline' && !entry.reading.hashrateMhs),
  },
  error_type_cnt: { op: 'group_cnt', group: byType, filter: notMaintenanceAnd((entry) => status(entry) === 'error') },
  not_mining_type_cnt: {
    op: 'group_cnt',
    group: byType,
    filter: notMaintenanceAnd((entry) => status(entry) === 'not_mining'),
  },
  power_mode_sleep_type_cnt: { op: 'group_cnt', group: byType, filter: (entry) => status(entry) === 'sleeping' },
  power_mode_low_type_cnt: { op: 'group_cnt', group: byType, filter: withMode('low') },
  power_mode_normal_type_cnt: { op: 'group_cnt', group: byType, filter: withMode('normal') },
  power_mode_high_type_cnt: { op: 'group_cnt', group: byType, filter: withMode('high') },
  hashrate_mhs_1m_type_group_sum: {
    op: 'group_sum',
    value: hashrate,
    group: byType,
    filter: (entry) => !inMaintenance(entry),
  },
  hashrate_mhs_1m_type_group_avg: { op: 'group_avg', value: hashrate, group: byType },
  efficiency_w_ths_type_group_avg: { op: 'group_avg', value: efficiency, group: byType },
  hashrate_mhs_1m_container_group_sum: { op: 'group_sum', value: hashrate, group: byContainer },
  hashrate_mhs_1m_container_group_avg: { op: 'group_avg', value: hashrate, group: byContainer },
  efficiency_w_ths_container_group_avg: { op: 'group_avg', value: efficiency, group: byContainer },
  hashrate_mhs_5m_active_container_group_cnt: { op: 'group_cnt', group: byContainer, filter: hashrate },
  nominal_hashrate_mhs_avg: { op: 'avg', value: (entry) => entry.thing.info.nominalHashrateMhs },
  nominal_efficiency_w_ths_avg: { op: 'avg', value: (entry) => entry.reading.nominalEfficiencyWThs },
  nominal_hashrate_mhs_sum: { op: 'sum', value: (entry) => entry.thing.info.nominalHashrateMhs },
  nominal_efficiency_w_ths_sum: { op: 'sum', value: (entry) => entry.reading.nominalEfficiencyWThs },
  hashrate_mhs_5m_sum: { op: 'sum', value: hashrate },
  hashrate_mhs_5m_avg: { op: 'avg', value: hashrate },
  hashrate_mhs_5m_cnt: { op: 'cnt' },
  hashrate_mhs_5m_cnt_active: { op: 'cnt', filter: mining },
  hashrate_mhs_5m_type_group_sum: { op: 'group_sum', value: hashrate, group: byType },
  hashrate_mhs_5m_type_group_avg: { op: 'group_avg', value: hashrate, group: byType },
  hashrate_mhs_5m_container_group_sum: { op: 'group_sum', value: hashrate, group: byContainer },
  hashrate_mhs_5m_container_group_avg: { op: 'group_avg', value: hashrate, group: byContainer },
  miner_inventory_status_group_cnt: { op: 'group_cnt', group: (entry) => entry.thing.info.status },
  miner_inventory_location_group_cnt: { op: 'group_cnt', group: (entry) => entry.thing.info.location },
  // Device workers add the share counters the ork's aggr.data.json reads (pools_*_shares_total).
  pools_accepted_shares_total: { op: 'sum', value: (entry) => entry.reading.sharesAccepted },
  pools_rejected_shares_total: { op: 'sum', value: (entry) => entry.reading.sharesRejected },
  pools_stale_shares_total: { op: 'sum', value: (entry) => entry.reading.sharesStale },
}

/** Ops of the container template (miningos-tpl-wrk-container workers/lib/stats.js). */
const CONTAINER_OPS: Record<string, OpSpec> = {
  ...ALERTS,
  container_status: { op: 'group', value: status, group: byContainer },
  container_power_w_sum: { op: 'sum', value: power },
  container_power_w: { op: 'group', value: power, group: byContainer },
  container_nominal_hashrate_mhs_sum: { op: 'sum', value: (entry) => entry.thing.info.nominalHashrateMhs },
  container_nominal_hashrate_mhs_avg: { op: 'avg', value: (entry) => entry.thing.info.nominalHashrateMhs },
  container_nominal_efficiency_w_ths_avg: { op: 'avg', value: (entry) => entry.thing.info.nominalEfficiencyWThs },
  container_nominal_miner_capacity_sum: { op: 'sum', value: (entry) => entry.thing.info.nominalMinerCapacity },
  container_specific_stats_group: {
    op: 'group',
    value: (entry) => (hasReading(entry) ? { ambient_temp_c: entry.reading.ambientTemperature } : undefined),
    group: byContainer,
  },
}

/** Ops of the powermeter workers (template + ABB's site/container sums). */
const POWERMETER_OPS: Record<string, OpSpec> = {
  ...ALERTS,
  site_power_w: { op: 'sum', value: power, filter: (entry) => entry.thing.info.pos === 'site' },
  transformer_power_w: {
    op: 'sum',
    value: power,
    filter: (entry) => String(entry.thing.info.pos ?? '').startsWith('tr'),
  },
  power_w_container_group_sum: { op: 'group_sum', value: power, group: byContainer },
  power_w_container_group: { op: 'group', value: power, group: byContainer },
  power_w_pos_group: { op: 'group', value: power, group: (entry) => entry.thing.info.pos },
}

/** Ops of the sensor template (alerts only) plus the temperature the dashboards chart. */
const SENSOR_OPS: Record<string, OpSpec> = {
  ...ALERTS,
  temperature_c_avg: { op: 'avg', value: (entry) => entry.reading.temperatureAvg },
  temperature_c_group_max: { op: 'group_max', value: (entry) => entry.reading.temperatureAvg, group: byContainer },
}

const FAMILY_OPS: Record<string, Record<string, OpSpec>> = {
  miner: MINER_OPS,
  container: CONTAINER_OPS,
  powermeter: POWERMETER_OPS,
  sensor: SENSOR_OPS,
}

/** A compiled op: feeds entries in, yields the tallied value. */
interface OpRunner {
  add(entry: StatEntry): void
  result(): unknown
}

function groupRunner(
  spec: OpSpec,
  update: (result: Record<string, unknown>, key: string, entry: StatEntry) => void,
): OpRunner {
  const result: Record<string, unknown> = {}
  const { filter, group } = spec
  return {
    add(entry) {
      if (filter && !filter(entry)) return
      const name = group?.(entry)
      if (!name) return
      update(result, String(name), entry)
    },
    result: () => result,
  }
}

function createRunner(spec: OpSpec): OpRunner {
  const { filter, value } = spec
  switch (spec.op) {
    case 'sum': {
      let sum = 0
      return {
        add(entry) {
          if (filter && !filter(entry)) return
          sum += toNumber(value?.(entry))
        },
        result: () => sum,
      }
    }
    case 'avg': {
      let sum = 0
      let count = 0
      return {
        add(entry) {
          if (filter && !filter(entry)) return
          // lib-stats counts entries whose value is missing too.
          sum += toNumber(value?.(entry))
          count++
        },
        result: () => (count ? sum / count : 0),
      }
    }
    case 'cnt': {
      let count = 0
      return {
        add(entry) {
          if (filter && !filter(entry)) return
          count++
        },
        result: () => count,
      }
    }
    case 'alerts_group_cnt': {
      const result: Record<string, number> = {}
      return {
        add(entry) {
          const alerts = value?.(entry)
          if (!Array.isArray(alerts)) return
          for (const item of alerts as DeviceAlert[]) {
            const severity = item.severity || 'medium'
            result[severity] = (result[severity] ?? 0) + 1
          }
        },
        result: () => result,
      }
    }
    case 'group':
      return groupRunner(spec, (result, key, entry) => {
        result[key] = value?.(entry)
      })
    case 'group_cnt':
      return groupRunner(spec, (result, key) => {
        result[key] = ((result[key] as number) || 0) + 1
      })
    case 'group_sum':
      return groupRunner(spec, (result, key, entry) => {
        result[key] = ((result[key] as number) || 0) + toNumber(value?.(entry))
      })
    case 'group_max':
      return groupRunner(spec, (result, key, entry) => {
        result[key] = Math.max((result[key] as number) || 0, toNumber(value?.(entry)))
      })
    case 'group_avg': {
      const sums: Record<string, { sum: number; count: number }> = {}
      const runner = groupRunner(spec, (_result, key, entry) => {
        const group = sums[key] ?? { sum: 0, count: 0 }
        group.sum += toNumber(value?.(entry))
        group.count++
        sums[key] = group
      })
      return {
        add: runner.add,
        result: () => {
          const result: Record<string, number | null> = {}
          for (const [key, group] of Object.entries(sums)) result[key] = group.count ? group.sum / group.count : null
          return result
        },
      }
    }
  }
}

/** Names of the stat fields a family's records carry, in record order. */
export function statFieldNames(family: string): string[] {
  return Object.keys(FAMILY_OPS[family] ?? ALERTS)
}

/**
 * Aggregates devices into one stat record body the way rack workers build
 * `stat-<timeframe>` and `stat-rtd` records (applyStats + tallyStats over every thing of a tag).
 */
export function aggregateStats(family: string, entries: StatEntry[]): Record<string, unknown> {
  const ops = Object.entries(FAMILY_OPS[family] ?? ALERTS)
  const runners = ops.map(([, spec]) => createRunner(spec))
  for (const entry of entries) {
    for (const runner of runners) runner.add(entry)
  }
  const record: Record<string, unknown> = {}
  ops.forEach(([name], index) => {
    record[name] = (runners[index] as OpRunner).result()
  })
  return record
}
