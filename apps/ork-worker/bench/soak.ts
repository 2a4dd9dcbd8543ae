/**
 * Soak: the ork under a site dashboard's steady load for several minutes (ORK_SOAK_SECONDS,
 * default 240), to show what a long-running worker keeps: the heap after a full collection,
 * the resident set, open file descriptors and libuv handles, sampled every few seconds.
 * Each cycle is one dashboard refresh (listThings sorted, getThingsCount, listRacks,
 * tailLog, tailLogMulti, getWrkExtData, an action pushed and looked up, a refused request);
 * the actions run on the simulated racks through the approver. Ork and client in this
 * process, the racks in a child process, on a loopback testnet.
 *
 * Run with `--expose-gc` (the package script does): a heap figure means something only
 * after a full collection. `SOAK_SNAPSHOTS=1` also writes a heap snapshot per sample to /tmp.
 */
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { writeHeapSnapshot } from 'node:v8'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { recordBenchmark } from '../../../scripts/bench-report.ts'
import { benchScratchDir, removeOnExit } from '../../../scripts/bench-scratch.ts'
import { createServiceRoot } from '../test/support/harness.ts'
import { connectBenchClient, startBenchOrk, startMetricsSite, tailLogKey } from './support/bench-ork.ts'

const SECONDS = Number(process.env.ORK_SOAK_SECONDS ?? 240)
/** About 16 samples per run, at least 15 s apart. */
const SAMPLE_EVERY_MS = Math.max(15_000, Math.round((SECONDS * 1000) / 16))
/** Samples before this are warm-up (connections, caches, JIT) and left out of the trend. */
const WARM_UP_MS = 45_000
const MINER_RACKS = 10
const MINERS_PER_RACK = 500
const NOW = Date.UTC(2026, 10, 1, 12)
const DAY = 86_400_000

const collectGarbage = (globalThis as { gc?: () => void }).gc
if (!collectGarbage) throw new Error('run with node --expose-gc (pnpm --filter @ork/ork-worker bench:soak)')

const testnet = await createLoopbackTestnet()
const root = removeOnExit(createServiceRoot({}))
writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 100 }))
const scratch = benchScratchDir('ork-bench-soak-')
const site = await startMetricsSite({
  testnet,
  scratch,
  minerRacks: MINER_RACKS,
  minersPerRack: MINERS_PER_RACK,
  seed: 5,
  now: NOW,
})
const { ork, config } = await startBenchOrk({ cluster: 'bench-soak', root, testnet, now: NOW })
const { client, call } = await connectBenchClient({ scratch, testnet, ork, site, timeoutMs: 120_000 })

const logKey = (type: string) => tailLogKey(config, type)
const range = { start: NOW - DAY, end: NOW, limit: 288 }
const miners = (await call('listThings', { query: { type: 'miner-am-s19xp' }, fields: { id: 1 } })) as { id: string }[]

let requests = 0
let refused = 0
/** Pushes the racks' getWriteCalls left without calls (a rack too slow or down); none expected after warm-up. */
let unpushed = 0
const pushed: number[] = []
const counted = async (method: string, data: unknown) => {
  requests++
  return call(method, data)
}

/** One dashboard refresh; `cycle` picks the device an action goes to. */
async function refresh(cycle: number): Promise<void> {
  await counted('listThings', {
    query: { type: 'miner-am-s19xp' },
    fields: { id: 1, code: 1, type: 1, info: 1, last: 1 },
    sort: { code: 1 },
  })
  await counted('getThingsCount', { query: { type: 'miner-am-s19xp' } })
  await counted('listRacks', { type: 'miner' })
  await counted('tailLog', { ...logKey('miner'), ...range })
  await counted('tailLogMulti', { keys: [logKey('miner'), logKey('powermeter'), logKey('container')], ...range })
  await counted('getWrkExtData', { type: 'miner', query: {} })
  const device = miners[cycle % miners.length] as { id: string }
  const action = (await counted('pushAction', {
    query: { id: device.id },
    action: 'setupPools',
    params: [],
    voter: 'soak',
    authPerms: ['miner:rw'],
  })) as { id: number }
  if (action.id === null) unpushed++
  else pushed.push(action.id)
  await counted('getActionsBatch', { ids: [action.id] })
  try {
    await counted('listThings', { query: { $where: 'true' } })
  } catch {
    refused++
  }
}

/** Open file descriptors (Linux's /proc); NaN where there is none. */
const openFileDescriptors = () => {
  try {
    return readdirSync('/proc/self/fd').length
  } catch {
    return Number.NaN
  }
}

