/**
 * listThings with a query, a projection and a sort over 50 simulated racks of 400
 * miners each (100 returned per rack: 5,000 things), through the real transport on a
 * loopback testnet, with pooled connections. Reports the round trip seen by a client,
 * the time spent waiting for racks (the same fan-out measured alone), and the ork's own
 * share (merge, natural sort, JSON) as the difference. The same rounds also time the
 * reference's pipeline rebuilt from the spec (support/reference-pipeline.ts) on the same racks
 * and client, so the issue's "half of the reference" can be checked on this machine.
 */
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { silentLogger } from '@ork/logger'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { BusyMeter, percentile, recordBenchmark } from '../../../scripts/bench-report.ts'
import { benchScratchDir, removeOnExit } from '../../../scripts/bench-scratch.ts'
import { sortThingsInPlace } from '../src/things/sort-things.ts'
import { createServiceRoot } from '../test/support/harness.ts'
import { connectBenchClient, startBenchOrk } from './support/bench-ork.ts'
import { referenceSort, startReferencePipeline } from './support/reference-pipeline.ts'
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
const root = removeOnExit(createServiceRoot({}))
const scratch = benchScratchDir('ork-bench-')
const site = await startSiteProcess({
  dhtOpts: testnet.dhtOpts,
  racks: [{ type: 'miner-am-s19xp', count: THINGS_PER_RACK, racks: RACKS }],
  seed: 1,
  rootDir: join(scratch, 'racks'),
  now: Date.UTC(2026, 10, 1),
})
const { ork } = await startBenchOrk({ cluster: 'bench', root, testnet })
const { client, call } = await connectBenchClient({ scratch, testnet, ork, site, timeoutMs: 30_000 })

const racks = ork.context.registry.all()
const reference = await startReferencePipeline({
  storeDir: join(scratch, 'reference'),
  dhtOpts: testnet.dhtOpts,
  // In the ork's rack order (the registry's key order), as the reference reads its rack store.
  racks,
})
const callReference = () => client.request(reference.rpcPublicKey, 'listThings', request, { timeout: 30_000 })
let reply: unknown[] = []
// Warm up: connections pooled, rack replies encoded.
for (let round = 0; round < 5; round++) {
  reply = (await call('listThings', request)) as unknown[]
  await callReference()
}
const returned = reply.length
if (JSON.stringify(await callReference()) !== JSON.stringify(reply)) {
  throw new Error('the reference pipeline and the ork disagree on the reply')
}

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
const referenceRoundTrip: number[] = []
const sortOnly: number[] = []
const referenceSortOnly: number[] = []
const busy = new BusyMeter()
for (let round = 0; round < ROUNDS; round++) {
  let started = performance.now()
  await busy.time(() => call('listThings', request))
  roundTrip.push(performance.now() - started)

  started = performance.now()
  await callReference()
  referenceRoundTrip.push(performance.now() - started)

  started = performance.now()
  const results = await ork.context.racks.fanOut(racks, 'listThings', request)
  rackWait.push(performance.now() - started)

  // The ork's own work on the same replies: merge, natural sort, JSON encoding of the reply.
  started = performance.now()
  const merged = results.flatMap((result) => (result.ok ? (result.value as unknown[]) : []))
  const unsorted = [...merged]
  JSON.stringify(sortThingsInPlace(merged, request.sort))
  orkWork.push(performance.now() - started)

  // The natural sort alone, ours and the reference's comparator, on the same input.
  const copy = [...unsorted]
  started = performance.now()
  sortThingsInPlace(copy, request.sort)
  sortOnly.push(performance.now() - started)
  started = performance.now()
  referenceSort(unsorted, request.sort)
  referenceSortOnly.push(performance.now() - started)
}

// At site scale: 50,000 things with distinct codes, as a site names its devices, parsed from JSON as replies are.
const SITE_THINGS = 50_000
const siteThings = JSON.parse(
  JSON.stringify(
    Array.from({ length: SITE_THINGS }, (_, index) => ({
      code: `AM-S19XP-${String((index * 7919) % SITE_THINGS).padStart(5, '0')}`,
    })),
  ),
) as { code: string }[]
const timeSort = (sort: (things: { code: string }[]) => unknown, runs: number) =>
  Array.from({ length: runs }, () => {
    const copy = [...siteThings]
    const started = performance.now()
    sort(copy)
    return performance.now() - started
  })
const siteSort = timeSort((things) => sortThingsInPlace(things, request.sort), 15)
const siteReferenceSort = timeSort((things) => referenceSort(things, request.sort), 3)

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
| the reference's pipeline rebuilt from the spec (bench/support/reference-pipeline.ts) | ${format(median(referenceRoundTrip))} | ${format(p95(referenceRoundTrip))} |

Share of the round trip spent in the ork itself: ${((100 * median(orkWork)) / median(roundTrip)).toFixed(0)}%. During the round trips this process (ork and
client) was busy ${(100 * busy.share).toFixed(0)}% of the time (event-loop utilisation), receiving and decrypting the racks' replies included:
with no idle time to hide it in, the ork's work costs the same whether done as replies arrive or after the last one.
Against the reference's pipeline, rebuilt from the spec and measured in the same rounds (same racks, transport and
client; the net facility's framing; its comparator tokenises on every comparison): ${(median(roundTrip) / median(referenceRoundTrip)).toFixed(3)}× its median (goal: 0.5×, ${median(roundTrip) <= median(referenceRoundTrip) / 2 ? 'met' : '**not met**'} in this run; runs vary by several hundredths); both replies are checked equal first.
Reference, as issue 6 quotes it: about 47 ms median (no speed check given); goal: half of that (23.5 ms) —
${median(roundTrip) <= 23.5 ? 'met' : '**not met**'}. Rebuilt here, the reference's pipeline takes ${format(median(referenceRoundTrip))} ms, so this machine runs it
about ${(median(referenceRoundTrip) / 47).toFixed(1)}× slower than where the 47 ms was measured; the ratio above is the comparison that holds.
Where the difference lies: the natural sort of the ${returned} things takes ${format(median(sortOnly))} ms here against ${format(median(referenceSortOnly))} ms with the
reference's comparator; for ${SITE_THINGS.toLocaleString('en-US')} things with distinct codes, ${format(median(siteSort))} ms against ${format(median(siteReferenceSort))} ms.
What both pay — the fan-out (${format(median(rackWait))} ms) and moving the ${(JSON.stringify(reply).length / 1024).toFixed(0)} KiB reply to the
client (the transport floor, ${format(median(transportFloor))} ms) — ${
  median(rackWait) + median(transportFloor) >= median(referenceRoundTrip) / 2
    ? "already exceed half of the reference's round trip, so 0.5× is out of reach while the racks' replies and the\nreply itself cross this transport."
    : `leave ${format(median(referenceRoundTrip) / 2 - median(rackWait) - median(transportFloor))} ms of a 0.5× round trip for everything else.`
}`
console.log(body)
recordBenchmark('ork-list-things', 'pnpm --filter @ork/ork-worker bench:list-things', body)

await client.close()
await reference.close()
await echoServer.close()
await ork.close()
await site.close()
await testnet.destroy()
