import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
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
/** Requests of the `never` method, answered only when the suite ends. */
const held: (() => void)[] = []

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
  server.respond('never', () => new Promise<number>((done) => held.push(() => done(1))))
  server.respond('listThings', (data) => {
    seen.push(data)
    return []
  })
  server.respond('refuse', (data) => {
    throw new Error((data as { message: string }).message)
  })
  server.respondRaw('echo', (data) => data)
  server.respondRaw('notJson', () => Buffer.from('{not json'))
  server.respondRaw('unusable', () => Buffer.from('[{"id":"a","info":{"toString":1}}]'))
  await server.listen()
  bootstrap = testnet.bootstrap.flatMap(({ host, port }) => ['--bootstrap', `${host}:${port}`])
})
afterAll(async () => {
  for (const done of [...release, ...held]) done()
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

describe('runOrkRpc: what reaches the user', () => {
  const serverKey = () => server.rpcPublicKey.toString('hex')
  const run = async (args: string[], io: Partial<Parameters<typeof runOrkRpc>[1]> = {}) => {
    const { out, err, io: captured } = capture()
    const code = await runOrkRpc([...bootstrap, ...args], { ...captured, ...io })
    return { code, stdout: out.join(''), stderr: err.join('') }
  }
  /** What a failed call leaves: its exit code, nothing on stdout, one message on stderr. */
  const failure = (code: number, stderr: string) => ({ code, stdout: '', stderr })

  it('prints the reply as indented JSON without --raw', async () => {
    const result = await run(['-s', serverKey(), '-m', 'listRacks'])
    expect(result).toEqual({ code: ExitCode.OK, stdout: '[\n  {\n    "id": "rack-1"\n  }\n]\n', stderr: '' })
  })

  it('reads the key from the rpcPublicKey of a status file, relative to cwd', async () => {
    mkdirSync(join(directory, 'status'), { recursive: true })
    writeFileSync(join(directory, 'status', 'ork.json'), JSON.stringify({ rpcPublicKey: serverKey().toUpperCase() }))
    const result = await run(['-s', 'status/ork.json', '-m', 'listRacks', '--raw'])
    expect(result).toEqual({ code: ExitCode.OK, stdout: '[{"id":"rack-1"}]\n', stderr: '' })
  })

  it('refuses a status file that is not JSON or holds no valid rpcPublicKey (exit 2)', async () => {
    const cases: [string, string, RegExp][] = [
      ['not-json.json', '{', /^ork-rpc: USAGE: -s: not-json\.json is not a JSON status file/],
      // the client key is not the server's: it must not be taken instead
      ['client-only.json', JSON.stringify({ rpcClientKey: serverKey() }), /holds no rpcPublicKey/],
      ['bad-key.json', JSON.stringify({ rpcPublicKey: 'zz' }), /holds no rpcPublicKey/],
    ]
    for (const [name, content, message] of cases) {
      writeFileSync(join(directory, name), content)
      const result = await run(['-s', name, '-m', 'listRacks', '-t', '2000'])
      expect(result.code, name).toBe(ExitCode.USAGE)
      expect(result.stderr, name).toMatch(message)
    }
  })

  it('refuses -d that is not JSON without sending it (exit 2); a blank -d is {}', async () => {
    const before = seen.length
    const bad = await run(['-s', serverKey(), '-m', 'listRacks', '-d', '{"type":'])
    expect(bad.code).toBe(ExitCode.USAGE)
    expect(bad.stderr).toMatch(/^ork-rpc: USAGE: -d: not valid JSON \(/)
    expect(seen).toHaveLength(before)
    expect(await run(['-s', serverKey(), '-m', 'listRacks', '-d', '  \n'])).toMatchObject({ code: ExitCode.OK })
    expect(seen.at(-1)).toEqual({})
  })

  it('reads -f relative to cwd, and refuses a file it cannot read (exit 2)', async () => {
    writeFileSync(join(directory, 'payload.json'), '{"type":"from-file"}')
    expect((await run(['-s', serverKey(), '-m', 'listRacks', '-f', 'payload.json'])).code).toBe(ExitCode.OK)
    expect(seen.at(-1)).toEqual({ type: 'from-file' })
    const missing = await run(['-s', serverKey(), '-m', 'listRacks', '-f', 'no-such-payload.json'])
    expect(missing).toEqual(failure(ExitCode.USAGE, 'ork-rpc: USAGE: -f: cannot read no-such-payload.json (ENOENT)\n'))
  })

  it('refuses a payload the API reference refuses (exit 2, not sent); --no-validate sends it', async () => {
    const before = seen.length
    const refused = await run(['-s', serverKey(), '-m', 'listThings', '-d', '{"limit":"ten"}'])
    expect(refused.code).toBe(ExitCode.USAGE)
    expect(refused.stderr).toMatch(/^ork-rpc: ERR_LIMIT_INVALID: invalid payload for listThings, not sent: \/limit: /)
    expect(seen).toHaveLength(before)
    const sent = await run(['-s', serverKey(), '-m', 'listThings', '-d', '{"limit":"ten"}', '--no-validate'])
    expect(sent).toEqual({ code: ExitCode.OK, stdout: '[]\n', stderr: '' })
    expect(seen.at(-1)).toEqual({ limit: 'ten' })
  })

  it("reports the server's error with exit 1, under its ERR_ code when it has one", async () => {
    const coded = await run(['-s', serverKey(), '-m', 'refuse', '-d', '{"message":"ERR_RACK_NOTFOUND"}'])
    expect(coded).toEqual(
      failure(
        ExitCode.REMOTE_ERROR,
        'ork-rpc: ERR_RACK_NOTFOUND: the server refused refuse: [HRPC_ERR]=ERR_RACK_NOTFOUND\n',
      ),
    )
    const plain = await run(['-s', serverKey(), '-m', 'refuse', '-d', '{"message":"disk full"}', '--raw'])
    expect(plain.code).toBe(ExitCode.REMOTE_ERROR)
    expect(JSON.parse(plain.stderr)).toEqual({
      error: 'REMOTE_ERROR',
      message: 'the server refused refuse: [HRPC_ERR]=disk full',
    })
  })

  it('says why a reply cannot be used (exit 3)', async () => {
    const notJson = await run(['-s', serverKey(), '-m', 'notJson', '--no-validate'])
    expect(notJson).toEqual(
      failure(ExitCode.TRANSPORT, 'ork-rpc: ERR_FACS_NET_DATA_FORMAT: the reply to notJson is not JSON\n'),
    )
    const unusable = await run(['-s', serverKey(), '-m', 'unusable', '--no-validate', '--raw'])
    expect(unusable.code).toBe(ExitCode.TRANSPORT)
    expect(JSON.parse(unusable.stderr)).toEqual({
      error: 'ERR_FACS_NET_DATA_FORMAT',
      message: 'the reply to unusable cannot be used: reply holds an object with its own "toString" key',
    })
  })

  it('refuses a payload larger than the transport carries before sending it (exit 3)', async () => {
    const file = join(directory, 'huge.json')
    writeFileSync(file, JSON.stringify({ a: 'x'.repeat(17 * 1024 * 1024) }))
    const result = await run(['-s', serverKey(), '-m', 'listRacks', '--no-validate', '-f', file])
    expect(result).toEqual(
      failure(
        ExitCode.TRANSPORT,
        'ork-rpc: ERR_FACS_NET_PAYLOAD_TOO_LARGE: the listRacks payload is larger than the transport carries\n',
      ),
    )
    expect(seen).not.toContainEqual(expect.objectContaining({ a: expect.any(String) }))
  })

  it('gives up after -t ms (exit 3)', async () => {
    const result = await run(['-s', serverKey(), '-m', 'never', '-t', '500'])
    expect(result).toEqual(failure(ExitCode.TRANSPORT, 'ork-rpc: TIMEOUT_EXCEEDED: no reply to never within 500 ms\n'))
  })

  it('does not suggest the very method the server lacks (exit 3)', async () => {
    // registerRack is in the ork's reference, but this server (like a rack) has no such method
    const result = await run(['-s', serverKey(), '-m', 'registerRack', '--no-validate'])
    expect(result.code).toBe(ExitCode.TRANSPORT)
    expect(result.stderr).toMatch(/^ork-rpc: UNKNOWN_METHOD: the server has no method "registerRack"/)
    expect(result.stderr).not.toContain('did you mean registerRack')
  })

  it('sends the bytes as given to raw methods, and ends the reply with a newline unless --raw', async () => {
    const echoed = await run(['-s', serverKey(), '-m', 'echo', '-d', 'not {json'])
    expect(echoed).toEqual({ code: ExitCode.OK, stdout: 'not {json\n', stderr: '' })
    expect((await run(['-s', serverKey(), '-m', 'echo', '-d', 'not {json', '--raw'])).stdout).toBe('not {json')
  })

  it('reports a bad command line as one JSON line with --raw, and with a hint without it', async () => {
    const raw = await run(['-s', serverKey(), '--raw'])
    expect(raw.code).toBe(ExitCode.USAGE)
    expect(raw.stderr).toBe('{"error":"USAGE","message":"-m <method> is required"}\n')
    const plain = await run(['-s', serverKey()])
    expect(plain.stderr).toBe('ork-rpc: USAGE: -m <method> is required\nRun ork-rpc --help for the options.\n')
  })

  it('removes its temporary client store after the call', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'ork-rpc-tmp-'))
    const previous = process.env.TMPDIR
    process.env.TMPDIR = scratch
    try {
      expect((await run(['-s', serverKey(), '-m', 'listRacks'])).code).toBe(ExitCode.OK)
      expect(readdirSync(scratch)).toEqual([])
    } finally {
      if (previous === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = previous
      rmSync(scratch, { recursive: true, force: true })
    }
  })
})
