export { ConfigError, loadWorkerConfig, type WorkerConfig } from './config/load-config.ts'
export type { OrkContext } from './context.ts'
export { ORK_WTYPE, type OrkHandle, type StartOrkOptions, startOrk } from './ork.ts'
export { type Environment, parseWorkerArgs, type WorkerArgs } from './process/args.ts'
