/**
 * Scratch directories for benchmarks, removed when the process exits, however it exits: a
 * thrown error, `process.exit`, or Ctrl-C / SIGTERM (turned into an exit so the removal runs).
 * While open, each simulated rack's store holds about 75 MB of preallocated space, so a
 * 50-rack benchmark that died before its cleanup used to leave 4 GB in the temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const directories = new Set<string>()

function removeAll(): void {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true })
  directories.clear()
}

/** Removes `directory` (and everything in it) when the process exits; returns it. */
export function removeOnExit(directory: string): string {
  if (directories.size === 0) {
    process.once('exit', removeAll)
    process.once('SIGINT', () => process.exit(130))
    process.once('SIGTERM', () => process.exit(143))
  }
  directories.add(directory)
  return directory
}

/** A new directory under the system's temp directory, removed when the process exits. */
export function benchScratchDir(prefix: string): string {
  return removeOnExit(mkdtempSync(join(tmpdir(), prefix)))
}
