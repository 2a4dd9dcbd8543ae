#!/usr/bin/env node
/**
 * The ork process: `node dist/worker.js --wtype wrk-ork-proc-aggr --env <env> --cluster <id>
 * [--serviceRoot DIR]`. config/ and status/ are under --serviceRoot (default: the working
 * directory), store/ under the working directory, as with the reference.
 */
import { statSync } from 'node:fs'
import { isOrkError, storeWriteError } from '@ork/errors'
import { createLogger } from '@ork/logger'
import { ConfigError } from './config/load-config.ts'
import { ORK_WTYPE, type OrkHandle, startOrk } from './ork.ts'
import { ArgsError, parseWorkerArgs, USAGE } from './process/args.ts'
import { isOutOfSpace } from './store-health.ts'

// The reference's launcher runs in UTC; date maths must not depend on the host's zone.
process.env.TZ = 'UTC'

const logger = createLogger('ork:worker')

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const args = parseWorkerArgs(argv)
  if (args.wtype !== ORK_WTYPE) {
    throw new ConfigError('--wtype', `this worker only runs as ${ORK_WTYPE} (got ${args.wtype})`)
  }
  if (args.serviceRoot !== undefined && !isDirectory(args.serviceRoot)) {
    throw new ArgsError('ERR_SERVICE_ROOT_INVALID', `--serviceRoot ${args.serviceRoot} is not a directory`)
  }
  process.title = `${args.wtype}-${process.pid}`

  // Installed before starting: a signal during start-up stops the ork once it has started.
  let ork: OrkHandle | undefined
  let stopSignal: NodeJS.Signals | undefined
  const shutdown = (started: OrkHandle, signal: NodeJS.Signals) => {
    logger.info('shutting down', { signal })
    started.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error })
        process.exit(1)
      },
    )
  }
  const stop = (signal: NodeJS.Signals) => {
    // Ignored while stopping: a terminal's Ctrl-C reaches both `npm start` and the worker, and npm
    // forwards it again. The drain is bounded, so the stop always ends.
    if (stopSignal) return
    stopSignal = signal
    if (ork) shutdown(ork, signal)
    else logger.info('stop requested while starting; stopping once started', { signal })
  }
  // SIGHUP too: closing the terminal of a worker started by hand stops it cleanly, not abruptly.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop)
  // A stray rejection is a bug to log, not a reason to drop every rack's connection.
  process.on('unhandledRejection', (error) => logger.error('unhandled rejection', { error }))

  storeRoot = process.cwd()
  ork = await startOrk({
    cluster: args.cluster,
    env: args.env,
    root: args.serviceRoot ?? process.cwd(),
    storeRoot,
    logger,
  })
  process.stdout.write(
    `${JSON.stringify({ instanceId: ork.instanceId, rpcPublicKey: ork.rpcPublicKey, rpcClientKey: ork.rpcClientKey })}\n`,
  )
  if (stopSignal) shutdown(ork, stopSignal)
}

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** Where the stores are, for the start-up error message. */
let storeRoot: string | undefined

/** What went wrong at start, in words: no stack trace for causes an operator can fix. */
function startFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message
  const message = error instanceof Error ? error.message : String(error)
  if (/could not be locked/i.test(message)) {
    return `the store under ${storeRoot ?? process.cwd()}/store is in use by another process (another ork of this cluster?)`
  }
  if (/invalid device file/i.test(message)) {
    // Corestore's device file records where its store was made (inode, creation time, platform).
    return (
      `the store under ${storeRoot ?? process.cwd()}/store cannot be opened (${message}): corestore refuses a ` +
      'store that was copied, moved or edited, as a second copy of its writable cores would fork them'
    )
  }
  // The file system refused (ENOSPC, EACCES, ENOTDIR…): its text says what, mostly with the path; a stack adds nothing.
  const refusal = storeWriteError(error)
  if (refusal) {
    const reason = String(refusal.details?.reason)
    if (!isOutOfSpace(refusal)) return `failed to start: ${reason}`
    // Node names the file of a failed write only in `path` (the status file's); the other writes are the stores'.
    const where = (error as { path?: unknown }).path ?? `${storeRoot ?? process.cwd()}/store`
    return `failed to start: no room to write ${where} (disk full?): ${reason}`
  }
  if (isOrkError(error)) return error.message
  return `failed to start: ${(error as Error)?.stack ?? message}`
}

main().catch((error: unknown) => {
  process.stderr.write(`ork: ${startFailure(error)}\n`)
  process.exit(1)
})