interface Sample {
  seconds: number
  requests: number
  heapMiB: number
  heapTotalMiB: number
  externalMiB: number
  rssMiB: number
  fds: number
  handles: number
}
const samples: Sample[] = []
let started = performance.now()
const sample = () => {
  collectGarbage()
  collectGarbage()
  const memory = process.memoryUsage()
  samples.push({
    seconds: (performance.now() - started) / 1000,
    requests,
    heapMiB: memory.heapUsed / 2 ** 20,
    heapTotalMiB: memory.heapTotal / 2 ** 20,
    externalMiB: memory.external / 2 ** 20,
    rssMiB: memory.rss / 2 ** 20,
    fds: openFileDescriptors(),
    handles: process.getActiveResourcesInfo().length,
  })
  const last = samples.at(-1) as Sample
  if (process.env.SOAK_SNAPSHOTS) writeHeapSnapshot(`/tmp/soak-${samples.length}.heapsnapshot`)
  console.error(
    `${last.seconds.toFixed(0)} s: ${last.requests} requests, heap ${last.heapMiB.toFixed(1)} MiB, rss ${last.rssMiB.toFixed(0)} MiB, ${last.fds} fds, ${last.handles} handles`,
  )
}

// Warm-up refresh, not counted: the racks compute and cache their tail logs on first request.
await refresh(0)
requests = 0
refused = 0
unpushed = 0
pushed.length = 0
started = performance.now()
sample()
let cycle = 0
let nextSample = SAMPLE_EVERY_MS
while (performance.now() - started < SECONDS * 1000) {
  await refresh(cycle++)
  if (performance.now() - started >= nextSample) {
    sample()
    nextSample += SAMPLE_EVERY_MS
  }
}

// Every pushed action must end in `done`: none lost along the way.
for (;;) {
  const found = (await call('getActionsBatch', { ids: pushed })) as { type: string }[]
  if (found.length === pushed.length && found.every((entry) => entry.type === 'done')) break
  await new Promise((resolve) => setTimeout(resolve, 100))
}

const steady = samples.filter((entry) => entry.seconds * 1000 >= WARM_UP_MS)
const trend = steady.length >= 2 ? steady : samples
const first = trend[0] as Sample
const last = trend.at(-1) as Sample
/** Least-squares slope of the heap against requests served, in KiB per 1,000 requests. */
const heapSlope = (() => {
  const n = trend.length
  const meanX = trend.reduce((sum, entry) => sum + entry.requests, 0) / n
  const meanY = trend.reduce((sum, entry) => sum + entry.heapMiB, 0) / n
  let covariance = 0
  let variance = 0
  for (const entry of trend) {
    covariance += (entry.requests - meanX) * (entry.heapMiB - meanY)
    variance += (entry.requests - meanX) ** 2
  }
  return variance === 0 ? 0 : (covariance / variance) * 1024 * 1000
})()
const fixed = (value: number, digits = 1) => value.toFixed(digits)
const rows = samples
  .map(
    (entry) =>
      `| ${fixed(entry.seconds, 0)} | ${entry.requests} | ${fixed(entry.heapMiB)} | ${fixed(entry.heapTotalMiB)} | ${fixed(entry.externalMiB)} | ${fixed(entry.rssMiB, 0)} | ${entry.fds} | ${entry.handles} |`,
  )
  .join('\n')
const body = `### ork-worker: soak, ${SECONDS} s of dashboard refreshes

${MINER_RACKS} miner racks × ${MINERS_PER_RACK} miners, 2 containers, 2 powermeters (child process); ork and client in
this process. One cycle: listThings (sorted by code, ${miners.length} things), getThingsCount, listRacks, tailLog (one day),
tailLogMulti (3 keys), getWrkExtData, pushAction (executed on the racks by the approver every 100 ms),
getActionsBatch, and one refused request (\`$where\`). ${cycle} cycles after one warm-up cycle, ${requests} requests
(${refused} refused as expected), ${pushed.length} actions pushed and every one found \`done\` at the end (${unpushed} pushes found
no calls). Heap after two full collections.

| s | requests | heap used MiB | heap total MiB | external MiB | rss MiB | open fds | handles |
|---|---|---|---|---|---|---|---|
${rows}

After the ${WARM_UP_MS / 1000} s warm-up: heap ${fixed(first.heapMiB)} → ${fixed(last.heapMiB)} MiB (least-squares trend ${fixed(heapSlope)} KiB per
1,000 requests), rss ${fixed(first.rssMiB, 0)} → ${fixed(last.rssMiB, 0)} MiB, open fds ${first.fds} → ${last.fds}, handles ${first.handles} → ${last.handles}.
Where it goes: heap snapshots of a 240 s run (\`SOAK_SNAPSHOTS=1\` writes one per sample to /tmp) showed every object
added after the warm-up held by Hyperbee's node cache, whose entries are capped (4,096 for the data store,
\`DATA_STORE_CACHE_ENTRIES\` in src/ork.ts) while the cached nodes of the growing action and audit trees get larger.
The rss follows V8's heap total, RocksDB's memtables (a 64 MiB write buffer per store, flushed to table files: the
few extra fds) and, since 2026-11-30, the tailLog aggregation thread's own heap (about 55 MiB more rss than before it).`
console.log(body)
const command = 'pnpm --filter @ork/ork-worker bench:soak'
recordBenchmark('ork-soak', process.env.ORK_SOAK_SECONDS ? `ORK_SOAK_SECONDS=${SECONDS} ${command}` : command, body)

await client.close()
await ork.close()
await site.close()
await testnet.destroy()
