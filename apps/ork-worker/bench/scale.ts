/**
 * The whole worker at the size of a large site: 100 miner racks of 400 miners (40,000 miners), plus
 * container and powermeter racks, through the real transport on a loopback testnet. Times every
 * method an operator's API node relies on, one action on every miner from push to done, and one
 * run of the daily history job, and records the peak heap and resident set of the ork's process
 * (ork and client in this process, the racks in a child process). Failures are recorded, not
 * thrown: finding where the worker breaks at this size is the point.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { MAX_ACTION_RECORD_BYTES } from '@ork/action-approver'
import type { FanOutOptions, RackRecord } from '@ork/rack-registry'
import { TRANSPORT_MAX_PAYLOAD_BYTES } from '@ork/rpc-transport'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { recordBenchmark } from '../../../scripts/bench-report.ts'
import { benchScratchDir, removeOnExit } from '../../../scripts/bench-scratch.ts'
import { createServiceRoot } from '../test/support/harness.ts'
import { connectBenchClient, startBenchOrk, tailLogKey } from './support/bench-ork.ts'
import { startSiteProcess } from './support/site-process.ts'

const MINER_RACKS = Number(process.env.BENCH_MINER_RACKS ?? 100)
const MINERS_PER_RACK = Number(process.env.BENCH_MINERS_PER_RACK ?? 400)
const CONTAINER_RACKS = 4
const POWERMETER_RACKS = 4
const MINERS = MINER_RACKS * MINERS_PER_RACK
const PAGE_LIMIT = 100
const NOW = Date.UTC(2026, 10, 1, 12)
const DAY = 86_400_000
const MiB = 1024 * 1024
const AUTH = ['miner:rw']

/** Highest heap and resident set of this process (the ork's) while a step runs, sampled every 50 ms. */
class MemoryPeak {
  heap = 0
  rss = 0
  #timer: NodeJS.Timeout | undefined
  start(): void {
    this.heap = 0
    this.rss = 0
    this.#sample()
    this.#timer = setInterval(() => this.#sample(), 50)
  }
  stop(): void {
    this.#sample()
    clearInterval(this.#timer)
  }
  #sample(): void {
    const usage = process.memoryUsage()
    this.heap = Math.max(this.heap, usage.heapUsed)
    this.rss = Math.max(this.rss, usage.rss)
  }
}

interface Step {
  name: string
  ms: number
  heap: number
  rss: number
  outcome: string
}
const steps: Step[] = []
const memory = new MemoryPeak()

/** Runs one step, timing it and recording its peak memory; a failure is recorded with its code. */
async function step<T>(name: string, work: () => Promise<T>, describe: (value: T) => string): Promise<T | undefined> {
  memory.start()
  const started = performance.now()
  let outcome: string
  let value: T | undefined
  try {
    value = await work()
    outcome = describe(value)
  } catch (error) {
    outcome = `**failed: ${error instanceof Error ? error.message : String(error)}**`
  }
  const ms = performance.now() - started
  memory.stop()
  const failing = ork.context.racks.health().filter((entry) => entry.consecutiveFailures > 0)
  if (failing.length > 0) {
    const down = failing.filter((entry) => entry.state === 'down').length
    outcome += `; racks failing: ${failing.length} (${down} marked down; last failure: ${failing[0]?.lastFailure})`
  }
  steps.push({ name, ms, heap: memory.heap, rss: memory.rss, outcome })
  console.log(`${name}: ${(ms / 1000).toFixed(2)} s, ${outcome}`)
  return value
}

/** Bytes of the files under `directory`: what the ork's stores take on disk. */
const directoryBytes = (directory: string): number =>
  readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce((total, entry) => total + statSync(join(entry.parentPath, entry.name)).size, 0)
const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '')
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

