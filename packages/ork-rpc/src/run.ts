import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { isOrkError, type OrkError } from '@ork/errors'

// Loaded only when a request is sent: the DHT stack takes ~0.4 s to load, which a usage or
// payload error should not cost.
type Transport = typeof import('@ork/rpc-transport')

import { type CliOptions, dhtOptionsFor, parseCliArgs, USAGE, UsageError } from './args.ts'
import { orkMethod, similarMethodNames, validateOrkRequest } from './ork-methods.ts'
import { type ProgressStream, startProgress } from './progress.ts'

/** Exit codes of ork-rpc. */
export const ExitCode = {
  OK: 0,
  /** The server answered `[HRPC_ERR]=...`. */
  REMOTE_ERROR: 1,
  /** Bad command line or payload: nothing was sent. */
  USAGE: 2,
  /** Timeout, unknown method, connection failure, undecodable reply. */
  TRANSPORT: 3,
  /** Interrupted (Ctrl-C). */
  INTERRUPTED: 130,
} as const

/** Where ork-rpc reads and writes; the process's streams by default. */
export interface CliIo {
  stdout: { write(text: string): unknown }
  stderr: ProgressStream
  /** Resolves relative paths (`-s` status files, `-f`); default `process.cwd()`. */
  cwd: string
  /** Reads `-f -`; default: the process's stdin (given up when `signal` aborts). */
  readStdin: (signal?: AbortSignal) => string | Promise<string>
  /** Aborting closes the client and ends the call with exit code 130. */
  signal?: AbortSignal
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/

/** A failure of one run: its code, what to say, and the exit code. */
class CliFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
  }
}

function resolveServerKey(server: string, cwd: string): string {
  if (HEX_KEY.test(server)) return server.toLowerCase()
  const path = resolve(cwd, server)
  if (!existsSync(path)) {
    throw new UsageError(`-s: "${server}" is neither a 64-hex public key nor an existing status file`)
  }
  let status: unknown
  try {
    status = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new UsageError(`-s: ${server} is not a JSON status file (${(error as Error).message})`)
  }
  const key = (status as { rpcPublicKey?: unknown } | null)?.rpcPublicKey
  if (typeof key !== 'string' || !HEX_KEY.test(key)) {
    throw new UsageError(`-s: ${server} holds no rpcPublicKey (is the worker started?)`)
  }
  return key.toLowerCase()
}

