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
  const ork: OrkHandle = await startOrk({
    cluster: args.cluster,
    env: args.env,
    root: args.serviceRoot ?? process.cwd(),
    storeRoot: process.cwd(),
    logger,
  })
  process.stdout.write(
    `${JSON.stringify({ instanceId: ork.instanceId, rpcPublicKey: ork.rpcPublicKey, rpcClientKey: ork.rpcClientKey })}\n`,
  )

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    logger.info('shutting down', { signal })
    ork.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error })
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // A stray rejection is a bug to log, not a reason to drop every rack's connection.
  process.on('unhandledRejection', (error) => logger.error('unhandled rejection', { error }))
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || isOrkError(error)) {
    process.stderr.write(`ork: ${error.message}\n`)
  } else {
    process.stderr.write(`ork: failed to start: ${(error as Error)?.stack ?? String(error)}\n`)
  }
  process.exit(1)
})
