/**
 * Fan-out to 50 racks that each answer `listThings` with 400 miner things (~1 KB each):
 * median and p95 of one whole fan-out (default concurrency 25, timeout 10 s), with the ork's
 * pooled connections already open, and cold (a new ork client for every fan-out, so every
 * rack connection is dialled again).
 *
 * Racks reply with bytes encoded once up front: in production each rack encodes on its own
 * machine, so only the ork's side (dial, transfer, JSON parse, bookkeeping) is measured here.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { percentile, recordBenchmark } from '../../../scripts/bench-report.ts'
import { RackFanOut, type RackRecord } from '../src/index.ts'
import { rackThings } from './things.ts'

const RACKS = 50
const THINGS_PER_RACK = 400
const POOLED_RUNS = 40
const COLD_RUNS = 15

function round(value: number): string {
  return value.toFixed(1)
}

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'rack-fan-out-bench-'))
  const testnet = await createLoopbackTestnet()
  const rackNodes: RpcNode[] = []
  const racks: RackRecord[] = []
  let replyBytes = 0
  try {
    for (let index = 0; index < RACKS; index++) {
      const id = `miner-am-s19xp-rack-${String(index).padStart(2, '0')}`
      const reply = Buffer.from(JSON.stringify(rackThings(id, THINGS_PER_RACK)))
      replyBytes += reply.length
      const node = new RpcNode({ storeDir: join(directory, id), dhtOpts: testnet.dhtOpts })
      await node.ready()
      node.respondRaw('listThings', () => reply)
      await node.listen()
      rackNodes.push(node)
      racks.push({ id, type: 'miner-am-s19xp', info: { rpcPublicKey: node.rpcPublicKey.toString('hex') } })
    }

    const runFanOut = async (fanOut: RackFanOut): Promise<number> => {
      const started = performance.now()
      const results = await fanOut.fanOut(racks, 'listThings', { status: 1 })
      const elapsed = performance.now() - started
      const things = results.reduce((sum, result) => sum + (result.ok ? (result.value as unknown[]).length : 0), 0)
      if (things !== RACKS * THINGS_PER_RACK) {
        const failure = results.find((result) => !result.ok)
        throw new Error(`fan-out returned ${things} things: ${failure && !failure.ok ? failure.error.message : ''}`)
      }
      return elapsed
    }

    const ork = new RpcNode({ storeDir: join(directory, 'ork'), dhtOpts: testnet.dhtOpts })
    await ork.ready()
    const pooledFanOut = new RackFanOut({ transport: ork })
    await runFanOut(pooledFanOut)
    const pooled: number[] = []
    for (let run = 0; run < POOLED_RUNS; run++) pooled.push(await runFanOut(pooledFanOut))
    await ork.close()

    const cold: number[] = []
    for (let run = 0; run < COLD_RUNS; run++) {
      const client = new RpcNode({ storeDir: join(directory, `ork-cold-${run}`), dhtOpts: testnet.dhtOpts })
      await client.ready()
      try {
        cold.push(await runFanOut(new RackFanOut({ transport: client })))
      } finally {
        await client.close()
      }
    }

    const rows = [
      ['pooled connections', pooled],
      ['cold (new client each fan-out)', cold],
    ] as const
    const table = [
      '| fan-out of 50 racks × 400 things | runs | median ms | p95 ms |',
      '|---|---|---|---|',
      ...rows.map(
        ([name, samples]) =>
          `| ${name} | ${samples.length} | ${round(percentile(samples, 50))} | ${round(percentile(samples, 95))} |`,
      ),
    ].join('\n')
    const body = `${table}\n\nEach rack replies ${round(replyBytes / RACKS / 1024)} KiB of JSON (${round(
      replyBytes / 1024 / 1024,
    )} MiB per fan-out), pre-encoded so only the ork's side is timed; concurrency 25, timeout 10 s, loopback testnet, all racks in one process. Cold runs dial every rack with a fresh ork key (DHT bootstrap of the new client excluded).`
    process.stdout.write(`${body}\n`)
    recordBenchmark('rack-registry', 'pnpm --filter @ork/rack-registry bench', body)
  } finally {
    await Promise.all(rackNodes.map((node) => node.close()))
    await testnet.destroy()
    await rm(directory, { recursive: true, force: true })
  }
}

await main()
