import { readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { OrkError } from '@ork/errors'
import type { z } from 'zod'
import {
  type AggrCrossthgConfig,
  type AggrDataConfig,
  type AggrStatsConfig,
  aggrCrossthgConfigSchema,
  aggrDataConfigSchema,
  aggrStatsConfigSchema,
  type BaseOrkConfig,
  baseOrkConfigSchema,
  type CommonConfig,
  type CrossAggrActionConfig,
  commonConfigSchema,
  crossAggrActionConfigSchema,
  type GlobalConfig,
  globalConfigSchema,
  type NetConfig,
  netConfigSchema,
} from './schemas.ts'

/** Everything the worker reads from `config/`, validated. Optional files are `undefined` when absent. */
export interface WorkerConfig {
  ork: BaseOrkConfig
  common: CommonConfig
  net: NetConfig
  globalConfig: GlobalConfig | undefined
  aggrData: AggrDataConfig | undefined
  aggrStats: AggrStatsConfig | undefined
  aggrCrossthg: AggrCrossthgConfig | undefined
  crossAggrAction: CrossAggrActionConfig | undefined
}

/**
 * A config file that cannot be used. Its message names the file and the key, so the
 * worker can print one line and exit instead of a stack trace.
 */
export class ConfigError extends OrkError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super('ERR_CONFIG_FILE_INVALID', { file, reason })
    this.message = `${file}: ${reason}`
  }
}

/**
 * What to do about a missing required file. The script works on the repository's config/ unless
 * CONFIG_DIR names another root's (which must hold the .example files).
 */
const MISSING_REQUIRED_FILE =
  'required file is missing (create it from its .example: ./setup-config.sh, with CONFIG_DIR=<service root>/config for another root)'

/**
 * `config/<env>.<name>` wins over `config/<name>`, as in the reference. Returns null when neither
 * exists; a path that exists but cannot be read as a file is an error, never "missing".
 */
export function resolveConfigFile(directory: string, env: string, fileName: string, root = directory): string | null {
  for (const candidate of [join(directory, `${env}.${fileName}`), join(directory, fileName)]) {
    let isFile: boolean
    try {
      isFile = statSync(candidate).isFile()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw new ConfigError(relative(root, candidate), `cannot be read (${(error as Error).message})`)
    }
    if (!isFile) throw new ConfigError(relative(root, candidate), 'is not a file')
    return candidate
  }
  return null
}

function readJson(path: string, root: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(relative(root, path), `cannot be read (${(error as Error).message})`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ConfigError(relative(root, path), `not valid JSON (${(error as Error).message})`)
  }
}

/** Validates `value`; an error names the key, under `keyPrefix` (the env section the value came from). */
function validate<T>(schema: z.ZodType<T>, value: unknown, path: string, root: string, keyPrefix: string[] = []): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const keyPath = [...keyPrefix, ...issue.path.map(String)]
  const key = keyPath.length > 0 ? keyPath.join('.') : '(top level)'
  throw new ConfigError(relative(root, path), `${key}: ${issue.message}`)
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * Reads one worker config as the reference's `loadConf(name, group)`: a top-level key
 * equal to the env name selects that sub-object; a non-object file counts as `{}`.
 */
function loadWorkerFile<T>(
  root: string,
  env: string,
  name: string,
  schema: z.ZodType<T>,
  required: boolean,
): T | undefined {
  const path = resolveConfigFile(join(root, 'config'), env, `${name}.json`, root)
  if (path === null) {
    if (required) throw new ConfigError(join('config', `${name}.json`), MISSING_REQUIRED_FILE)
    return undefined
  }
  const raw = readJson(path, root)
  const object = isPlainObject(raw) ? raw : {}
  const envSection = isPlainObject(object[env])
  return validate(schema, envSection ? object[env] : object, path, root, envSection ? [env] : [])
}

/** Reads a facility config (`config/facs/<name>.config.json`) and returns its `ns` section. */
function loadFacilityFile<T>(root: string, env: string, name: string, ns: string, schema: z.ZodType<T>): T {
  const path = resolveConfigFile(join(root, 'config', 'facs'), env, `${name}.config.json`, root)
  if (path === null) {
    throw new ConfigError(join('config', 'facs', `${name}.config.json`), MISSING_REQUIRED_FILE)
  }
  const raw = readJson(path, root)
  const section = isPlainObject(raw) ? raw[ns] : undefined
  if (!isPlainObject(section)) throw new ConfigError(relative(root, path), `${ns}: section is missing`)
  return validate(schema, section, path, root, [ns])
}

/** Loads and validates every config file the worker uses, from `<serviceRoot>/config`. */
export function loadWorkerConfig(serviceRoot: string, env: string): WorkerConfig {
  return {
    ork: loadWorkerFile(serviceRoot, env, 'base.ork', baseOrkConfigSchema, true)!,
    common: loadWorkerFile(serviceRoot, env, 'common', commonConfigSchema, false) ?? {},
    net: loadFacilityFile(serviceRoot, env, 'net', 'r0', netConfigSchema),
    globalConfig: loadWorkerFile(serviceRoot, env, 'global.config', globalConfigSchema, false),
    aggrData: loadWorkerFile(serviceRoot, env, 'aggr.data', aggrDataConfigSchema, false),
    aggrStats: loadWorkerFile(serviceRoot, env, 'aggr.stats', aggrStatsConfigSchema, false),
    aggrCrossthg: loadWorkerFile(serviceRoot, env, 'aggr.crossthg', aggrCrossthgConfigSchema, false),
    crossAggrAction: loadWorkerFile(serviceRoot, env, 'cross.aggr.action', crossAggrActionConfigSchema, false),
  }
}
