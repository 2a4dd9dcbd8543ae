import { OrkError } from '@ork/errors'

/** Environments the reference launcher accepts for `--env`. */
export const ENVIRONMENTS = ['production', 'development', 'test'] as const
export type Environment = (typeof ENVIRONMENTS)[number]

/** The launcher's context: every CLI flag, camelCased, as the reference's boot module builds it. */
export interface WorkerArgs {
  wtype: string
  env: Environment
  cluster: string
  serviceRoot?: string
  debug: boolean
  [flag: string]: unknown
}

/** What `--help` prints. */
export const USAGE = `Usage: ork-worker --wtype wrk-ork-proc-aggr --env <${ENVIRONMENTS.join('|')}> --cluster <id> [--serviceRoot <dir>]

  --wtype        the worker type; this worker runs wrk-ork-proc-aggr only
  --env          selects config/<env>.<name>.json and the <env> section of each config file
  --cluster      this ork's id: its status file, store directories and instance id are named after it
  --serviceRoot  directory holding config/ and status/ (default: the working directory);
                 store/ is created under the working directory, as with the reference worker`

/** A bad command line: the wire-style code, then what is wrong in words. */
export class ArgsError extends OrkError {
  constructor(code: string, explanation: string) {
    super(code)
    this.message = `${code}: ${explanation}`
  }
}

/**
 * A cluster id names files and directories (`status/<wtype>-<id>.json`, `store/<id>`): path
 * separators or a `..` would put them outside status/ and store/.
 */
const isClusterId = (id: string) =>
  id !== '.' && id !== '..' && !/[/\\]/.test(id) && ![...id].some((character) => character.charCodeAt(0) < 0x20)

const camelCase = (flag: string) => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/**
 * Parses `--name value`, `--name=value` and bare `--flag` (true) like the reference's
 * launcher, then checks the flags the ork needs. Throws {@link ArgsError}, with the reference's
 * code `ERR_PROC_RACK_UNDEFINED` without `--cluster`.
 */
export function parseWorkerArgs(argv: readonly string[]): WorkerArgs {
  const flags: Record<string, unknown> = {}
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string
    if (!token.startsWith('--')) {
      throw new ArgsError('ERR_ARG_INVALID', `unexpected argument "${token}" (flags start with --; see --help)`)
    }
    const [rawName, inlineValue] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
    const name = camelCase(rawName)
    if (inlineValue !== undefined) {
      flags[name] = inlineValue
    } else if (index + 1 < argv.length && !(argv[index + 1] as string).startsWith('--')) {
      flags[name] = argv[++index]
    } else {
      flags[name] = true
    }
  }
  if (typeof flags.wtype !== 'string' || flags.wtype === '') {
    throw new ArgsError('ERR_WTYPE_INVALID', '--wtype wrk-ork-proc-aggr is required (see --help)')
  }
  if (!ENVIRONMENTS.includes(flags.env as Environment)) {
    const given = flags.env === undefined || flags.env === true ? 'none given' : `got "${String(flags.env)}"`
    throw new ArgsError('ERR_ENV_INVALID', `--env must be one of ${ENVIRONMENTS.join(', ')} (${given})`)
  }
  // ERR_PROC_RACK_UNDEFINED is the reference's code for a missing --cluster.
  if (typeof flags.cluster !== 'string' || flags.cluster === '') {
    throw new ArgsError('ERR_PROC_RACK_UNDEFINED', '--cluster <id> is required')
  }
  if (!isClusterId(flags.cluster)) {
    throw new ArgsError(
      'ERR_CLUSTER_INVALID',
      `--cluster "${flags.cluster}" cannot name a file: no "/", "\\", control characters, "." or ".."`,
    )
  }
  if (flags.serviceRoot !== undefined && (typeof flags.serviceRoot !== 'string' || flags.serviceRoot === '')) {
    throw new ArgsError('ERR_SERVICE_ROOT_INVALID', '--serviceRoot needs a directory')
  }
  return { ...flags, debug: flags.debug === true || flags.debug === 'true' } as WorkerArgs
}
