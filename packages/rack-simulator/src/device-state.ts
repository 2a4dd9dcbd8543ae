import { hashSigned, hashString, hashUnit } from './random.ts'
import type { SimulatedThing } from './things.ts'

/** Minutes in ms, for readability of the time constants below. */
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const FIVE_MINUTES = 5 * MINUTE
/** Devices restart on their own about once a week (firmware watchdogs, power dips). */
const RESTART_PERIOD = 7 * DAY

/** Alert as racks report it in `last.alerts`. */
export interface DeviceAlert {
  name: string
  code: string
  description: string
  severity: 'critical' | 'high' | 'medium'
  createdAt: number
  uuid: string
  message?: string
}

/** The compact state of a device at one instant; stat logs aggregate these. */
export interface DeviceReading {
  /** Miner: mining | sleeping | error | not_mining | offline. Container: running | stopped | offline. Others: ok | offline. */
  status: string
  offline: boolean
  powerMode?: string
  hashrateMhs?: number
  powerW?: number
  efficiencyWThs?: number
  nominalEfficiencyWThs?: number
  temperatureAvg?: number
  temperatureMax?: number
  frequencyAvg?: number
  uptimeMs?: number
  sharesAccepted?: number
  sharesRejected?: number
  sharesStale?: number
  ambientTemperature?: number
  humidityPercent?: number
  alerts: DeviceAlert[]
}

/** `last` of a thing: the latest snapshot with alerts (rack-protocol.md 1.1). */
export interface ThingLast {
  snap: Record<string, unknown> | null
  alerts: DeviceAlert[]
  err: string | null
  ts: number
}

const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** Seasonal swing of ambient temperature over a day (peak mid-afternoon UTC). */
function ambientAt(seed: number, ts: number): number {
  const dayPhase = ((ts % DAY) / DAY) * 2 * Math.PI
  return 24 + 7 * Math.sin(dayPhase - Math.PI / 2) + 1.5 * hashSigned(seed, Math.floor(ts / HOUR), 7)
}

function powerModeAt(thing: SimulatedThing, seed: number, ts: number): string {
  const override = thing.runtime.powerMode
  if (override && ts >= override.since) return override.mode
  // Most miners run in normal mode; a few were set to another mode their brand takes.
  const draw = hashUnit(seed, thing.deviceIndex, 11)
  const modes = thing.profile.powerModes
  const other = draw < 0.08 ? 'low' : draw < 0.12 ? 'high' : 'normal'
  return modes.includes(other) ? other : 'normal'
}

function bootedAt(thing: SimulatedThing, seed: number, ts: number): number {
  const phase = Math.floor(hashUnit(seed, thing.deviceIndex, 13) * RESTART_PERIOD)
  let boot = Math.floor((ts - phase) / RESTART_PERIOD) * RESTART_PERIOD + phase
  const rebooted = thing.runtime.rebootedAt
  if (rebooted !== undefined && rebooted <= ts && rebooted > boot) boot = rebooted
  return boot
}

function alert(
  thing: SimulatedThing,
  seed: number,
  name: string,
  code: string,
  severity: DeviceAlert['severity'],
  description: string,
  createdAt: number,
): DeviceAlert {
  const hash = hashString(`${seed}:${thing.id}:${name}:${createdAt}`).toString(16).padStart(8, '0')
  const second = hashString(`${hash}:${thing.id}`).toString(16).padStart(8, '0')
  return {
    name,
    code,
    description,
    severity,
    createdAt,
    uuid: `${hash}-${second.slice(0, 4)}-4${second.slice(5, 8)}-a${hash.slice(1, 4)}-${second}${hash.slice(0, 4)}`,
  }
}

const POWER_MODE_FACTOR: Record<string, number> = { low: 0.8, normal: 1, high: 1.12, sleep: 0 }

