import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from './support/harness.ts'

/** The built CLI: the worker's test task depends on the build of its dependencies (turbo). */
const cliPath = join(import.meta.dirname, '..', '..', '..', 'packages', 'ork-rpc', 'dist', 'cli.js')

interface CliResult {
  code: number
  stdout: string
  stderr: string
}

let harness: Harness
let bootstrap: string[]

/** Runs `ork-rpc` as a user would, against the harness's loopback DHT. */
function orkRpc(args: string[], options: { timeout?: number } = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cliPath, ...bootstrap, ...args],
      { cwd: harness.root, timeout: options.timeout ?? 30_000 },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: unknown }).code as number) : 0
        done({ code: typeof code === 'number' ? code : -1, stdout, stderr })
      },
    )
  })
}

beforeAll(async () => {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: build @ork/rpc-cli first (turbo does it)`)
  harness = await startHarness()
  bootstrap = harness.testnet.bootstrap.flatMap(({ host, port }) => ['--bootstrap', `${host}:${port}`])
})
afterAll(async () => {
  await harness?.close()
})

describe('ork-rpc against a running ork', () => {
  it('prints the reply as indented JSON', async () => {
    const result = await orkRpc(['-s', harness.ork.rpcPublicKey, '-m', 'listRacks', '-d', '{"type":"miner"}'])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    const racks = JSON.parse(result.stdout) as { id: string }[]
    expect(racks.map((rack) => rack.id)).toEqual(['miner-am-s19xp-rack-1', 'miner-am-s19xp-rack-2'])
    expect(result.stdout).toContain('\n  {\n    "id": "miner-am-s19xp-rack-1"')
  })

  it('reads the key from a status file, the payload from a file, and prints one line with --raw', async () => {
    const payloadFile = join(harness.root, 'things-query.json')
    writeFileSync(payloadFile, JSON.stringify({ query: { type: { $regex: '^powermeter' } }, fields: { id: 1 } }))
    const result = await orkRpc(['-s', harness.ork.statusFile, '-m', 'listThings', '-f', payloadFile, '--raw'])
    expect(result.code).toBe(0)
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1)
    const things = JSON.parse(result.stdout) as { id: string }[]
    expect(things).toHaveLength(2)
    expect(things.every((thing) => thing.id.length > 0)).toBe(true)
    // a status file path relative to the working directory works too
    const relative = await orkRpc(['-s', 'status/wrk-ork-proc-aggr-test-cluster.json', '-m', 'getThingsCount'])
    expect(relative).toMatchObject({ code: 0, stdout: '44\n' })
  })

  it('refuses a bad payload before sending, with the code the ork would answer', async () => {
    const result = await orkRpc(['-s', harness.ork.rpcPublicKey, '-m', 'listThings', '-d', '{"limit":"ten"}'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^ork-rpc: ERR_LIMIT_INVALID: invalid payload for listThings, not sent: \/limit: /)
    const missing = await orkRpc(['-s', harness.ork.rpcPublicKey, '-m', 'registerRack', '-d', '{"id":"x"}', '--raw'])
    expect(missing.code).toBe(2)
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: 'ERR_RACK_TYPE_INVALID' })
  })

  it('with --no-validate sends it and reports the remote ERR_ code (exit 1)', async () => {
    const args = ['-s', harness.ork.rpcPublicKey, '-m', 'listThings', '-d', '{"limit":"ten"}', '--no-validate']
    const result = await orkRpc(args)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      'ork-rpc: ERR_LIMIT_INVALID: the server refused listThings: [HRPC_ERR]=ERR_LIMIT_INVALID\n',
    )
    const raw = await orkRpc([...args, '--raw'])
    expect(raw.code).toBe(1)
    expect(JSON.parse(raw.stderr)).toEqual({
      error: 'ERR_LIMIT_INVALID',
      message: 'the server refused listThings: [HRPC_ERR]=ERR_LIMIT_INVALID',
    })
  })

  it('reports an unknown method as a transport error (exit 3), suggesting close names', async () => {
    const result = await orkRpc(['-s', harness.ork.rpcPublicKey, '-m', 'listRack', '-d', '{}'])
    expect(result.code).toBe(3)
    expect(result.stderr).toBe(
      'ork-rpc: UNKNOWN_METHOD: the server has no method "listRack" (did you mean listRacks?)\n',
    )
  })

  it('gives up after -t ms on a server that never answers', async () => {
    const rack = harness.site.racks[0]
    if (!rack) throw new Error('the harness has no rack')
    rack.setFaults({ neverAnswer: true })
    try {
      const started = Date.now()
      // getRack is a rack method, not in the ork's reference: sent without validation
      const result = await orkRpc(['-s', rack.rpcPublicKey, '-m', 'getRack', '-t', '1000', '--raw'])
      expect(result.code).toBe(3)
      expect(JSON.parse(result.stderr)).toEqual({
        error: 'TIMEOUT_EXCEEDED',
        message: 'no reply to getRack within 1000 ms',
      })
      expect(Date.now() - started).toBeLessThan(15_000)
    } finally {
      rack.setFaults({})
    }
  })

  it('sends raw bytes to ping and prints them back', async () => {
    const result = await orkRpc(['-s', harness.ork.rpcPublicKey, '-m', 'ping', '-d', 'hello ork', '--raw'])
    expect(result).toEqual({ code: 0, stdout: 'hello ork', stderr: '' })
    const instance = await orkRpc(['-s', harness.ork.rpcPublicKey, '-m', 'getInstanceId', '--raw'])
    expect(JSON.parse(instance.stdout)).toBe(harness.ork.instanceId)
  })

  it('ends quietly, and cleans up, when its reader stops early (ork-rpc … | head)', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'ork-rpc-cli-pipe-'))
    try {
      const child = spawn(
        process.execPath,
        [cliPath, ...bootstrap, '-s', harness.ork.rpcPublicKey, '-m', 'listThings', '-d', '{}'],
        { cwd: harness.root, env: { ...process.env, TMPDIR: scratch }, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      // The reader goes away before the reply is written: the CLI's write meets a closed pipe.
      child.stdout.destroy()
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const [code] = (await once(child, 'exit')) as [number | null]
      expect(stderr).not.toMatch(/EPIPE|Unhandled/)
      expect(code).toBe(0)
      // The client's temporary store (under TMPDIR) was removed as on every other exit.
      expect(readdirSync(scratch)).toEqual([])
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  })

  it('explains a bad command line without sending anything (exit 2)', async () => {
    const noMethod = await orkRpc(['-s', harness.ork.rpcPublicKey])
    expect(noMethod.code).toBe(2)
    expect(noMethod.stderr).toContain('-m <method> is required')
    const noKey = await orkRpc(['-s', 'no-such-status.json', '-m', 'listRacks'])
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain('neither a 64-hex public key nor an existing status file')
  })
})
