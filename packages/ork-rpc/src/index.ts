export {
  type BootstrapAddress,
  type CliOptions,
  DEFAULT_TIMEOUT_MS,
  dhtOptionsFor,
  parseCliArgs,
  USAGE,
  UsageError,
} from './args.ts'
export { findSchemaViolation, type JsonSchema, type SchemaViolation } from './json-schema.ts'
export {
  ORK_API,
  type OrkApiDocument,
  type OrkApiMethod,
  orkMethod,
  similarMethodNames,
  validateOrkRequest,
} from './ork-methods.ts'
export { type ProgressOptions, type ProgressStream, startProgress } from './progress.ts'
export { type CliIo, ExitCode, runOrkRpc } from './run.ts'