function minerReading(thing: SimulatedThing, seed: number, ts: number): DeviceReading {
  const index = thing.deviceIndex
  const hour = Math.floor(ts / HOUR)
  const slot = Math.floor(ts / FIVE_MINUTES)
  if (thing.info.container === 'maintenance') return { status: 'offline', offline: true, alerts: [] }

  const mode = powerModeAt(thing, seed, ts)
  const boot = bootedAt(thing, seed, ts)
  // A freshly restarted miner is unreachable for its first 5 minutes.
  if (ts - boot < FIVE_MINUTES) return { status: 'offline', offline: true, alerts: [] }

  // Faults last whole hours so that consecutive 5-minute records agree, as on a real site.
  const draw = hashUnit(seed, index, hour, 1)
  let status = draw < 0.012 ? 'offline' : draw < 0.025 ? 'error' : draw < 0.031 ? 'not_mining' : 'mining'
  if (status === 'offline') return { status, offline: true, alerts: [] }
  if (mode === 'sleep' && status === 'mining') status = 'sleeping'

  const profile = thing.profile
  const factor = POWER_MODE_FACTOR[mode] ?? 1
  const jitter = 1 + 0.025 * hashSigned(seed, index, slot, 2)
  const unitQuality = 1 + 0.03 * hashSigned(seed, index, 3)
  let hashrate = 0
  if (status === 'mining') hashrate = profile.nominalHashrateMhs * factor * unitQuality * jitter
  if (status === 'error') hashrate = profile.nominalHashrateMhs * factor * 0.62 * jitter
  let power = status === 'sleeping' ? 12 + 4 * hashUnit(seed, index, slot, 4) : 0
  if (status === 'mining' || status === 'error') {
    power = profile.nominalPowerW * factor ** 1.15 * (1 + 0.02 * hashSigned(seed, index, slot, 5))
  }
  if (status === 'not_mining') power = 180 + 40 * hashUnit(seed, index, slot, 4)
  const ambient = ambientAt(seed, ts)
  const heating = hashrate > 0 ? 36 + 6 * factor : 4
  const temperatureAvg = ambient + heating + 2 * hashSigned(seed, index, slot, 6)
  const temperatureMax = temperatureAvg + 4 + 3 * hashUnit(seed, index, slot, 8)
  const frequencyAvg = hashrate > 0 ? 520 * factor * (1 + 0.01 * hashSigned(seed, index, slot, 9)) : 0
  const nominalEfficiency = round(profile.nominalPowerW / (profile.nominalHashrateMhs / 1_000_000), 1)
  const efficiency = hashrate > 0 ? power / (hashrate / 1_000_000) : 0
  // Shares found in the last 5 minutes: proportional to hashrate.
  const expectedShares = (hashrate / 1_000_000) * 0.85
  const accepted = Math.round(expectedShares * (1 + 0.1 * hashSigned(seed, index, slot, 10)))

  const alerts: DeviceAlert[] = []
  const faultStart = hour * HOUR
  if (status === 'error') {
    alerts.push(alert(thing, seed, 'hashboard_error', 'HB_ERR', 'critical', 'A hashboard stopped hashing', faultStart))
  }
  if (status === 'not_mining') {
    alerts.push(alert(thing, seed, 'pool_not_connected', 'POOL_ERR', 'high', 'No pool connection', faultStart))
  }
  if (temperatureMax > 78) {
    alerts.push(alert(thing, seed, 'high_temp', 'TEMP_HIGH', 'medium', 'Chip temperature above threshold', faultStart))
  }

  return {
    status,
    offline: false,
    powerMode: mode,
    hashrateMhs: round(hashrate),
    powerW: Math.round(power),
    efficiencyWThs: round(efficiency),
    nominalEfficiencyWThs: nominalEfficiency,
    temperatureAvg: round(temperatureAvg, 1),
    temperatureMax: round(temperatureMax, 1),
    frequencyAvg: round(frequencyAvg, 1),
    uptimeMs: ts - boot,
    sharesAccepted: accepted,
    sharesRejected: hashUnit(seed, index, slot, 12) < 0.05 ? 1 : 0,
    sharesStale: hashUnit(seed, index, slot, 14) < 0.03 ? 1 : 0,
    alerts,
  }
}

function containerReading(thing: SimulatedThing, seed: number, ts: number): DeviceReading {
  const index = thing.deviceIndex
  const slot = Math.floor(ts / FIVE_MINUTES)
  const hour = Math.floor(ts / HOUR)
  if (hashUnit(seed, index, hour, 21) < 0.004) return { status: 'offline', offline: true, alerts: [] }
  const switched = thing.runtime.containerOff
  const off = switched !== undefined && ts >= switched.since && switched.off
  const ambient = ambientAt(seed, ts)
  const load = off ? 0.02 : 0.9 + 0.06 * hashSigned(seed, index, slot, 22)
  const alerts: DeviceAlert[] = []
  if (!off && hashUnit(seed, index, hour, 23) < 0.02) {
    alerts.push(
      alert(thing, seed, 'cooling_pressure_low', 'COOL_P_LOW', 'high', 'Cooling loop pressure low', hour * HOUR),
    )
  }
  return {
    status: off ? 'stopped' : 'running',
    offline: false,
    powerW: Math.round(thing.profile.nominalPowerW * load),
    ambientTemperature: round(ambient, 1),
    humidityPercent: round(45 + 10 * hashSigned(seed, index, hour, 24), 1),
    temperatureAvg: round(ambient + 8 + 2 * hashSigned(seed, index, slot, 25), 1),
    alerts,
  }
}