const testnet = await createLoopbackTestnet()
const root = removeOnExit(createServiceRoot({}))
// Actions run 0.1 s after approval rather than at the next 5 s tick; callTargetsLimit stays the shipped 500.
writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 100, callTargetsLimit: 500 }))
// The shipped history keys over 2 days (the racks hold 2 days), 1 ms between rack queries instead of 1 s.
const aggrDataPath = join(root, 'config/aggr.data.json')
const shippedAggrData = JSON.parse(readFileSync(aggrDataPath, 'utf8')) as Record<string, unknown>
writeFileSync(aggrDataPath, JSON.stringify({ ...shippedAggrData, aggrTailLogStoreDays: 2, aggrTailLogApiDelay: 1 }))
const scratch = benchScratchDir('ork-bench-scale-')

// Two models of miners, each half of the racks in its own child process: the simulated racks keep
// every device reading of the days they computed, and 100 racks of 400 miners outgrow one heap.
const started = performance.now()
const halfSite = (minerType: string, containerType: string, extra: { type: string; count: number; racks: number }[]) =>
  startSiteProcess({
    dhtOpts: testnet.dhtOpts,
    racks: [
      { type: containerType, count: 10, racks: CONTAINER_RACKS / 2, historyMs: 2 * DAY },
      { type: minerType, count: MINERS_PER_RACK, racks: MINER_RACKS / 2, historyMs: 2 * DAY },
      ...extra.map((spec) => ({ ...spec, historyMs: 2 * DAY })),
    ],
    seed: 11,
    rootDir: join(scratch, minerType),
    now: NOW,
  })
const sites = await Promise.all([
  halfSite('miner-am-s19xp', 'container-bd-d40', []),
  halfSite('miner-wm-m56s', 'container-as-hk3', [{ type: 'powermeter-abb', count: 5, racks: POWERMETER_RACKS }]),
])
const registrations = sites.flatMap((site) => site.registrations)
const siteStartSeconds = (performance.now() - started) / 1000
console.log(`site of ${registrations.length} racks started in ${siteStartSeconds.toFixed(1)} s`)
const { ork, config } = await startBenchOrk({ cluster: 'bench-scale', root, testnet, now: NOW })
const rackCount = registrations.length
const { client, call } = await connectBenchClient({
  scratch,
  testnet,
  ork,
  site: { registrations: [] },
  timeoutMs: 300_000,
})

await step(
  `registerRack × ${rackCount} (one after the other)`,
  async () => {
    for (const registration of registrations) await call('registerRack', registration)
  },
  () => 'ok',
)
await step(
  'listRacks',
  () => call('listRacks', {}) as Promise<unknown[]>,
  (racks) => `${racks.length} racks`,
)

// listThings the way the API node asks: every field, `status: 1`, sorted by code. `limit` applies
// per rack, so a whole-site reply is racks × limit things.
const listRequest = { query: { tags: { $in: ['t-miner'] } }, status: 1, sort: { code: 1 } }
const replyLine = (things: unknown[]) => `${things.length} things, ${mib(bytesOf(things))}`
await step(
  `listThings of every miner, status 1, sort by code (limit ${MINERS_PER_RACK})`,
  () => call('listThings', { ...listRequest, limit: MINERS_PER_RACK }) as Promise<unknown[]>,
  replyLine,
)
await step(
  `listThings of every miner, no status, sort by code (limit ${MINERS_PER_RACK})`,
  () => call('listThings', { ...listRequest, status: 0, limit: MINERS_PER_RACK }) as Promise<unknown[]>,
  replyLine,
)
const fields = { id: 1, code: 1, type: 1, 'info.container': 1, 'info.pos': 1, 'last.snap.stats.status': 1 }
await step(
  `listThings of every miner, 6 fields, sort by code (limit ${MINERS_PER_RACK})`,
  () => call('listThings', { ...listRequest, fields, limit: MINERS_PER_RACK }) as Promise<unknown[]>,
  replyLine,
)
// The API node's paging (requestDataAllPages): pages of `limit`, `offset` += limit, until a short page.
await step(
  `listThings paged as the API node pages (limit ${PAGE_LIMIT}, status 1)`,
  async () => {
    const pages: number[] = []
    for (let offset = 0; ; offset += PAGE_LIMIT) {
      const page = (await call('listThings', { ...listRequest, limit: PAGE_LIMIT, offset })) as unknown[]
      pages.push(page.length)
      if (page.length < PAGE_LIMIT) break
    }
    return pages
  },
  (pages) => `${pages.length} pages, ${pages.reduce((sum, size) => sum + size, 0)} things (${pages.join(', ')})`,
)
await step(
  'getThingsCount of every miner',
  () => call('getThingsCount', { query: { tags: { $in: ['t-miner'] } } }) as Promise<number>,
  (total) => `${total}`,
)
await step(
  'getHistoricalLogs alerts (limit 100 per rack)',
  () => call('getHistoricalLogs', { logType: 'alerts', limit: 100 }) as Promise<unknown[]>,
  (logs) => `${logs.length} entries, ${mib(bytesOf(logs))}`,
)