/** Reads all of stdin without blocking the event loop, so Ctrl-C still ends a read that waits for input. */
async function readProcessStdin(signal?: AbortSignal): Promise<string> {
  const chunks: Buffer[] = []
  const stop = () => process.stdin.destroy()
  signal?.addEventListener('abort', stop, { once: true })
  try {
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  } finally {
    signal?.removeEventListener('abort', stop)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function readPayloadText(options: CliOptions, io: CliIo): Promise<string | undefined> {
  if (options.file === undefined) return options.data
  if (options.file === '-') return io.readStdin(io.signal)
  try {
    return readFileSync(resolve(io.cwd, options.file), 'utf8')
  } catch (error) {
    throw new UsageError(`-f: cannot read ${options.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/** Creates the --store directory up front, so that a path that cannot hold it is a usage error (exit 2). */
function prepareStoreDirectory(store: string, cwd: string): void {
  try {
    mkdirSync(resolve(cwd, store), { recursive: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new UsageError(
      `--store: cannot keep the client's keys in ${store} (${code === 'EEXIST' ? 'not a directory' : code})`,
    )
  }
}

function parsePayload(text: string | undefined, source: string): unknown {
  if (text === undefined || text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${source}: not valid JSON (${(error as Error).message})`)
  }
}

function describeFailure(
  error: unknown,
  method: string,
  key: string,
  timeoutMs: number,
  transport: Transport,
): CliFailure {
  const { RemoteError, TransportError } = transport
  if (error instanceof CliFailure) return error
  if (error instanceof RemoteError) {
    const remote = error.remoteMessage
    const code = /^ERR_[A-Z0-9_]+$/.test(remote) ? remote : 'REMOTE_ERROR'
    return new CliFailure(code, `the server refused ${method}: ${error.message}`, ExitCode.REMOTE_ERROR)
  }
  if (error instanceof TransportError) {
    let message = error.message
    if (error.code === 'TIMEOUT_EXCEEDED') message = `no reply to ${method} within ${timeoutMs} ms`
    if (error.code === 'UNKNOWN_METHOD') {
      const similar = similarMethodNames(method).filter((name) => name !== method)
      message = `the server has no method "${method}"${similar.length > 0 ? ` (did you mean ${similar.join(', ')}?)` : ''}`
    }
    if (error.code === 'REQUEST_ERROR' && error.causeMessage) message = `${method} failed: ${error.causeMessage}`
    if (error.code === 'CHANNEL_CLOSED') {
      message =
        `could not reach ${key}: no worker with this key on this DHT (check -s and --bootstrap), ` +
        "or its allow list does not admit this client (keep a client key with --store and add it to the worker's allow list)"
    }
    return new CliFailure(error.code, message, ExitCode.TRANSPORT)
  }
  if (isOrkError(error)) return new CliFailure(error.code, describeLocalError(error, method), ExitCode.TRANSPORT)
  const message = error instanceof Error ? error.message : String(error)
  return new CliFailure('ERROR', message, ExitCode.TRANSPORT)
}

/** What the transport's own coded errors (found on this side, not by the server) mean for this call. */
function describeLocalError(error: OrkError, method: string): string {
  const request = error.details?.stage === 'request'
  const reason = error.details?.reason
  if (error.code === 'ERR_FACS_NET_DATA_FORMAT') {
    if (request) return `the ${method} payload cannot be sent as JSON`
    return typeof reason === 'string'
      ? `the reply to ${method} cannot be used: ${reason}`
      : `the reply to ${method} is not JSON`
  }
  if (error.code === 'ERR_FACS_NET_PAYLOAD_TOO_LARGE') {
    return request
      ? `the ${method} payload is larger than the transport carries`
      : `the reply to ${method} is larger than the transport carries`
  }
  return error.message
}

function reportFailure(io: CliIo, options: Pick<CliOptions, 'raw'>, failure: CliFailure): number {
  const line = options.raw
    ? JSON.stringify({ error: failure.code, message: failure.message })
    : `ork-rpc: ${failure.code}: ${failure.message}`
  io.stderr.write(`${line}\n`)
  return failure.exitCode
}

function formatReply(reply: unknown, raw: boolean): string {
  const text = raw ? JSON.stringify(reply ?? null) : JSON.stringify(reply ?? null, null, 2)
  return `${text}\n`
}

/**
 * Runs one ork-rpc command line: validates the payload against the ork's API reference
 * (unless `--no-validate` or the method is not an ork method), calls the server, prints
 * the reply on stdout and failures on stderr. Resolves with the exit code; never rejects.
 */
export async function runOrkRpc(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const streams: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    cwd: io.cwd ?? process.cwd(),
    readStdin: io.readStdin ?? readProcessStdin,
    ...(io.signal ? { signal: io.signal } : {}),
  }
  let options: CliOptions
  try {
    options = parseCliArgs(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    const raw = argv.includes('--raw')
    reportFailure(streams, { raw }, new CliFailure('USAGE', error.message, ExitCode.USAGE))
    if (!raw) streams.stderr.write('Run ork-rpc --help for the options.\n')
    return ExitCode.USAGE
  }
  if (options.help) {
    streams.stdout.write(`${USAGE}\n`)
    return ExitCode.OK
  }
  const method = options.method as string

  let key: string
  let payload: unknown
  const documented = orkMethod(method)
  const raw = documented?.encoding === 'raw'
  try {
    key = resolveServerKey(options.server as string, streams.cwd)
    if (options.store !== undefined) prepareStoreDirectory(options.store, streams.cwd)
    const text = await readPayloadText(options, streams)
    if (streams.signal?.aborted) {
      return reportFailure(streams, options, new CliFailure('INTERRUPTED', 'interrupted', ExitCode.INTERRUPTED))
    }
    payload = raw ? Buffer.from(text ?? '') : parsePayload(text, options.file !== undefined ? '-f' : '-d')
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    return reportFailure(streams, options, new CliFailure('USAGE', error.message, ExitCode.USAGE))
  }
  if (documented && !raw && options.validate) {
    const violation = validateOrkRequest(documented, payload)
    if (violation) {
      const where = violation.path === '' ? 'the payload' : violation.path
      const answer = violation.code ? `; the ork would answer ${violation.code}` : ''
      const message = `invalid payload for ${method}, not sent: ${where}: ${violation.message}${answer} (--no-validate sends it anyway)`
      return reportFailure(
        streams,
        options,
        new CliFailure(violation.code ?? 'PAYLOAD_INVALID', message, ExitCode.USAGE),
      )
    }
  }

  const temporaryStore = options.store === undefined ? mkdtempSync(join(tmpdir(), 'ork-rpc-')) : undefined
  const transport: Transport = await import('@ork/rpc-transport')
  const node = new transport.RpcNode({
    storeDir: options.store !== undefined ? resolve(streams.cwd, options.store) : (temporaryStore as string),
    dhtOpts: dhtOptionsFor(options.bootstrap),
    timeout: options.timeoutMs,
  })
  const stopProgress = startProgress(streams.stderr, { label: method })
  let onAbort: (() => void) | undefined
  const interrupted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new CliFailure('INTERRUPTED', `${method} interrupted`, ExitCode.INTERRUPTED))
    if (streams.signal?.aborted) onAbort()
    streams.signal?.addEventListener('abort', onAbort, { once: true })
  })
  interrupted.catch(() => {})
  try {
    const call = (async (): Promise<{ bytes: Buffer } | { json: unknown }> => {
      await node.ready()
      if (raw) {
        const reply = await node.requestRaw(key, method, payload as Buffer, { timeout: options.timeoutMs })
        return { bytes: reply }
      }
      return { json: await node.request(key, method, payload, { timeout: options.timeoutMs }) }
    })()
    call.catch(() => {})
    const reply = await Promise.race([call, interrupted])
    stopProgress()
    if ('bytes' in reply) streams.stdout.write(reply.bytes.toString('utf8') + (options.raw ? '' : '\n'))
    else streams.stdout.write(formatReply(reply.json, options.raw))
    return ExitCode.OK
  } catch (error) {
    stopProgress()
    return reportFailure(streams, options, describeFailure(error, method, key, options.timeoutMs, transport))
  } finally {
    if (onAbort) streams.signal?.removeEventListener('abort', onAbort)
    await node.close().catch(() => {})
    if (temporaryStore) rmSync(temporaryStore, { recursive: true, force: true })
  }
}
