/**
 * listThings with a query, a projection and a sort over 50 simulated racks of 400
 * miners each (100 returned per rack: 5,000 things), through the real transport on a
 * loopback testnet, with pooled connections. Reports the round trip seen by a client,
 * the time spent waiting for racks (the same fan-out measured alone), and the ork's own
 * share (merge, natural sort, JSON) as the difference.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { silentLogger } from '@ork/logger'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { percentile, recordBenchmark } from '../../../scripts/bench-report.ts'
import { startOrk } from '../src/ork.ts'
import { sortThingsInPlace } from '../src/things/sort-things.ts'
import { createServiceRoot } from '../test/support/harness.ts'
import { startSiteProcess } from './support/site-process.ts'

const RACKS = 50
const THINGS_PER_RACK = 400
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40)
const request = {
  query: { 'info.container': { $exists: true } },
  fields: { id: 1, code: 1, type: 1, 'info.container': 1, 'info.pos': 1, 'last.snap.stats.status': 1 },
  sort: { code: 1 },
  limit: 100,
}

const testnet = await createLoopbackTestnet()
const root = createServiceRoot({})
const scratch = mkdtempSync(join(tmpdir(), 'ork-bench-'))
const site = await startSiteProcess({
  dhtOpts: testnet.dhtOpts,
  racks: [{ type: 'miner-am-s19xp', count: THINGS_PER_RACK, racks: RACKS }],
  seed: 1,
  rootDir: join(scratch, 'racks'),
  now: Date.UTC(2026, 10, 1),
})
const ork = await startOrk({
  cluster: 'bench',
  env: 'production',
  root,
  dhtOpts: testnet.dhtOpts,
  logger: silentLogger,
})
const client = new RpcNode({ storeDir: join(scratch, 'client'), dhtOpts: testnet.dhtOpts, logger: silentLogger })
await client.ready()
const call = (method: string, data: unknown) => client.request(ork.rpcPublicKey, method, data, { timeout: 30_000 })
for (const registration of site.registrations) await call('registerRack', registration)

const racks = ork.context.registry.all()
let reply: unknown[] = []
// Warm up: connections pooled, rack replies encoded.
for (let round = 0; round < 5; round++) reply = (await call('listThings', request)) as unknown[]
const returned = reply.length

// The transport's floor: a server that answers the same reply without any work.
const echoServer = new RpcNode({ storeDir: join(scratch, 'echo'), dhtOpts: testnet.dhtOpts, logger: silentLogger })
await echoServer.ready()
echoServer.respond('sameReply', () => reply, { op: 'r' })
await echoServer.listen()
const transportFloor: number[] = []
for (let round = 0; round < ROUNDS + 5; round++) {
  const started = performance.now()
  await client.request(echoServer.rpcPublicKey, 'sameReply', request, { timeout: 30_000 })
  if (round >= 5) transportFloor.push(performance.now() - started)
}

const roundTrip: number[] = []
const rackWait: number[] = []
const orkWork: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  let started = performance.now()
  await call('listThings', request)
  roundTrip.push(performance.now() - started)

  started = performance.now()
  const results = await ork.context.racks.fanOut(racks, 'listThings', request)
  rackWait.push(performance.now() - started)

  // The ork's own work on the same replies: merge, natural sort, JSON encoding of the reply.
  started = performance.now()
  const merged = results.flatMap((result) => (result.ok ? (result.value as unknown[]) : []))
  JSON.stringify(sortThingsInPlace(merged, request.sort))
  orkWork.push(performance.now() - started)
}

const median = (samples: number[]) => percentile(samples, 50)
const p95 = (samples: number[]) => percentile(samples, 95)
const format = (value: number) => value.toFixed(1)
const body = `### ork-worker: listThings over ${RACKS} racks × ${THINGS_PER_RACK} miners (${returned} things returned)

Query, projection (6 fields) and natural sort by \`code\`; ${ROUNDS} rounds after warm-up, pooled connections,
ork and client in one process, the simulated racks in a child process (bench/support/site-process.ts: the second core plays the rest of the site), on a loopback testnet.

| measure | median ms | p95 ms |
|---|---|---|
| listThings round trip (client → ork → 50 racks → client) | ${format(median(roundTrip))} | ${format(p95(roundTrip))} |
| waiting for racks (the same fan-out alone) | ${format(median(rackWait))} | ${format(p95(rackWait))} |
| ork's own work (merge + natural sort + JSON of the reply) | ${format(median(orkWork))} | ${format(p95(orkWork))} |
| transport floor: the same reply from a server doing nothing | ${format(median(transportFloor))} | ${format(p95(transportFloor))} |

Share of the round trip spent in the ork itself: ${((100 * median(orkWork)) / median(roundTrip)).toFixed(0)}%.
Reference, as issue 6 quotes it: about 47 ms median (no speed check given); goal: half of that (23.5 ms) —
${median(roundTrip) <= 23.5 ? 'met' : '**not met**'}. The round trip is about rack wait + ork work + transport floor: the ork's own share is
the small part, the rest is moving ${(JSON.stringify(reply).length / 1024).toFixed(0)} KiB of JSON over the transport twice, and the
fan-out alone takes longer than the goal. The natural sort skips the collator for equal text runs since
2026-11-28 (5,000 things by code: ~22 → ~11 ms on this machine).`
console.log(body)
recordBenchmark('ork-list-things', 'pnpm --filter @ork/ork-worker bench:list-things', body)

await client.close()
await echoServer.close()
await ork.close()
await site.close()
await testnet.destroy()
rmSync(root, { recursive: true, force: true })
rmSync(scratch, { recursive: true, force: true })