/**
 * The simulated racks compute a day of 5-minute records on first request (~0.5 s for 400 miners),
 * 50 racks one after the other in each child process, where real racks compute theirs at the same
 * time on their own machines. So the first time each request reaches the racks it goes 2 racks at
 * a time with a long deadline (timed as "cold"): asked 25 at a time, a child's thread stays busy
 * long enough for the ork's connection to it to close (CHANNEL_CLOSED). The timed call then finds
 * the racks' replies cached.
 */
const fanOut = ork.context.racks.fanOut.bind(ork.context.racks)
let rackWaitMs = 0
async function withPatientRacks<T>(work: () => Promise<T>): Promise<T> {
  ork.context.racks.fanOut = (async (
    racks: readonly RackRecord[],
    method: string,
    payload: unknown,
    options?: FanOutOptions,
  ) => {
    const fanOutStarted = performance.now()
    try {
      return await fanOut(racks, method, payload, { ...options, timeout: 600_000, concurrency: 2 })
    } finally {
      rackWaitMs += performance.now() - fanOutStarted
    }
  }) as typeof fanOut
  try {
    return await work()
  } finally {
    ork.context.racks.fanOut = fanOut
  }
}

const range = { start: NOW - DAY, end: NOW, limit: 288 }
const tailLogRequest = { ...tailLogKey(config, 'miner'), ...range }
const multiRequest = {
  keys: [tailLogKey(config, 'miner'), tailLogKey(config, 'powermeter'), tailLogKey(config, 'container')],
  ...range,
}
/** Rows, and how many racks' records the first row aggregates (the racks that answered). */
const rowsLine = (rows: unknown[]) =>
  `${rows.length} rows from ${(rows[0] as { aggrCount?: number } | undefined)?.aggrCount ?? 0} racks, ${mib(bytesOf(rows))}`
await step(
  'tailLog one day, cold racks (warm-up, long deadline)',
  () => withPatientRacks(() => call('tailLog', tailLogRequest) as Promise<unknown[]>),
  rowsLine,
)
await step(
  'tailLog one day (stat-5m, t-miner, 288 rows)',
  () => call('tailLog', tailLogRequest) as Promise<unknown[]>,
  rowsLine,
)
await step(
  'tailLogMulti of 3 keys, cold racks (warm-up, long deadline)',
  () => withPatientRacks(() => call('tailLogMulti', multiRequest) as Promise<unknown[][]>),
  (keys) => `${keys.length} keys`,
)
await step(
  'tailLogMulti of 3 keys (miner, powermeter, container), one day',
  () => call('tailLogMulti', multiRequest) as Promise<unknown[][]>,
  (keys) => `${keys.map((rows) => rows.length).join(' + ')} rows, ${mib(bytesOf(keys))}`,
)
await step(
  'getWrkExtData (miner)',
  () => call('getWrkExtData', { type: 'miner', query: { key: 'stats' } }) as Promise<unknown[]>,
  (rows) => `${rows.length} rows`,
)

