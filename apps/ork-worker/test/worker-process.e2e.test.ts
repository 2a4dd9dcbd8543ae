import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, silentLogger } from '@ork/logger'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet, type LoopbackTestnet } from '@ork/rpc-transport/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadWorkerConfig } from '../src/config/load-config.ts'
import { startOrk } from '../src/ork.ts'
import { createServiceRoot } from './support/harness.ts'
import { killWorkers, spawnWorker, startWorker, workerArgs } from './support/worker-process.ts'

let testnet: LoopbackTestnet
let root: string
let client: RpcNode

const startProcWorker = (cluster = 'proc-1', cwd = root) => startWorker(workerArgs(cluster, root), cwd)

beforeAll(async () => {
  testnet = await createLoopbackTestnet()
  root = createServiceRoot({ dhtOpts: testnet.dhtOpts })
  client = new RpcNode({ storeDir: join(root, 'client'), dhtOpts: testnet.dhtOpts, logger: silentLogger })
  await client.ready()
})
afterAll(async () => {
  killWorkers()
  await client?.close()
  await testnet?.destroy()
  rmSync(root, { recursive: true, force: true })
})

describe('the worker process', () => {
  it('refuses to start without --cluster, with the reference code', async () => {
    const { exited } = spawnWorker(['--wtype', 'wrk-ork-proc-aggr', '--env', 'production'], root)
    const { code, stderr } = await exited
    expect(code).toBe(1)
    expect(stderr.trim()).toBe('ork: ERR_PROC_RACK_UNDEFINED: --cluster <id> is required')
  })

  it('prints its usage on --help, and refuses a service root that is not a directory', async () => {
    const help = spawnWorker(['--help'], root)
    let stdout = ''
    help.child.stdout.on('data', (chunk) => (stdout += chunk))
    expect((await help.exited).code).toBe(0)
    expect(stdout).toMatch(/^Usage: ork-worker --wtype wrk-ork-proc-aggr --env <production\|development\|test>/)

    const missingRoot = join(root, 'no-such-root')
    const { exited } = spawnWorker(
      ['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'c', '--serviceRoot', missingRoot],
      root,
    )
    const { code, stderr } = await exited
    expect(code).toBe(1)
    expect(stderr.trim()).toBe(`ork: ERR_SERVICE_ROOT_INVALID: --serviceRoot ${missingRoot} is not a directory`)
  })

  it('names the file and key of a bad config instead of printing a stack', async () => {
    const path = join(root, 'config/base.ork.json')
    const original = readFileSync(path, 'utf8')
    writeFileSync(path, JSON.stringify({ callTargetsLimit: -3 }))
    try {
      const { exited } = spawnWorker(['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'c'], root)
      const { code, stderr } = await exited
      expect(code).toBe(1)
      expect(stderr).toMatch(/^ork: config\/base\.ork\.json: callTargetsLimit: /)
      expect(stderr).not.toMatch(/\n\s+at /)
    } finally {
      writeFileSync(path, original)
    }
  })

  it('says a store it cannot open is damaged or from another machine, without a stack', async () => {
    for (const directory of ['damaged', 'damaged-db']) {
      mkdirSync(join(root, 'store', directory), { recursive: true })
      writeFileSync(join(root, 'store', directory, 'CORESTORE'), 'not a device file')
    }
    const { exited } = spawnWorker(
      ['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'damaged'],
      root,
    )
    const { code, stderr } = await exited
    expect(code).toBe(1)
    expect(stderr).toMatch(/^ork: the store under .*\/store cannot be opened \(.+\): /)
    expect(stderr).not.toMatch(/\n\s+at /)
  })

  it('says the store is in use when another ork of the cluster runs, without a stack', async () => {
    const first = await startProcWorker('locked')
    try {
      const { exited } = spawnWorker(
        ['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'locked', '--serviceRoot', root],
        root,
      )
      const { code, stderr } = await exited
      expect(code).toBe(1)
      expect(stderr).toMatch(/^ork: the store under .*\/store is in use by another process/)
      expect(stderr).not.toMatch(/\n\s+at /)
      // A failed start writes no status file: one without keys would send ork-rpc -s nowhere.
      const otherRoot = createServiceRoot({ dhtOpts: testnet.dhtOpts })
      try {
        const other = spawnWorker(
          ['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'locked', '--serviceRoot', otherRoot],
          root,
        )
        expect((await other.exited).code).toBe(1)
        expect(existsSync(join(otherRoot, 'status'))).toBe(false)
      } finally {
        rmSync(otherRoot, { recursive: true, force: true })
      }
    } finally {
      first.child.kill('SIGTERM')
      expect((await first.exited).code).toBe(0)
    }
  })

  it('says in one line when the file system refuses its store, and writes no status file', async () => {
    const workingDirectory = mkdtempSync(join(tmpdir(), 'ork-cwd-'))
    try {
      writeFileSync(join(workingDirectory, 'store'), 'a file where the store directory goes')
      const { exited } = spawnWorker(
        ['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'no-store', '--serviceRoot', root],
        workingDirectory,
      )
      const { code, stderr } = await exited
      expect(code).toBe(1)
      expect(stderr.trim()).toBe(
        `ork: failed to start: ENOTDIR: not a directory, mkdir '${workingDirectory}/store/no-store-db'`,
      )
      expect(existsSync(join(root, 'status/wrk-ork-proc-aggr-no-store.json'))).toBe(false)
    } finally {
      rmSync(workingDirectory, { recursive: true, force: true })
    }
  })

  it('stops cleanly on a SIGTERM that arrives while it starts', async () => {
    const { child, exited } = spawnWorker(
      ['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'early-stop', '--serviceRoot', root],
      root,
    )
    // the data store is opened before the DHT node: the signal arrives in the middle of the start
    const status = join(root, 'status/wrk-ork-proc-aggr-early-stop.json')
    while (!existsSync(join(root, 'store', 'early-stop-db'))) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(existsSync(status)).toBe(false)
    child.kill('SIGTERM')
    const { code } = await exited
    expect(code).toBe(0)
    // it finished starting first: the status file holds its keys
    expect(JSON.parse(readFileSync(status, 'utf8'))).toHaveProperty('rpcPublicKey')
  })

  it('keeps config/ and status/ under --serviceRoot and store/ under the working directory', async () => {
    const workingDirectory = mkdtempSync(join(tmpdir(), 'ork-cwd-'))
    try {
      const worker = await startProcWorker('split-roots', workingDirectory)
      const status = JSON.parse(readFileSync(join(root, 'status/wrk-ork-proc-aggr-split-roots.json'), 'utf8'))
      expect(status).toEqual(worker.keys)
      expect(existsSync(join(workingDirectory, 'store', 'split-roots-db'))).toBe(true)
      expect(existsSync(join(root, 'store', 'split-roots-db'))).toBe(false)
      expect(existsSync(join(workingDirectory, 'status'))).toBe(false)
      // SIGHUP (the terminal it was started from closes) stops it cleanly like SIGINT and SIGTERM.
      worker.child.kill('SIGHUP')
      expect((await worker.exited).code).toBe(0)
    } finally {
      rmSync(workingDirectory, { recursive: true, force: true })
    }
  })

  it('writes its status file, and on SIGTERM finishes what it acknowledged and exits 0', async () => {
    const worker = await startProcWorker()
    const status = JSON.parse(readFileSync(join(root, 'status/wrk-ork-proc-aggr-proc-1.json'), 'utf8'))
    expect(status).toEqual(worker.keys)
    expect(existsSync(join(root, 'store', 'proc-1-db'))).toBe(true)

    // Eight writers register racks back to back; SIGTERM arrives once 20 are acknowledged,
    // with writes still in flight, and the writers go on until the ork stops answering.
    await client.request(worker.keys.rpcPublicKey, 'ping', Buffer.from('{}'), { timeout: 10_000 })
    const acknowledged: string[] = []
    const refusals: string[] = []
    let next = 0
    let signalled = false
    const writer = async () => {
      for (;;) {
        const id = `rack-${String(next++).padStart(4, '0')}`
        const registration = { id, type: 'miner-x', info: { rpcPublicKey: 'cd'.repeat(32) } }
        try {
          const reply = await client.request(worker.keys.rpcPublicKey, 'registerRack', registration, {
            timeout: 5_000,
          })
          if (reply === 1) acknowledged.push(id)
          if (acknowledged.length >= 20 && !signalled) {
            signalled = true
            worker.child.kill('SIGTERM')
          }
        } catch (error) {
          refusals.push((error as Error).message)
          return
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, writer))
    const { code } = await worker.exited
    expect(code).toBe(0)
    expect(signalled).toBe(true)
    expect(acknowledged.length).toBeGreaterThanOrEqual(20)
    expect(refusals).toHaveLength(8)

    // Every acknowledged registration survived the shutdown.
    const restarted = await startProcWorker()
    expect(restarted.keys).toEqual(worker.keys)
    const racks = (await client.request(restarted.keys.rpcPublicKey, 'listRacks', {}, { timeout: 10_000 })) as {
      id: string
    }[]
    const stored = new Set(racks.map((rack) => rack.id))
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([])
    restarted.child.kill('SIGINT')
    expect((await restarted.exited).code).toBe(0)
  })
})

describe('embedding', () => {
  it('startOrk takes the service root as `root` or `serviceRoot`, and says so when it is missing', async () => {
    const options = { cluster: 'embedded', env: 'production' as const, dhtOpts: testnet.dhtOpts, logger: silentLogger }
    await expect(startOrk(options)).rejects.toThrow('startOrk: `root`, the service root directory')
    const byRoot = await startOrk({ ...options, root })
    await byRoot.close()
    const byAlias = await startOrk({ ...options, serviceRoot: root })
    expect(byAlias.rpcPublicKey).toBe(byRoot.rpcPublicKey)
    await byAlias.close()
  })

  it('starts with the periods at 0, which mean their defaults as in the reference', async () => {
    const config = loadWorkerConfig(root, 'production')
    config.ork = { ...config.ork, actionIntvlMs: 0 }
    config.aggrData = { ...config.aggrData, agrrTailLogIntvlMs: 0, aggrTailLogStoreDays: 0 }
    const ork = await startOrk({
      cluster: 'zero-periods',
      env: 'production',
      root,
      config,
      dhtOpts: testnet.dhtOpts,
      logger: silentLogger,
    })
    await ork.close()
  })

  it('says so when an unreadable status file makes it take a new instance id, and logs who may call it', async () => {
    const statusFile = join(root, 'status/wrk-ork-proc-aggr-garbled.json')
    mkdirSync(join(root, 'status'), { recursive: true })
    writeFileSync(statusFile, '{"instanceId": "wrk-ork-proc-aggr-garbled-')
    const lines: string[] = []
    const logger = createLogger('ork', { write: (line) => lines.push(line), level: 'info', debug: '' })
    const ork = await startOrk({ cluster: 'garbled', env: 'production', root, dhtOpts: testnet.dhtOpts, logger })
    try {
      const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(logged).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          msg: expect.stringContaining('status file unreadable'),
          file: statusFile,
        }),
      )
      expect(logged.find((entry) => entry.msg === 'ork started')?.firewall).toBe(
        'open to every peer (no allow list in config/facs/net.config.json)',
      )
      expect(JSON.parse(readFileSync(statusFile, 'utf8')).instanceId).toBe(ork.instanceId)
    } finally {
      await ork.close()
    }
  })
})
