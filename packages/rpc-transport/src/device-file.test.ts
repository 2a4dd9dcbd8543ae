import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fsx from 'fs-native-extensions'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CORESTORE_DEVICE_FILE, removeInterruptedDeviceFile } from './device-file.ts'

let directory: string
let deviceFile: string

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'device-file-'))
  deviceFile = join(directory, CORESTORE_DEVICE_FILE)
})
afterEach(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe('removeInterruptedDeviceFile', () => {
  it('removes the empty device file a killed first open left', () => {
    writeFileSync(deviceFile, '')
    expect(removeInterruptedDeviceFile(directory)).toBe(true)
    expect(existsSync(deviceFile)).toBe(false)
  })

  it('leaves a written device file, and a directory without one, alone', () => {
    expect(removeInterruptedDeviceFile(directory)).toBe(false)
    expect(removeInterruptedDeviceFile(join(directory, 'missing'))).toBe(false)
    writeFileSync(deviceFile, 'id=\ndevice/platform=linux\n')
    expect(removeInterruptedDeviceFile(directory)).toBe(false)
    expect(existsSync(deviceFile)).toBe(true)
  })

  it('leaves an empty device file alone while another open holds its lock (it is being written)', () => {
    writeFileSync(deviceFile, '')
    const holder = openSync(deviceFile, 'r+')
    try {
      expect(fsx.tryLock(holder)).toBe(true)
      expect(removeInterruptedDeviceFile(directory)).toBe(false)
      expect(existsSync(deviceFile)).toBe(true)
    } finally {
      closeSync(holder)
    }
    expect(removeInterruptedDeviceFile(directory)).toBe(true)
  })
})
