import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** The worker's status file, `status/<prefix>.json`, as the reference writes it. */
export interface WorkerStatus {
  instanceId?: string
  rpcPublicKey?: string
  rpcClientKey?: string
  [key: string]: unknown
}

export function statusFilePath(serviceRoot: string, prefix: string): string {
  return join(serviceRoot, 'status', `${prefix}.json`)
}

/** Reads the status file; a missing or unreadable file is an empty status, as in the reference. */
export function loadStatus(path: string): WorkerStatus {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as WorkerStatus) : {}
  } catch {
    return {}
  }
}

/**
 * Writes the status file atomically (temp file + rename): the reference overwrites it
 * in place, so a crash mid-write could leave a truncated file and a new instance id.
 */
export function saveStatus(path: string, status: WorkerStatus): void {
  mkdirSync(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(temporary, JSON.stringify(status))
    renameSync(temporary, path)
  } catch (error) {
    // A full disk leaves the temporary file cut short: removed, so that only the status file stays.
    rmSync(temporary, { force: true })
    // Node's error of a failed write does not say which file: the start-up message names it.
    if (error instanceof Error && !('path' in error)) Object.assign(error, { path })
    throw error
  }
}

/** Returns the persisted instance id, creating `<prefix>-<uuid v4>` on first use. */
export function ensureInstanceId(status: WorkerStatus, prefix: string): string {
  if (typeof status.instanceId !== 'string' || status.instanceId === '') status.instanceId = `${prefix}-${randomUUID()}`
  return status.instanceId
}
