export {
  type CallOptions,
  DEFAULT_FAN_OUT_CONCURRENCY,
  DEFAULT_FAN_OUT_TIMEOUT,
  type FanOutOptions,
  type FanOutPayload,
  type FanOutResult,
  RackFanOut,
  type RackFanOutOptions,
  type RackRequester,
} from './fan-out.ts'
export {
  classifyRackFailure,
  type RackFailureKind,
  RackHealth,
  type RackHealthEntry,
  type RackHealthOptions,
  type RackIdentity,
} from './health.ts'
export { baseTypeOf, matchesTypeFamily, matchesTypePrefix } from './rack-types.ts'
export {
  type ForgetRacksRequest,
  isRackPublicKey,
  type ListRacksRequest,
  openRacksBee,
  RACKS_BEE_NAME,
  RACKS_BEE_OPTIONS,
  type RackInfo,
  type RackRecord,
  RackRegistry,
  type RackRegistryOptions,
  type RacksBee,
  type RacksStore,
  validateRackRegistration,
} from './registry.ts'
