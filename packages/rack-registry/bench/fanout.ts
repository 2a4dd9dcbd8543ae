/**
 * Fan-out to 50 racks that each answer `listThings` with 400 miner things (~1 KB each):
 * median and p95 of one whole fan-out (default concurrency 25, timeout 10 s), with the ork's
 * pooled connections already open, and cold (a new ork client for every fan-out, so every
 * rack connection is dialled again).
 *
 * Racks reply with bytes encoded once up front: in production each rack encodes on its own
 * machine, so only the ork's side (dial, transfer, JSON parse, bookkeeping) is measured here.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@ork/logger'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { percentile, recordBenchmark } from '../../../scripts/bench-report.ts'
import { RackFanOut, type RackRecord } from '../src/index.ts'
import { startRackProcess } from './rack-process.ts'
import { rackThings } from './things.ts'

const RACKS = 50
const THINGS_PER_RACK = 400
const POOLED_RUNS = 40
const COLD_RUNS = 15

function round(value: number): string {
  return value.toFixed(1)
}

async function main(): Promise<void> {
  const testnet = await createLoopbackTestnet()
  const scratch = mkdtempSync(join(tmpdir(), 'ork-bench-fanout-'))
  const rackProcess = await startRackProcess({
    bootstrap: testnet.bootstrap,
    racks: RACKS,
    thingsPerRack: THINGS_PER_RACK,
  })
  /** An ork-side transport, its DHT node bootstrapped before use so a first request times only dialling. */
  let clients = 0
  const createClient = async () => {
    const node = new RpcNode({
      storeDir: join(scratch, `client-${clients++}`),
      dhtOpts: testnet.dhtOpts,
      logger: silentLogger,
    })
    await node.ready()
    return node
  }
  try {
    const racks: RackRecord[] = rackProcess.reply.map(({ id, rpcPublicKey }) => ({
      id,
      type: 'miner-am-s19xp',
      info: { rpcPublicKey },
    }))
    const replyBytes = rackProcess.reply.reduce((sum, rack) => sum + rack.replyBytes, 0)
    const replies = racks.map((rack) => Buffer.from(JSON.stringify(rackThings(rack.id, THINGS_PER_RACK))))

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

    const ork = await createClient()
    const pooledFanOut = new RackFanOut({ transport: ork })
    await runFanOut(pooledFanOut)
    const pooled: number[] = []
    for (let run = 0; run < POOLED_RUNS; run++) pooled.push(await runFanOut(pooledFanOut))
    await ork.close()

    const cold: number[] = []
    for (let run = 0; run < COLD_RUNS; run++) {
      const client = await createClient()
      try {
        cold.push(await runFanOut(new RackFanOut({ transport: client })))
      } finally {
        await client.close()
      }
    }

    // The share of a fan-out that is only decoding the replies, for reading the figures above.
    const parse: number[] = []
    for (let run = 0; run < 10; run++) {
      const started = performance.now()
      for (const reply of replies) JSON.parse(reply.toString('utf-8'))
      parse.push(performance.now() - started)
    }

    const rows = [
      ['pooled connections', pooled],
      ['cold (new client each fan-out)', cold],
    ] as const
    const table = [
      `| fan-out of ${RACKS} racks × ${THINGS_PER_RACK} things | runs | median ms | p95 ms |`,
      '|---|---|---|---|',
      ...rows.map(
        ([name, samples]) =>
          `| ${name} | ${samples.length} | ${round(percentile(samples, 50))} | ${round(percentile(samples, 95))} |`,
      ),
    ].join('\n')
    const body = `${table}\n\nEach rack replies ${round(replyBytes / RACKS / 1024)} KiB of JSON (${round(
      replyBytes / 1024 / 1024,
    )} MiB per fan-out; decoding it alone takes ${round(percentile(parse, 50))} ms), pre-encoded so only the ork's side is timed; concurrency 25, timeout 10 s; loopback testnet; the ork's side is @ork/rpc-transport's RpcNode (as in the worker), the racks bare @hyperswarm/rpc servers in a child process (bench/rack-process.ts), as remote racks would be. Cold runs use a new client key each time (its DHT bootstrap excluded), so every rack is dialled again.

Pooled runs take either about 0.5–0.7 s or about 1.3–1.8 s: 25 racks answering at once send 10.7 MiB, more than the
ork's UDP receive buffer holds (4 MiB, net.core.rmem_max on this machine), and a dropped datagram costs its stream a
retransmission wait. Cold connections start slowly (small congestion windows) and so overflow it less often.`
    process.stdout.write(`${body}\n`)
    recordBenchmark('rack-registry', 'pnpm --filter @ork/rack-registry bench', body)
  } finally {
    await rackProcess.close()
    await testnet.destroy()
    rmSync(scratch, { recursive: true, force: true })
  }
}

await main()