function powermeterReading(thing: SimulatedThing, seed: number, ts: number): DeviceReading {
  const index = thing.deviceIndex
  const slot = Math.floor(ts / FIVE_MINUTES)
  const dayPhase = ((ts % DAY) / DAY) * 2 * Math.PI
  // Cooling load follows the ambient temperature, so site power has a daily wave.
  const scale = thing.info.pos === 'site' ? 1 : 0.25
  const power =
    thing.profile.nominalPowerW * scale * (0.93 + 0.03 * Math.sin(dayPhase) + 0.01 * hashSigned(seed, index, slot, 31))
  return { status: 'ok', offline: false, powerW: Math.round(power), alerts: [] }
}

function sensorReading(thing: SimulatedThing, seed: number, ts: number): DeviceReading {
  const index = thing.deviceIndex
  const slot = Math.floor(ts / FIVE_MINUTES)
  const hour = Math.floor(ts / HOUR)
  const temperature = ambientAt(seed, ts) + 10 + 1.5 * hashSigned(seed, index, slot, 41)
  const alerts: DeviceAlert[] = []
  if (temperature > 40) {
    alerts.push(
      alert(thing, seed, 'temp_high', 'SENSOR_TEMP_HIGH', 'medium', 'Temperature above threshold', hour * HOUR),
    )
  }
  return { status: 'ok', offline: false, temperatureAvg: round(temperature, 1), alerts }
}

/** The state of a device at `ts` (deterministic for a seed, a thing and a timestamp). */
export function deviceReading(thing: SimulatedThing, seed: number, ts: number): DeviceReading {
  switch (thing.profile.family) {
    case 'miner':
      return minerReading(thing, seed, ts)
    case 'container':
      return containerReading(thing, seed, ts)
    case 'powermeter':
      return powermeterReading(thing, seed, ts)
    case 'sensor':
      return sensorReading(thing, seed, ts)
  }
}

function minerSnap(thing: SimulatedThing, reading: DeviceReading, seed: number, ts: number): Record<string, unknown> {
  const index = thing.deviceIndex
  const slot = Math.floor(ts / FIVE_MINUTES)
  const hashrate = reading.hashrateMhs ?? 0
  const boards = thing.profile.boards
  const chipsTemperature = []
  const chipsFrequency = []
  for (let board = 0; board < boards; board++) {
    const avg = round((reading.temperatureAvg ?? 0) + 1.5 * hashSigned(seed, index, slot, 50 + board), 1)
    chipsTemperature.push({ index: board, max: round(avg + 3, 1), min: round(avg - 4, 1), avg })
    chipsFrequency.push({
      index: board,
      current: round((reading.frequencyAvg ?? 0) + 3 * hashSigned(seed, index, slot, 60 + board), 1),
    })
  }
  const intervalsUp = Math.max(1, Math.floor((reading.uptimeMs ?? 0) / FIVE_MINUTES))
  const accepted = (reading.sharesAccepted ?? 0) * intervalsUp
  const rejected = Math.round(accepted * 0.004)
  const stale = Math.round(accepted * 0.002)
  const pools = thing.runtime.pools ?? []
  const errors = reading.alerts
    .filter((entry) => entry.severity !== 'medium')
    .map((entry) => ({ name: entry.name, code: entry.code }))
  const stats: Record<string, unknown> = {
    status: reading.status,
    uptime_ms: reading.uptimeMs,
    nominal_efficiency_w_ths: reading.nominalEfficiencyWThs,
    all_pools_shares: { accepted, rejected, stale },
    pool_status: pools.map((pool, poolIndex) => ({
      pool: pool.url,
      accepted: poolIndex === 0 ? accepted : 0,
      rejected: poolIndex === 0 ? rejected : 0,
      stale: poolIndex === 0 ? stale : 0,
      status: poolIndex === 0 && reading.status !== 'not_mining' ? 'Alive' : 'Dead',
    })),
    hashrate_mhs: {
      avg: round(hashrate * (1 + 0.004 * hashSigned(seed, index, slot, 70))),
      t_5s: round(hashrate * (1 + 0.03 * hashSigned(seed, index, slot, 71))),
      t_5m: hashrate,
      t_30m: round(hashrate * (1 + 0.008 * hashSigned(seed, index, slot, 72))),
    },
    frequency_mhz: { avg: reading.frequencyAvg, chips: chipsFrequency },
    temperature_c: {
      ambient: round(ambientAt(seed, ts), 1),
      max: reading.temperatureMax,
      avg: reading.temperatureAvg,
      chips: chipsTemperature,
    },
    power_w: reading.powerW,
    efficiency_w_ths: reading.efficiencyWThs,
  }
  if (errors.length > 0) stats.errors = errors
  const address = String(thing.opts.address ?? '')
  return {
    success: true,
    raw_errors: [],
    stats,
    config: {
      network_config: {
        ip_address: address,
        dns: '8.8.8.8',
        gateway: address.replace(/\.\d+$/, '.1'),
        netmask: '255.255.255.0',
        hostname: String(thing.code).toLowerCase(),
      },
      pool_config: pools.map((pool) => ({ url: pool.url, username: pool.username })),
      power_mode: reading.powerMode,
      suspended: reading.status === 'sleeping',
      led_status: thing.runtime.ledOn === true,
      firmware_ver: thing.profile.firmwareVersion,
    },
  }
}

