/**
 * Round-trip latency (sequential) and throughput (64 requests in flight) of RpcNode against
 * bare @hyperswarm/rpc, in the same process and the same loopback testnet, rounds interleaved
 * so machine noise hits both alike.
 *
 * Compared: bare RPC echoing a Buffer; RpcNode.requestRaw (same bytes, the package's wrapper
 * only); RpcNode.request (the full JSON framing: stringify, parse and [HRPC_ERR] check on both
 * sides — what the reference does on every call).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import HyperswarmRPC from '@hyperswarm/rpc'
import HyperDHT from 'hyperdht'
import { percentile, recordBenchmark } from '../../../scripts/bench-report.ts'
import { RpcNode } from '../src/index.ts'
import { createLoopbackTestnet } from '../src/testing.ts'

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2000)
const PARALLEL_TOTAL = Number(process.env.BENCH_PARALLEL ?? 15000)
const IN_FLIGHT = 64
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11)
const TIMEOUT = 30_000

const payload = { rackId: 'miner-am-s19xp-0001', method: 'getThingConf', ids: ['a1', 'b2', 'c3'], limit: 100 }
const payloadBytes = Buffer.from(JSON.stringify(payload))

type Call = () => Promise<unknown>

async function latency(call: Call, count: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint()
    await call()
    samples.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  return samples
}

async function throughput(call: Call, total: number): Promise<number> {
  let issued = 0
  const started = process.hrtime.bigint()
  const worker = async () => {
    while (issued < total) {
      issued++
      await call()
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return total / seconds
}

const median = (values: number[]) => percentile(values, 50)

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ork-rpc-bench-'))
  const testnet = await createLoopbackTestnet()

  // Bare @hyperswarm/rpc.
  const bareServerDht = new HyperDHT({ ...testnet.dhtOpts })
  const bareServerRpc = new HyperswarmRPC({ dht: bareServerDht })
  const bareServer = bareServerRpc.createServer()
  bareServer.respond('echo', (request) => request)
  // What the reference facility does by hand around bare RPC: JSON in, JSON out, marker check.
  bareServer.respond('echoJson', (request) => Buffer.from(JSON.stringify(JSON.parse(String(request)))))
  const bareJsonRequest = async () => {
    const reply = await bareClient.request(bareServer.publicKey, 'echoJson', Buffer.from(JSON.stringify(payload)), {
      timeout: TIMEOUT,
    })
    const value: unknown = JSON.parse(String(reply))
    if (typeof value === 'string' && value.slice(0, 15).includes('[HRPC_ERR]=')) throw new Error(value)
    return value
  }
  await bareServer.listen()
  const bareClientDht = new HyperDHT({ ...testnet.dhtOpts })
  const bareClient = new HyperswarmRPC({ dht: bareClientDht, poolLinger: 300_000 })

  // The package.
  const server = new RpcNode({ storeDir: join(dir, 'server'), dhtOpts: testnet.dhtOpts })
  server.respond('echo', (data) => data, { op: 'r' })
  server.respondRaw('echoRaw', (request) => request)
  await server.listen()
  const client = new RpcNode({ storeDir: join(dir, 'client'), dhtOpts: testnet.dhtOpts })
  await client.ready()

  const variants: [string, Call][] = [
    [
      'bare @hyperswarm/rpc (Buffer echo)',
      () => bareClient.request(bareServer.publicKey, 'echo', payloadBytes, { timeout: TIMEOUT }),
    ],
    ['bare @hyperswarm/rpc + hand-written JSON framing', bareJsonRequest],
    ['RpcNode.requestRaw (Buffer echo)', () => client.requestRaw(server.rpcPublicKey, 'echoRaw', payloadBytes)],
    ['RpcNode.request (JSON framing)', () => client.request(server.rpcPublicKey, 'echo', payload)],
  ]

  const results = new Map<string, { p50: number[]; p99: number[]; rps: number[] }>()
  for (const [name] of variants) results.set(name, { p50: [], p99: [], rps: [] })

  for (const [, call] of variants) {
    await latency(call, 500) // warm up connections and JIT
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of variants) {
      const samples = await latency(call, SEQUENTIAL)
      const rps = await throughput(call, PARALLEL_TOTAL)
      const result = results.get(name)!
      result.p50.push(percentile(samples, 50))
      result.p99.push(percentile(samples, 99))
      result.rps.push(rps)
      console.log(
        `round ${round + 1} ${name}: p50 ${percentile(samples, 50).toFixed(4)} ms, p99 ${percentile(samples, 99).toFixed(4)} ms, ${Math.round(rps)} req/s`,
      )
    }
  }

  await client.close()
  await server.close()
  await bareClient.destroy()
  await bareServerRpc.destroy()
  await bareClientDht.destroy()
  await bareServerDht.destroy()
  await testnet.destroy()
  await rm(dir, { recursive: true, force: true })

  const summary = new Map(
    [...results].map(([name, result]) => [
      name,
      { p50: median(result.p50), p99: median(result.p99), rps: median(result.rps) },
    ]),
  )
  const baselineOf: Record<string, string> = {
    [variants[2]![0]]: variants[0]![0],
    [variants[3]![0]]: variants[1]![0],
  }
  const percent = (value: number, base: number) =>
    `${value >= base ? '+' : ''}${(((value - base) / base) * 100).toFixed(1)}%`
  const rows = [...summary].map(([name, { p50, p99, rps }]) => {
    const baseName = baselineOf[name]
    const base = baseName ? summary.get(baseName) : undefined
    const added = base
      ? `${percent(p50, base.p50)} / ${percent(p99, base.p99)} / ${percent(base.rps, rps)}`
      : 'baseline'
    return `| ${name} | ${p50.toFixed(4)} | ${p99.toFixed(3)} | ${Math.round(rps).toLocaleString('en-US')} | ${added} |`
  })
  const body = [
    `Loopback testnet (3 DHT nodes on 127.0.0.1), client and server in one process, payload ${payloadBytes.byteLength} bytes of JSON.`,
    `Latency: ${SEQUENTIAL} sequential requests; throughput: ${PARALLEL_TOTAL} requests with ${IN_FLIGHT} in flight. Median of ${ROUNDS} interleaved rounds.`,
    '',
    '| variant | p50 latency (ms) | p99 latency (ms) | throughput (req/s) | added vs its bare baseline (p50 / p99 / time per request at 64 in flight) |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Baselines: `requestRaw` is compared with bare RPC moving the same bytes; `request` with bare RPC plus the JSON',
    'encode/decode and `[HRPC_ERR]=` check that the wire format requires on every call (the reference does the same by hand).',
    'The machine is shared (2 cores, other jobs running), so single rounds vary by ±20% in throughput; p99 is the noisiest figure.',
  ].join('\n')
  console.log(`\n${body}`)
  recordBenchmark('rpc-transport', 'pnpm --filter @ork/rpc-transport bench', body)
}

await main()
