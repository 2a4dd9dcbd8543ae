/**
 * Actions against 20 simulated racks of 500 miners each (10,000 devices), through the real
 * transport on a loopback testnet: the pushAction round trip (getWriteCalls on every rack,
 * then the approver's write), and how many actions per second go through push, vote and
 * execution on the racks. Ork and client in this process, the racks in a child process.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { percentile, recordBenchmark } from '../../../scripts/bench-report.ts'
import { benchScratchDir, removeOnExit } from '../../../scripts/bench-scratch.ts'
import { createServiceRoot } from '../test/support/harness.ts'
import { connectBenchClient, startBenchOrk } from './support/bench-ork.ts'
import { startSiteProcess } from './support/site-process.ts'

const RACKS = 20
const THINGS_PER_RACK = 500
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40)
const VOTED_ACTIONS = Number(process.env.BENCH_VOTED_ACTIONS ?? 40)
const DEVICE_ACTIONS = Number(process.env.BENCH_DEVICE_ACTIONS ?? 100)
const AUTH = ['miner:rw']

const testnet = await createLoopbackTestnet()
const root = removeOnExit(createServiceRoot({}))
writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 100, callTargetsLimit: 500 }))
const scratch = benchScratchDir('ork-bench-actions-')
const site = await startSiteProcess({
  dhtOpts: testnet.dhtOpts,
  racks: [{ type: 'miner-am-s19xp', count: THINGS_PER_RACK, racks: RACKS }],
  seed: 1,
  rootDir: join(scratch, 'racks'),
  now: Date.UTC(2026, 10, 1),
})
const { ork } = await startBenchOrk({ cluster: 'bench-actions', root, testnet })
const { client, call } = await connectBenchClient({ scratch, testnet, ork, site, timeoutMs: 120_000 })
const things = (await call('listThings', { fields: { id: 1, code: 1 }, limit: THINGS_PER_RACK })) as {
  id: string
  code: string
}[]

type Lookup = { type: string; action: { id: number; status: string } }
async function untilAllDone(ids: number[]): Promise<void> {
  for (;;) {
    const found = (await call('getActionsBatch', { ids })) as Lookup[]
    if (found.length === ids.length && found.every((entry) => entry.type === 'done')) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
/**
 * Each push asks about a device not asked about before, so every rack computes its
 * getWriteCalls answer: by id (what the API node sends for chosen devices) the racks look
 * the device up; by code they run mingo over their 500 things. `setupPools` leaves the device
 * unchanged; `setLED` changes it, so the rack's things are rebuilt too.
 */
const pushOne = (device: string, action: 'setupPools' | 'setLED' = 'setupPools', query: object = { id: device }) =>
  call('pushAction', {
    query,
    action,
    params: action === 'setLED' ? [true] : [],
    voter: 'bench',
    authPerms: AUTH,
  }) as Promise<{ id: number }>

// Warm-up: connections pooled, racks' replies cached.
for (let round = 0; round < 5; round++) await untilAllDone([(await pushOne(things[round]!.id)).id])

// 1. pushAction round trip: one device out of 10,000, every rack asked. Each action is
// executed before the next push, so the round trip is timed on an otherwise idle ork (rows 9
// and 10 measure pushes and executions running together).
// Each push's own getWriteCalls fan-out is timed too, so the ork's share is that push's round
// trip minus its wait for the racks.
const pushTimes: number[] = []
const pushRackWait: number[] = []
const orkShare: number[] = []
const fanOut = ork.context.racks.fanOut.bind(ork.context.racks)
let fanOutMs = 0
ork.context.racks.fanOut = async (...parameters: Parameters<typeof fanOut>) => {
  const started = performance.now()
  try {
    return await fanOut(...parameters)
  } finally {
    if (parameters[1] === 'getWriteCalls') fanOutMs += performance.now() - started
  }
}
for (let round = 0; round < ROUNDS; round++) {
  fanOutMs = 0
  const started = performance.now()
  const reply = await pushOne(things[(round * 7) % things.length]!.id)
  const elapsed = performance.now() - started
  pushTimes.push(elapsed)
  pushRackWait.push(fanOutMs)
  orkShare.push(elapsed - fanOutMs)
  await untilAllDone([reply.id])
}
ork.context.racks.fanOut = fanOut

// 1a. The same by code: every rack scans its 500 things.
const scanTimes: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  const thing = things[(round * 13 + 5) % things.length]!
  const started = performance.now()
  const reply = await pushOne(thing.id, 'setupPools', { code: thing.code })
  scanTimes.push(performance.now() - started)
  await untilAllDone([reply.id])
}

// 1b. The racks' share: the same getWriteCalls fan-out alone (5 racks at a time, as the ork does),
// for devices not asked about yet, so every rack computes its answer as it did for the pushes;
// then the same questions again, answered from the racks' reply caches: the transport alone.
const rackWait: number[] = []
const transportWait: number[] = []
const racks = ork.context.registry.all()
for (let round = 0; round < ROUNDS; round++) {
  const payload = { query: { id: things[(round * 7 + 3) % things.length]!.id }, action: 'setupPools', params: [] }
  for (const samples of [rackWait, transportWait]) {
    const started = performance.now()
    await ork.context.racks.fanOut(racks, 'getWriteCalls', payload, { concurrency: 5, timeout: 120_000 })
    samples.push(performance.now() - started)
  }
}

