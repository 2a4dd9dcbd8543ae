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

const camelCase = (flag: string) => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/**
 * Parses `--name value`, `--name=value` and bare `--flag` (true) like the reference's
 * launcher, then checks the flags the ork needs. Throws OrkError with the reference's
 * codes: `ERR_PROC_RACK_UNDEFINED` without `--cluster`.
 */
export function parseWorkerArgs(argv: readonly string[]): WorkerArgs {
  const flags: Record<string, unknown> = {}
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string
    if (!token.startsWith('--')) throw new OrkError('ERR_ARG_INVALID', { argument: token })
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
  if (typeof flags.wtype !== 'string' || flags.wtype === '') throw new OrkError('ERR_WTYPE_INVALID')
  if (!ENVIRONMENTS.includes(flags.env as Environment)) {
    throw new OrkError('ERR_ENV_INVALID', { env: flags.env, allowed: ENVIRONMENTS })
  }
  if (typeof flags.cluster !== 'string' || flags.cluster === '') throw new OrkError('ERR_PROC_RACK_UNDEFINED')
  if (flags.serviceRoot !== undefined && typeof flags.serviceRoot !== 'string') {
    throw new OrkError('ERR_SERVICE_ROOT_INVALID')
  }
  return { ...flags, debug: flags.debug === true || flags.debug === 'true' } as WorkerArgs
}
