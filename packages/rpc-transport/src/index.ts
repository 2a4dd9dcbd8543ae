export { CORESTORE_DEVICE_FILE, removeInterruptedDeviceFile } from './device-file.ts'
export {
  ErrorCodes,
  HRPC_ERR_PREFIX,
  isRetryable,
  RemoteError,
  TransportError,
  type TransportErrorCode,
} from './errors.ts'
export { buildFirewall } from './firewall.ts'
export {
  decodeJsonReply,
  handleInputError,
  MAX_REPLY_DEPTH,
  parseInputJSON,
  TRANSPORT_MAX_PAYLOAD_BYTES,
  toOutJSON,
} from './framing.ts'
export {
  type BootstrapNode,
  type CorestoreLike,
  DEFAULT_AUTO_RETRY_DELAY_MS,
  DEFAULT_POOL_LINGER_MS,
  DEFAULT_TIMEOUT_MS,
  type DhtOptions,
  type HandlerContext,
  type JsonHandler,
  type MethodOperation,
  type RawHandler,
  type RequestAllOptions,
  type RequestOptions,
  type RespondOptions,
  RpcNode,
  type RpcNodeOptions,
  type SettledReply,
} from './rpc-node.ts'
export { SEED_BEE_NAME, SEED_DHT, SEED_RPC } from './seeds.ts'
export { DEFAULT_UDP_RECEIVE_BUFFER_BYTES } from './udp-buffers.ts'