// 1c. The same with a device change between pushes: the racks' own work lands on this CPU too.
const changingTimes: number[] = []
for (let round = 0; round < ROUNDS / 2; round++) {
  const started = performance.now()
  const reply = await pushOne(things[(round * 11) % things.length]!.id, 'setLED')
  changingTimes.push(performance.now() - started)
  await untilAllDone([reply.id])
}

// 2. Device actions (one vote suffices) pushed 5 at a time, until all executed.
let started = performance.now()
const deviceIds: number[] = []
for (let index = 0; index < DEVICE_ACTIONS; index += 5) {
  const replies = await Promise.all(
    Array.from({ length: Math.min(5, DEVICE_ACTIONS - index) }, (_, offset) =>
      pushOne(things[(index + offset) % things.length]!.id, 'setLED'),
    ),
  )
  deviceIds.push(...replies.map((reply) => reply.id))
}
await untilAllDone(deviceIds)
const deviceSeconds = (performance.now() - started) / 1000

// 3. Rack reboots needing a second vote: push, vote, execution on the 20 racks.
started = performance.now()
const votedIds: number[] = []
for (let index = 0; index < VOTED_ACTIONS; index++) {
  const reply = (await call('pushAction', {
    query: {},
    action: 'rackReboot',
    params: [],
    voter: 'bench',
    authPerms: AUTH,
  })) as { id: number }
  await call('voteAction', { id: reply.id, voter: 'second', approve: true, authPerms: ['miner'] })
  votedIds.push(reply.id)
}
await untilAllDone(votedIds)
const votedSeconds = (performance.now() - started) / 1000

// 4. One action on all 10,000 devices: discovery and execution time.
started = performance.now()
const wide = (await call('pushAction', {
  query: { tags: { $in: ['t-miner'] } },
  action: 'setPowerMode',
  params: ['normal'],
  voter: 'bench',
  authPerms: AUTH,
})) as { id: number }
const widePushMs = performance.now() - started
started = performance.now()
await untilAllDone([wide.id])
const wideExecuteSeconds = (performance.now() - started) / 1000

const median = (samples: number[]) => percentile(samples, 50)
const p95 = (samples: number[]) => percentile(samples, 95)
const body = `### ork-worker: actions over ${RACKS} racks × ${THINGS_PER_RACK} miners (${RACKS * THINGS_PER_RACK} devices)

Ork and client in one process, the simulated racks in a child process (bench/support/site-process.ts: the second core plays the rest of the site), on a loopback testnet, pooled connections; \`actionIntvlMs\` 100,
\`callTargetsLimit\` 500. The approver executes actions one after the other, so throughput includes
the wait for the next tick.

| measure | value |
|---|---|
| pushAction round trip, one device (getWriteCalls on ${RACKS} racks + store), median | ${median(pushTimes).toFixed(1)} ms |
| pushAction round trip, p95 | ${p95(pushTimes).toFixed(1)} ms |
| of which waiting for racks (each push's getWriteCalls fan-out), median | ${median(pushRackWait).toFixed(1)} ms |
| the ork's own share (each push's round trip − its fan-out), median | ${median(orkShare).toFixed(1)} ms |
| the getWriteCalls fan-out alone, racks computing their answers, median | ${median(rackWait).toFixed(1)} ms |
| the same fan-out answered from the racks' reply caches (transport alone), median | ${median(transportWait).toFixed(1)} ms |
| pushAction by \`code\` (every rack runs mingo over its 500 things), median | ${median(scanTimes).toFixed(1)} ms |
| pushAction right after the racks changed, median | ${median(changingTimes).toFixed(1)} ms |
| device actions pushed 5 at a time, then executed (${DEVICE_ACTIONS}) | ${(DEVICE_ACTIONS / deviceSeconds).toFixed(1)} actions/s |
| rackReboot push + second vote + execution on ${RACKS} racks (${VOTED_ACTIONS}) | ${(VOTED_ACTIONS / votedSeconds).toFixed(1)} actions/s |
| one action on all ${RACKS * THINGS_PER_RACK} devices: pushAction | ${widePushMs.toFixed(0)} ms |
| the same action: execution (${RACKS * THINGS_PER_RACK} queryThing calls) | ${wideExecuteSeconds.toFixed(2)} s (${((RACKS * THINGS_PER_RACK) / wideExecuteSeconds).toFixed(0)} calls/s) |

The first rows use \`setupPools\` (no device change), each push about a device not asked about before,
named by id as the API node does; the simulated racks find it by id (rack-simulator's \`queryIdCandidates\`).
Row 3 is what each push waited for the racks (getWriteCalls, 5 racks at a time as the reference), row 4 the rest:
the ork's own share (request and reply, validation, approver write, audit entry). Rows 5 and 6 time the same fan-out
outside any push, the racks computing their answers and then answering from their caches. Row 7 asks by \`code\`: each of the 20 simulated racks then runs mingo over its 500
things one after the other in their one process (~1–2 ms each), where real racks do it at the same time on their
own machines. Row 8 follows a device change.
Target: pushAction under 20 ms median — ${median(pushTimes) < 20 ? 'met' : '**not met**'} (the reference needs more than 50 ms, its approver sleeping
50 ms per push).`
console.log(body)
recordBenchmark('ork-actions', 'pnpm --filter @ork/ork-worker bench:actions', body)

await client.close()
await ork.close()
await site.close()
await testnet.destroy()
