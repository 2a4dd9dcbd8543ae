export type { DeviceFamily, DeviceProfile } from './device-catalog.ts'
export { baseTypeOf, deviceProfile, KNOWN_RACK_TYPES } from './device-catalog.ts'
export type { DeviceAlert, DeviceReading, ThingLast } from './device-state.ts'
export { deviceReading, deviceSnap, thingLast } from './device-state.ts'
export type { ExecutedCall, RackModelOptions } from './rack-model.ts'
export { MINER_EXTRA_METHODS, RACK_JSON_METHODS, RackModel } from './rack-model.ts'
export { hashUnit, mulberry32 } from './random.ts'
export type {
  RackNodeOptions,
  RackRegistration,
  RackServerNode,
  SimulatedRackOptions,
} from './simulated-rack.ts'
export { SimulatedRack } from './simulated-rack.ts'
export type { SimulatedSite, SimulatedSiteOptions, SiteRackSpec } from './site.ts'
export { startSimulatedSite } from './site.ts'
export { aggregateStats, statFieldNames } from './stat-ops.ts'
export type { TimeLog } from './tail-log.ts'
export { aggregateLogs, STAT_TIMEFRAMES } from './tail-log.ts'
export { applyThingFilters, compareThings } from './thing-query.ts'
export type { SimulatedThing, ThingComment } from './things.ts'
export type { PendingRequests, RackFaults } from './wire.ts'
export { answerRackRequest, GARBAGE_REPLY, HRPC_ERROR_PREFIX } from './wire.ts'
