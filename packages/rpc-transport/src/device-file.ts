import { closeSync, fstatSync, openSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import fsx from 'fs-native-extensions'

/** The device file corestore keeps in its directory, locked while the store is open. */
export const CORESTORE_DEVICE_FILE = 'CORESTORE'

/**
 * Removes the device file of a corestore whose very first open was killed half-way, so that
 * the store can be opened again. Call it before `new Corestore(directory)`. Returns true when
 * it removed the file.
 *
 * Why: corestore (hypercore-storage, device-file) creates `<directory>/CORESTORE` empty, locks
 * it, then writes the store's device data into it, and only then opens the database. A process
 * killed in between leaves an empty file, and every later open refuses it ("Invalid device
 * file, was modified"): the worker could not start again until someone deleted the file by
 * hand. An empty device file has nothing to check and no database was ever opened with it, so
 * the next open may create it again. Only when nobody holds its lock, though: a process that is
 * creating it at this very moment holds it, and then the open reports the store in use.
 */
export function removeInterruptedDeviceFile(directory: string): boolean {
  const path = join(directory, CORESTORE_DEVICE_FILE)
  let fd: number
  try {
    fd = openSync(path, 'r+')
  } catch {
    return false // no device file yet, or one the open will report itself
  }
  try {
    if (fstatSync(fd).size !== 0) return false
    if (!fsx.tryLock(fd)) return false
    // Still the file we locked (not one a concurrent start has just created in its place)?
    if (statSync(path).ino !== fstatSync(fd).ino) return false
    unlinkSync(path)
    return true
  } finally {
    closeSync(fd) // releases the lock
  }
}
