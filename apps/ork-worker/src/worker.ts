#!/usr/bin/env node
/**
 * The ork process: `node dist/worker.js --wtype wrk-ork-proc-aggr --env <env> --cluster <id>
 * [--serviceRoot DIR]`. config/ and status/ are under --serviceRoot (default: the working
 * directory), store/ under the working directory, as with the reference.
 */
import { isOrkError } from '@ork/errors'
import { createLogger } from '@ork/logger'
import { ConfigError } from './config/load-config.ts'
import { ORK_WTYPE, type OrkHandle, startOrk } from './ork.ts'
import { parseWorkerArgs } from './process/args.ts'

// The reference's launcher runs in UTC; date maths must not depend on the host's zone.
process.env.TZ = 'UTC'

const logger = createLogger('ork:worker')

async function main(): Promise<void> {
  const args = parseWorkerArgs(process.argv.slice(2))
  if (args.wtype !== ORK_WTYPE) {
    throw new ConfigError('--wtype', `this worker only runs as ${ORK_WTYPE} (got ${args.wtype})`)
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
    if (stopSignal) return
    stopSignal = signal
    if (ork) shutdown(ork, signal)
    else logger.info('stop requested while starting; stopping once started', { signal })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
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

/** Where the stores are, for the start-up error message. */
let storeRoot: string | undefined

/** What went wrong at start, in words: no stack trace for causes an operator can fix. */
function startFailure(error: unknown): string {
  if (error instanceof ConfigError || isOrkError(error)) return error.message
  const message = error instanceof Error ? error.message : String(error)
  if (/could not be locked/i.test(message)) {
    return `the store under ${storeRoot ?? process.cwd()}/store is in use by another process (another ork of this cluster?)`
  }
  return `failed to start: ${(error as Error)?.stack ?? message}`
}

main().catch((error: unknown) => {
  process.stderr.write(`ork: ${startFailure(error)}\n`)
  process.exit(1)
})
