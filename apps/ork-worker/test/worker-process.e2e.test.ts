import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '@ork/logger'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet, type LoopbackTestnet } from '@ork/rpc-transport/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServiceRoot } from './support/harness.ts'

const workerScript = join(import.meta.dirname, '..', 'dist', 'worker.js')

let testnet: LoopbackTestnet
let root: string
let client: RpcNode

interface RunningWorker {
  child: ChildProcessWithoutNullStreams
  keys: { rpcPublicKey: string; rpcClientKey: string; instanceId: string }
  exited: Promise<{ code: number | null; stderr: string }>
}

function runWorker(
  args: string[],
  cwd: string,
): { child: ChildProcessWithoutNullStreams; exited: RunningWorker['exited'] } {
  const child = spawn(process.execPath, [workerScript, ...args], { cwd, env: { ...process.env, DEBUG: '' } })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  )
  return { child, exited }
}

async function startWorker(): Promise<RunningWorker> {
  const { child, exited } = runWorker(
    ['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'proc-1', '--serviceRoot', root],
    root,
  )
  const keys = await new Promise<RunningWorker['keys']>((resolve, reject) => {
    let stdout = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      const line = stdout.split('\n').find((text) => text.startsWith('{'))
      if (line) resolve(JSON.parse(line))
    })
    exited.then(({ code, stderr }) => reject(new Error(`worker exited with ${code}: ${stderr}`)))
  })
  return { child, keys, exited }
}

beforeAll(async () => {
  testnet = await createLoopbackTestnet()
  root = createServiceRoot({ dhtOpts: testnet.dhtOpts })
  client = new RpcNode({ storeDir: join(root, 'client'), dhtOpts: testnet.dhtOpts, logger: silentLogger })
  await client.ready()
})
afterAll(async () => {
  await client?.close()
  await testnet?.destroy()
  rmSync(root, { recursive: true, force: true })
})

describe('the worker process', () => {
  it('refuses to start without --cluster, with the reference code', async () => {
    const { exited } = runWorker(['--wtype', 'wrk-ork-proc-aggr', '--env', 'production'], root)
    const { code, stderr } = await exited
    expect(code).toBe(1)
    expect(stderr.trim()).toBe('ork: ERR_PROC_RACK_UNDEFINED')
  })

  it('names the file and key of a bad config instead of printing a stack', async () => {
    const path = join(root, 'config/base.ork.json')
    const original = readFileSync(path, 'utf8')
    writeFileSync(path, JSON.stringify({ callTargetsLimit: -3 }))
    try {
      const { exited } = runWorker(['--wtype', 'wrk-ork-proc-aggr', '--env', 'production', '--cluster', 'c'], root)
      const { code, stderr } = await exited
      expect(code).toBe(1)
      expect(stderr).toMatch(/^ork: config\/base\.ork\.json: callTargetsLimit: /)
      expect(stderr).not.toMatch(/\n\s+at /)
    } finally {
      writeFileSync(path, original)
    }
  })

  it('writes its status file, and on SIGTERM finishes what it acknowledged and exits 0', async () => {
    const worker = await startWorker()
    const status = JSON.parse(readFileSync(join(root, 'status/wrk-ork-proc-aggr-proc-1.json'), 'utf8'))
    expect(status).toEqual(worker.keys)
    expect(existsSync(join(root, 'store', 'proc-1-db'))).toBe(true)

    // A burst of writes, with SIGTERM sent while they are arriving.
    const acknowledged: string[] = []
    const burst = Array.from({ length: 60 }, (_, index) => {
      const id = `rack-${String(index).padStart(3, '0')}`
      const registration = { id, type: 'miner-x', info: { rpcPublicKey: 'cd'.repeat(32) } }
      return client
        .request(worker.keys.rpcPublicKey, 'registerRack', registration, { timeout: 10_000 })
        .then((reply) => {
          if (reply === 1) acknowledged.push(id)
        })
        .catch(() => {})
    })
    setTimeout(() => worker.child.kill('SIGTERM'), 30)
    await Promise.all(burst)
    const { code } = await worker.exited
    expect(code).toBe(0)

    // Every acknowledged registration survived the shutdown.
    const restarted = await startWorker()
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
