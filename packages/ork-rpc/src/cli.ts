#!/usr/bin/env node
/**
 * ork-rpc: `ork-rpc -s <key|status file> -m <method> [-d <json> | -f <file>] [-t ms]
 * [--bootstrap host:port] [--raw] [--no-validate]`. See `ork-rpc --help`.
 */
import { runOrkRpc } from './run.ts'

const controller = new AbortController()
// Every way a shell stops a command: the client's temporary store is removed on each of them.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => controller.abort())
// A reader that stops early (`ork-rpc … | head`) closes the pipe: the reply is no longer wanted,
// which is not a failure. Without a listener the EPIPE would be thrown as an unhandled 'error'
// event, with a stack trace and the temporary store left behind.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
}

runOrkRpc(process.argv.slice(2), { signal: controller.signal }).then(
  (exitCode) => {
    process.exitCode = exitCode
    // DHT sockets close asynchronously; never let a lingering handle keep the shell waiting
    setTimeout(() => process.exit(exitCode), 2000).unref()
  },
  (error: unknown) => {
    process.stderr.write(`ork-rpc: ${(error as Error)?.stack ?? String(error)}\n`)
    process.exit(3)
  },
)
