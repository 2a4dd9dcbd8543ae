import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ensureInstanceId, loadStatus, saveStatus, statusFilePath } from './status-file.ts'

const directories: string[] = []
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
})

describe('status file', () => {
  it('creates status/<prefix>.json with a persisted instance id', () => {
    const root = mkdtempSync(join(tmpdir(), 'ork-status-'))
    directories.push(root)
    const path = statusFilePath(root, 'wrk-ork-proc-aggr-shard-1')
    expect(path).toBe(join(root, 'status', 'wrk-ork-proc-aggr-shard-1.json'))
    const status = loadStatus(path)
    const id = ensureInstanceId(status, 'wrk-ork-proc-aggr-shard-1')
    expect(id).toMatch(
      /^wrk-ork-proc-aggr-shard-1-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    saveStatus(path, { ...status, rpcPublicKey: 'aa' })
    const reread = loadStatus(path)
    expect(ensureInstanceId(reread, 'x')).toBe(id)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ instanceId: id, rpcPublicKey: 'aa' })
  })

  // /dev/full refuses every write with ENOSPC: a full disk without root or a small file system.
  it.skipIf(!existsSync('/dev/full'))('keeps the last status file when the disk is full, and says which file', () => {
    const root = mkdtempSync(join(tmpdir(), 'ork-status-'))
    directories.push(root)
    const path = statusFilePath(root, 'wrk-ork-proc-aggr-full')
    mkdirSync(join(root, 'status'))
    writeFileSync(path, JSON.stringify({ instanceId: 'kept' }))
    symlinkSync('/dev/full', `${path}.${process.pid}.tmp`)
    expect(() => saveStatus(path, { instanceId: 'kept', rpcPublicKey: 'aa' })).toThrow(
      expect.objectContaining({ code: 'ENOSPC', path }),
    )
    expect(loadStatus(path)).toEqual({ instanceId: 'kept' })
    expect(readdirSync(join(root, 'status'))).toEqual(['wrk-ork-proc-aggr-full.json'])
  })

  it('treats an unreadable file as empty', () => {
    const root = mkdtempSync(join(tmpdir(), 'ork-status-'))
    directories.push(root)
    const path = join(root, 'broken.json')
    writeFileSync(path, '{"instanceId": ')
    expect(loadStatus(path)).toEqual({})
    writeFileSync(path, '[1]')
    expect(loadStatus(path)).toEqual({})
  })
})
