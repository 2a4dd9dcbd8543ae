/** The longest `-t` Node's timers can wait. */
const MAX_TIMEOUT_MS = 2_147_483_647

/** A command line ork-rpc cannot run: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** A DHT bootstrap node. */
export interface BootstrapAddress {
  host: string
  port: number
}

/** What the command line asks for. */
export interface CliOptions {
  /** `-s`: a 64-hex public key, or the path of a status file holding `rpcPublicKey`. */
  server: string | undefined
  /** `-m` */
  method: string | undefined
  /** `-d`: the payload as JSON text. */
  data: string | undefined
  /** `-f`: a file holding the payload (`-` for stdin). */
  file: string | undefined
  /** `-t`: request timeout in ms. */
  timeoutMs: number
  /** `--bootstrap host:port`, repeatable (or comma-separated). */
  bootstrap: BootstrapAddress[]
  /** `--raw`: compact output for scripts. */
  raw: boolean
  /** `--no-validate`: send the payload even when the API reference refuses it. */
  validate: boolean
  /** `--store DIR`: where the client's key seeds live (default: a temporary directory). */
  store: string | undefined
  help: boolean
}

/** The default request timeout (the reference transport's). */
export const DEFAULT_TIMEOUT_MS = 30_000

export const USAGE = `Usage: ork-rpc -s <key|status file> -m <method> [-d <json> | -f <file>] [options]

Calls a method of an ork (or any MiningOS worker) over Hyperswarm RPC and prints the reply.

  -s <key|file>          the server's 64-hex rpcPublicKey, or a status file that holds it
                         (status/wrk-ork-proc-aggr-<cluster>.json)
  -m <method>            the method, e.g. listRacks, listThings, tailLog
  -d <json>              the payload (default {})
  -f <file>              read the payload from a file ("-" for stdin)
  -t <ms>                request timeout (default ${DEFAULT_TIMEOUT_MS})
  --bootstrap host:port  DHT bootstrap node, repeatable (default: the public DHT);
                         a loopback host makes the client bind to 127.0.0.1
  --raw                  compact JSON on one line (for scripts); default: indented
  --no-validate          send even if the payload does not match the ork's API reference
  --store <dir>          keep the client's keys there (default: fresh keys per call)
  -h, --help             this help

Exit codes: 0 success, 1 the server answered an error ([HRPC_ERR]=ERR_...),
2 bad command line or payload (nothing sent), 3 transport error (timeout, unknown method...).`

function parseBootstrap(text: string): BootstrapAddress[] {
  return text
    .split(',')
    .filter((entry) => entry.trim() !== '')
    .map((entry) => {
      const match = /^\s*\[?([^\]]+?)\]?:(\d{1,5})\s*$/.exec(entry)
      const port = match ? Number(match[2]) : Number.NaN
      if (!match || port < 1 || port > 65_535) {
        throw new UsageError(`--bootstrap: expected host:port, got "${entry}"`)
      }
      return { host: match[1] as string, port }
    })
}

/** Parses ork-rpc's command line (without the node and script arguments). */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = {
    server: undefined,
    method: undefined,
    data: undefined,
    file: undefined,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    bootstrap: [],
    raw: false,
    validate: true,
    store: undefined,
    help: false,
  }
  const args = [...argv]
  const nextValue = (flag: string): string => {
    const value = args.shift()
    if (value === undefined) throw new UsageError(`${flag} needs a value`)
    return value
  }
  while (args.length > 0) {
    const argument = args.shift() as string
    const [flag, inlineValue] =
      argument.startsWith('--') && argument.includes('=') ? argument.split(/=(.*)/s) : [argument]
    const value = () => (inlineValue !== undefined ? inlineValue : nextValue(flag as string))
    switch (flag) {
      case '-s':
      case '--server':
        options.server = value()
        break
      case '-m':
      case '--method':
        options.method = value()
        break
      case '-d':
      case '--data':
        options.data = value()
        break
      case '-f':
      case '--file':
        options.file = value()
        break
      case '-t':
      case '--timeout': {
        const text = value()
        const timeout = Number(text)
        // Node's timers hold at most 2^31 − 1 ms (~24.8 days); a longer one fires at once.
        if (!/^\d+$/.test(text) || timeout <= 0 || timeout > MAX_TIMEOUT_MS) {
          throw new UsageError(`-t: expected a timeout in ms from 1 to ${MAX_TIMEOUT_MS}, got "${text}"`)
        }
        options.timeoutMs = timeout
        break
      }
      case '--bootstrap':
        options.bootstrap.push(...parseBootstrap(value()))
        break
      case '--raw':
        options.raw = true
        break
      case '--no-validate':
        options.validate = false
        break
      case '--store':
        options.store = value()
        break
      case '-h':
      case '--help':
        options.help = true
        break
      default:
        throw new UsageError(`unknown option "${argument}"`)
    }
  }
  if (options.help) return options
  if (!options.server) throw new UsageError('-s <key|status file> is required')
  if (!options.method) throw new UsageError('-m <method> is required')
  if (options.data !== undefined && options.file !== undefined) throw new UsageError('give -d or -f, not both')
  return options
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/

/**
 * DHT options for the client: the given bootstrap nodes, bound to 127.0.0.1 when every one
 * of them is on loopback (a local testnet or the demo), since a node bound to all interfaces
 * cannot reach a loopback-only DHT.
 */
export function dhtOptionsFor(bootstrap: readonly BootstrapAddress[]): Record<string, unknown> {
  if (bootstrap.length === 0) return {}
  const loopback = bootstrap.every((node) => LOOPBACK.test(node.host))
  return loopback
    ? { bootstrap: bootstrap.map((node) => ({ ...node, host: '127.0.0.1' })), host: '127.0.0.1', firewalled: false }
    : { bootstrap: [...bootstrap] }
}
