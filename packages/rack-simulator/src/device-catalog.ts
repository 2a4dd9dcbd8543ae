import { OrkError } from '@ork/errors'

/** The device families the simulator models (the first segment of a rack type). */
export type DeviceFamily = 'miner' | 'container' | 'powermeter' | 'sensor'

/** Static characteristics of one device model. */
export interface DeviceProfile {
  family: DeviceFamily
  /** Extra tags the real worker adds from `getThingTags()` (e.g. the brand). */
  brandTags: string[]
  /** Miners: nominal hashrate in MH/s. Containers: nominal hashrate of a full container. */
  nominalHashrateMhs: number
  /** Nominal power in W (miner, container, or the load a powermeter sees). */
  nominalPowerW: number
  /** Containers: how many miners fit. */
  minerCapacity: number
  /** Miner hashboards (each reports chip temperatures and frequencies). */
  boards: number
  firmwareVersion: string
  /**
   * Miners: the modes `setPowerMode` takes (the brand's `validateWriteAction`: Antminers only
   * `sleep` and `normal`, Avalons no `low`); others: none.
   */
  powerModes: readonly string[]
  /** Miners: whether `updateFirmware` is implemented (the Antminer worker throws `ERR_NOT_IMPL`). */
  updatesFirmware: boolean
  /** Write actions the device worker whitelists, with the votes they need (rack-protocol.md 1.5). */
  whitelistedActions: Array<[string, number]>
}

const MINER_ACTIONS: Array<[string, number]> = [
  ['reboot', 1],
  ['setPowerMode', 1],
  ['setLED', 1],
  ['setupPools', 1],
  ['registerThing', 1],
  ['updateThing', 1],
  ['forgetThings', 1],
  ['updateFirmware', 1],
]

const CONTAINER_ACTIONS: Array<[string, number]> = [
  ['switchContainer', 1],
  ['switchSocket', 1],
  ['switchCoolingSystem', 1],
]

/** Power modes by miner brand, as each brand's worker validates them. */
const BRAND_POWER_MODES: Record<string, readonly string[]> = {
  antminer: ['sleep', 'normal'],
  avalon: ['sleep', 'normal', 'high'],
}
const ALL_POWER_MODES: readonly string[] = ['low', 'normal', 'high', 'sleep']

function miner(
  brand: string,
  terahash: number,
  powerW: number,
  firmwareVersion: string,
): Omit<DeviceProfile, 'whitelistedActions'> {
  return {
    family: 'miner',
    brandTags: [brand],
    nominalHashrateMhs: terahash * 1_000_000,
    nominalPowerW: powerW,
    minerCapacity: 0,
    boards: 3,
    firmwareVersion,
    powerModes: BRAND_POWER_MODES[brand] ?? ALL_POWER_MODES,
    updatesFirmware: brand !== 'antminer',
  }
}

function container(brand: string, capacity: number, minerTerahash: number): Omit<DeviceProfile, 'whitelistedActions'> {
  return {
    family: 'container',
    brandTags: [brand],
    nominalHashrateMhs: capacity * minerTerahash * 1_000_000,
    nominalPowerW: capacity * 3300,
    minerCapacity: capacity,
    boards: 0,
    firmwareVersion: '1.0.0',
    powerModes: [],
    updatesFirmware: false,
  }
}

function meter(brand: string, family: 'powermeter' | 'sensor'): Omit<DeviceProfile, 'whitelistedActions'> {
  return {
    family,
    brandTags: [brand],
    nominalHashrateMhs: 0,
    nominalPowerW: family === 'powermeter' ? 1_200_000 : 0,
    minerCapacity: 0,
    boards: 0,
    firmwareVersion: '1.0.0',
    powerModes: [],
    updatesFirmware: false,
  }
}

const KNOWN_TYPES: Record<string, Omit<DeviceProfile, 'whitelistedActions'>> = {
  'miner-am-s19xp': miner('antminer', 141, 3010, 'Antminer-S19XP-20230512'),
  'miner-am-s21': miner('antminer', 200, 3500, 'Antminer-S21-20240105'),
  'miner-wm-m56s': miner('whatsminer', 212, 5550, 'WM-M56S-20231020'),
  'miner-wm-m30sp': miner('whatsminer', 100, 3400, 'WM-M30SP-20230214'),
  'miner-av-a1346': miner('avalon', 110, 3300, 'AV-A1346-23.09'),
  'container-bd-d40': container('bitdeer', 210, 141),
  'container-as-hk3': container('antspace', 160, 200),
  'container-mbt-kehua': container('microbt', 224, 212),
  'powermeter-abb': meter('abb', 'powermeter'),
  'powermeter-schneider': meter('schneider', 'powermeter'),
  'powermeter-satec': meter('satec', 'powermeter'),
  'sensor-temp': meter('seneca', 'sensor'),
  'sensor-temp-seneca': meter('seneca', 'sensor'),
}

const FAMILY_DEFAULTS: Record<DeviceFamily, Omit<DeviceProfile, 'whitelistedActions'>> = {
  miner: miner('generic-miner', 120, 3200, 'generic-1.0.0'),
  container: container('generic-container', 200, 150),
  powermeter: meter('generic-powermeter', 'powermeter'),
  sensor: meter('generic-sensor', 'sensor'),
}

/** The device families, in a stable order. */
export const DEVICE_FAMILIES: readonly DeviceFamily[] = ['miner', 'container', 'powermeter', 'sensor']

/** Rack types with a dedicated profile; other `<family>-<model>` types get the family's generic profile. */
export const KNOWN_RACK_TYPES: readonly string[] = Object.keys(KNOWN_TYPES)

/** Base type of a rack or thing type: the text before the first `-` (`miner-am-s19xp` → `miner`). */
export function baseTypeOf(type: string): string {
  return type.split('-')[0] ?? type
}

/**
 * The profile of a device type. Throws `ERR_RACK_TYPE_UNSUPPORTED` for a type
 * whose family the simulator does not model (e.g. `minerpool-f2pool`).
 */
export function deviceProfile(type: string): DeviceProfile {
  const family = baseTypeOf(type)
  if (!(DEVICE_FAMILIES as readonly string[]).includes(family) || !type.includes('-')) {
    throw new OrkError('ERR_RACK_TYPE_UNSUPPORTED', { type })
  }
  const base = KNOWN_TYPES[type] ?? FAMILY_DEFAULTS[family as DeviceFamily]
  // Every rack worker whitelists rackReboot (2 votes) on top of its device actions.
  const deviceActions = base.family === 'miner' ? MINER_ACTIONS : base.family === 'container' ? CONTAINER_ACTIONS : []
  return { ...base, whitelistedActions: [...deviceActions, ['rackReboot', 2]] }
}