const dataStore = join(root, 'store', 'bench-scale-db')
// One action on every miner: push (getWriteCalls on every rack), execution, the record read back.
type ActionLookup = { type: string; action: { id: number; status: string } }
const push = await step(
  `pushAction setupPools on all ${MINERS} miners`,
  () =>
    call('pushAction', {
      query: { tags: { $in: ['t-miner'] } },
      action: 'setupPools',
      params: [],
      voter: 'bench',
      authPerms: AUTH,
    }) as Promise<{ id: number | null; errors: string[] }>,
  (reply) =>
    `id ${reply.id}, reply ${mib(bytesOf(reply))}, errors: ${reply.errors.length}${reply.errors.length ? ` (${reply.errors.slice(0, 3).join('; ')})` : ''}`,
)
const actionId = push?.id
if (typeof actionId === 'number') {
  const storeBefore = directoryBytes(dataStore)
  await step(
    'execution until done (one vote suffices for setupPools)',
    async () => {
      for (;;) {
        const [found] = (await call('getActionsBatch', { ids: [actionId] })) as ActionLookup[]
        if (found?.type === 'done') return found.action.status
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    },
    (status) => `${status}; data store grew ${mib(directoryBytes(dataStore) - storeBefore)}`,
  )
  await step(
    'getAction of the done action',
    () => call('getAction', { id: actionId, type: 'done' }) as Promise<unknown>,
    (record) =>
      `${mib(bytesOf(record))} of the ${mib(MAX_ACTION_RECORD_BYTES)} an action record may hold (${MINERS} calls, ${(bytesOf(record) / MINERS).toFixed(0)} bytes each)`,
  )
  await step(
    'queryActions done (limit 10)',
    () => call('queryActions', { queries: [{ type: 'done', opts: { limit: 10 } }] }),
    (reply) => {
      const actions = Object.values(reply as Record<string, unknown[]>).flat()
      return `${actions.length} actions, reply ${mib(bytesOf(reply))}`
    },
  )
}

// One run of the daily history job: the shipped keys (miner, powermeter, container), 2 days, one zone.
const historyJob = ork.context.tailLogAggregation
if (historyJob) {
  rackWaitMs = 0
  await step(
    'daily history job, one run (2 days × 3 keys, racks cold)',
    () => withPatientRacks(() => historyJob.run()),
    () => `${historyJob.lastRun?.done} days stored, of which waiting for the racks ${(rackWaitMs / 1000).toFixed(1)} s`,
  )
}

const recordBytes = steps.find((entry) => entry.name.startsWith('getAction'))
const table = steps
  .map(
    (entry) =>
      `| ${entry.name} | ${(entry.ms / 1000).toFixed(2)} | ${(entry.heap / MiB).toFixed(0)} | ${(entry.rss / MiB).toFixed(0)} | ${entry.outcome} |`,
  )
  .join('\n')
const body = `### ork-worker: a site of ${MINERS.toLocaleString('en-US')} miners (${MINER_RACKS} racks × ${MINERS_PER_RACK}, plus ${CONTAINER_RACKS} container and ${POWERMETER_RACKS} powermeter racks)

Figures are approximate: the machine is shared with other work. Ork and client in one process (its peak heap and
resident set are sampled every 50 ms during each step), the ${rackCount} simulated racks in two child processes (two miner models, started in
${siteStartSeconds.toFixed(0)} s), loopback testnet, \`actionIntvlMs\` 100, \`callTargetsLimit\` 500, history job with the
shipped keys over 2 days and 1 ms between rack queries. Transport limit per message:
${mib(TRANSPORT_MAX_PAYLOAD_BYTES)}; action record limit: ${mib(MAX_ACTION_RECORD_BYTES)}.

| step | seconds | peak heap MiB | peak RSS MiB | outcome |
|---|---|---|---|---|
${table}

"Cold" steps ask the racks 2 at a time with a 600 s deadline: the simulated racks compute a day of records for 400
miners in about 0.5–1 s, 50 racks one after the other in each child process, where real racks compute theirs at
the same time on their own machines; the other tailLog steps find the racks' replies cached. "Racks failing" counts
racks whose last request failed (health of the fan-out). ${recordBytes ? '' : 'The action did not get a record. '}See apps/ork-worker/README.md "Sizing".`
console.log(body)
recordBenchmark('ork-scale', 'pnpm --filter @ork/ork-worker bench:scale', body)

await client.close()
await ork.close()
await Promise.all(sites.map((site) => site.close()))
await testnet.destroy()
