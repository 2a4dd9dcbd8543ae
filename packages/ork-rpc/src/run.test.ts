import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet, type LoopbackTestnet } from '@ork/rpc-transport/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExitCode, runOrkRpc } from './run.ts'

let testnet: LoopbackTestnet
let server: RpcNode
let directory: string
let bootstrap: string[]
const seen: unknown[] = []
const release: (() => void)[] = []

beforeAll(async () => {
  testnet = await createLoopbackTestnet()
  directory = mkdtempSync(join(tmpdir(), 'ork-rpc-test-'))
  server = new RpcNode({ storeDir: join(directory, 'server'), dhtOpts: testnet.dhtOpts })
  server.respond('listRacks', (data) => {
    seen.push(data)
    return [{ id: 'rack-1' }]
  })
  server.respond('whoAmI', (_data, context) => context.remotePublicKey.toString('hex'))
  server.respond('slow', () => new Promise<number>((done) => release.push(() => done(1))))
  await server.listen()
  bootstrap = testnet.bootstrap.flatMap(({ host, port }) => ['--bootstrap', `${host}:${port}`])
})
afterAll(async () => {
  for (const done of release) done()
  await server?.close()
  await testnet?.destroy()
  rmSync(directory, { recursive: true, force: true })
})

const capture = () => {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
      cwd: directory,
    },
  }
}

/** Runs ork-rpc against the test server with an abort signal, capturing stderr. */
function interruptible(args: string[], io: Partial<Parameters<typeof runOrkRpc>[1]> = {}) {
  const { err, io: captured } = capture()
  const controller = new AbortController()
  const key = server.rpcPublicKey.toString('hex')
  const running = runOrkRpc([...bootstrap, '-s', key, ...args], { ...captured, ...io, signal: controller.signal })
  return { running, stop: () => controller.abort(), stderr: () => err.join('') }
}

describe('runOrkRpc in process', () => {
  it('reads the payload from stdin with -f -', async () => {
    const { out, io } = capture()
    const key = server.rpcPublicKey.toString('hex')
    const code = await runOrkRpc([...bootstrap, '-s', key, '-m', 'listRacks', '-f', '-', '--raw'], {
      ...io,
      readStdin: () => '{"type":"miner"}',
    })
    expect(code).toBe(ExitCode.OK)
    expect(out.join('')).toBe('[{"id":"rack-1"}]\n')
    expect(seen.at(-1)).toEqual({ type: 'miner' })
  })

  it('keeps the client key in --store, and makes a fresh one per call without it', async () => {
    const key = server.rpcPublicKey.toString('hex')
    const ask = async (extra: string[]) => {
      const { out, io } = capture()
      expect(await runOrkRpc([...bootstrap, '-s', key, '-m', 'whoAmI', '--raw', ...extra], io)).toBe(0)
      return JSON.parse(out.join('')) as string
    }
    const kept = [await ask(['--store', 'keys']), await ask(['--store', 'keys'])]
    expect(kept[0]).toMatch(/^[0-9a-f]{64}$/)
    expect(kept[1]).toBe(kept[0])
    expect(await ask([])).not.toBe(kept[0])
  })

  it('ends with 130 when interrupted while waiting', async () => {
    const call = interruptible(['-m', 'slow', '-t', '20000'])
    while (release.length === 0) await new Promise((done) => setTimeout(done, 20))
    call.stop()
    expect(await call.running).toBe(ExitCode.INTERRUPTED)
    expect(call.stderr()).toBe('ork-rpc: INTERRUPTED: slow interrupted\n')
  })

  it('ends with 130 when interrupted while -f - waits for input', async () => {
    const call = interruptible(['-m', 'listRacks', '-f', '-'], {
      // stdin that never ends until the reader gives up
      readStdin: (signal) => new Promise((done) => signal?.addEventListener('abort', () => done(''))),
    })
    setTimeout(call.stop, 20)
    expect(await call.running).toBe(ExitCode.INTERRUPTED)
    expect(call.stderr()).toBe('ork-rpc: INTERRUPTED: interrupted\n')
  })

  it('says what to check when no worker answers to the key', async () => {
    const { err, io } = capture()
    const code = await runOrkRpc([...bootstrap, '-s', 'ab'.repeat(32), '-m', 'listRacks', '-t', '20000'], io)
    expect(code).toBe(ExitCode.TRANSPORT)
    expect(err.join('')).toMatch(/^ork-rpc: CHANNEL_CLOSED: could not reach a{1}b.*check -s and --bootstrap.*--store/)
  }, 30_000)

  it('refuses a --store path that cannot be a directory before sending anything (exit 2)', async () => {
    const { err, io } = capture()
    const file = join(directory, 'a-file')
    writeFileSync(file, 'not a directory')
    const key = server.rpcPublicKey.toString('hex')
    const args = ['-s', key, '-m', 'listRacks', '-d', '{"marker":"store"}', '--store', file]
    expect(await runOrkRpc([...bootstrap, ...args], io)).toBe(ExitCode.USAGE)
    expect(err.join('')).toBe(`ork-rpc: USAGE: --store: cannot keep the client's keys in ${file} (not a directory)\n`)
    expect(seen).not.toContainEqual({ marker: 'store' })
  })

  it('prints the help on stdout', async () => {
    const { out, io } = capture()
    expect(await runOrkRpc(['-h'], io)).toBe(0)
    expect(out.join('')).toContain('Usage: ork-rpc -s <key|status file> -m <method>')
  })
})