function containerSnap(
  thing: SimulatedThing,
  reading: DeviceReading,
  seed: number,
  ts: number,
): Record<string, unknown> {
  const slot = Math.floor(ts / FIVE_MINUTES)
  const running = reading.status === 'running'
  return {
    success: true,
    stats: {
      status: reading.status,
      power_w: reading.powerW,
      power_kw: round((reading.powerW ?? 0) / 1000, 2),
      ambient_temp_c: reading.ambientTemperature,
      humidity_percent: reading.humidityPercent,
      alarm_status: reading.alerts.length > 0,
      container_specific: {
        primary_circulating_pump: running,
        cooling_system_on: running,
        supply_liquid_temp_c: round((reading.temperatureAvg ?? 0) - 6, 1),
        return_liquid_temp_c: reading.temperatureAvg,
        supply_liquid_pressure_bar: round(2.1 + 0.1 * hashSigned(seed, thing.deviceIndex, slot, 80), 2),
      },
    },
    config: { cooling_mode: 'auto' },
  }
}

function powermeterSnap(reading: DeviceReading): Record<string, unknown> {
  const power = reading.powerW ?? 0
  const voltage = 400
  const current = power / (voltage * Math.sqrt(3))
  return {
    success: true,
    stats: {
      power_w: power,
      tension_v: voltage,
      powermeter_specific: {
        v1_n_v: 230.9,
        v2_n_v: 230.7,
        v3_n_v: 231.1,
        v1_v2_v: 400.1,
        v2_v3_v: 399.8,
        v1_v3_v: 400.3,
        i1_a: round(current, 2),
        i2_a: round(current * 1.01, 2),
        i3_a: round(current * 0.99, 2),
        in_a: round(current * 0.02, 2),
        active_power_total_w: power,
        reactive_power_total_var: round(power * 0.05, 2),
      },
    },
    config: {},
  }
}

function sensorSnap(reading: DeviceReading): Record<string, unknown> {
  return { success: true, stats: { status: reading.status, temp_c: reading.temperatureAvg }, config: {} }
}

/** The full `snap` of a device for a reading (the shape real rack workers collect). */
export function deviceSnap(
  thing: SimulatedThing,
  reading: DeviceReading,
  seed: number,
  ts: number,
): Record<string, unknown> {
  if (reading.offline) return { success: false, stats: { status: 'offline' } }
  switch (thing.profile.family) {
    case 'miner':
      return minerSnap(thing, reading, seed, ts)
    case 'container':
      return containerSnap(thing, reading, seed, ts)
    case 'powermeter':
      return powermeterSnap(reading)
    case 'sensor':
      return sensorSnap(reading)
  }
}

/** `last` of a thing collected at `ts`. */
export function thingLast(thing: SimulatedThing, seed: number, ts: number): ThingLast {
  const reading = deviceReading(thing, seed, ts)
  return { snap: deviceSnap(thing, reading, seed, ts), alerts: reading.alerts, err: null, ts }
}
