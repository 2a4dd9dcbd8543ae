/**
 * Log volume: what the ork logs at the default level (info) while something stays wrong, per
 * scenario, with the API node's dashboard cycle (listThings, getThingsCount, tailLog,
 * tailLogMulti, getWrkExtData) every 5 s and the background jobs on short periods. For each
 * scenario it prints the lines the problem causes per hour one per occurrence (the count the
 * summaries carry included), the lines actually written, and one example of each message.
 * ORK_LOG_SCENARIO picks scenarios by a part of their name, ORK_LOG_SECONDS sets their length (60).
 */
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createLogger } from '@ork/logger'
import { loadWorkerConfig } from '../src/config/load-config.ts'
import { createServiceRoot, SMALL_SITE, startHarness } from '../test/support/harness.ts'

const SECONDS = Number(process.env.ORK_LOG_SECONDS ?? 60)
const CYCLE_MS = 5_000
const DAY = 86_400_000

type Harness = Awaited<ReturnType<typeof startHarness>>
interface Scenario {
  name: string
  /** Sets the fault up; returns what the load loop calls every cycle besides the dashboard. */
  setUp(harness: Harness): Promise<(() => Promise<void>) | undefined>
  dashboard?: boolean
  automation?: boolean
  history?: boolean
  /** The ork admits one unknown key only: the harness's clients are refused. */
  firewall?: boolean
}

const tailLogKey = { key: 'stat-5m', tag: 't-miner', type: 'miner' }
async function dashboardCycle(harness: Harness): Promise<void> {
  const now = Date.now()
  const calls: [string, unknown][] = [
    ['listThings', { query: {}, fields: { id: 1 } }],
    ['getThingsCount', { query: {} }],
    ['tailLog', { ...tailLogKey, start: now - DAY, end: now, limit: 10 }],
    ['tailLogMulti', { keys: [tailLogKey, { ...tailLogKey, type: 'powermeter', tag: 't-powermeter' }], limit: 10 }],
    ['getWrkExtData', { type: 'miner', query: {} }],
  ]
  for (const [method, data] of calls) await harness.call(method, data, 60_000).catch(() => {})
}

const unreachableRack = (index: number) => ({
  id: `miner-am-s19xp-rack-gone-${index}`,
  type: 'miner-am-s19xp',
  info: { rpcPublicKey: randomBytes(32).toString('hex') },
})

const scenarios: Scenario[] = [
  { name: 'healthy site', dashboard: true, setUp: async () => undefined },
  {
    name: 'two racks down (unreachable key, never answering)',
    dashboard: true,
    setUp: async (harness) => {
      await harness.call('registerRack', unreachableRack(1))
      harness.site.racks.find((rack) => rack.type.startsWith('miner'))?.setFaults({ neverAnswer: true })
      return undefined
    },
  },
  {
    name: 'a rack answering malformed replies',
    dashboard: true,
    setUp: async (harness) => {
      harness.site.racks.find((rack) => rack.type.startsWith('miner'))?.setFaults({ garbage: true })
      return undefined
    },
  },
  {
    name: 'a peer outside allow retrying',
    firewall: true,
    setUp: async (harness) => {
      const outsider = await harness.newClient()
      return async () => {
        for (let attempt = 0; attempt < 2; attempt++) {
          await outsider.request(harness.ork.rpcPublicKey, 'listRacks', {}, { timeout: 3000 }).catch(() => {})
        }
      }
    },
  },
  {
    name: 'a client sending bad requests in a loop (10 per cycle)',
    setUp: async (harness) => async () => {
      for (let attempt = 0; attempt < 10; attempt++) {
        await harness.call('listThings', { query: { $where: 'true' } }).catch(() => {})
        await harness.call('pushAction', { action: 'reboot' }).catch(() => {})
      }
    },
  },
  {
    name: 'history job failing (a rack down, a key without racks; a run every 10 s)',
    history: true,
    setUp: async (harness) => {
      await harness.call('registerRack', unreachableRack(2))
      return undefined
    },
  },
  {
    name: 'automation failing (a rack down, one answering garbage; a run every second)',
    automation: true,
    setUp: async (harness) => {
      harness.site.racks.find((rack) => rack.type.startsWith('container'))?.setFaults({ garbage: true })
      await harness.call('registerRack', unreachableRack(3))
      return undefined
    },
  },
  {
    name: 'actions on a down rack (one pushed per cycle)',
    setUp: async (harness) => {
      const rack = harness.site.racks.find((candidate) => candidate.type.startsWith('miner'))
      const things = (await harness.call('listThings', { query: { rack: rack?.id }, fields: { id: 1 } })) as {
        id: string
      }[]
      rack?.setFaults({ neverAnswer: ['queryThing'] })
      return async () => {
        await harness
          .call('pushAction', {
            query: { id: things[0]?.id },
            action: 'reboot',
            params: [],
            voter: 'bench',
            authPerms: ['miner:rw'],
          })
          .catch(() => {})
      }
    },
  },
]

const picked = process.env.ORK_LOG_SCENARIO
for (const scenario of scenarios) {
  if (picked && !scenario.name.includes(picked)) continue
  const lines: string[] = []
  const logger = createLogger('ork:worker', { write: (line) => lines.push(line), debug: '', level: 'info' })
  const configRoot = createServiceRoot()
  const config = loadWorkerConfig(configRoot, 'production')
  rmSync(configRoot, { recursive: true, force: true })
  config.ork = { ...config.ork, actionIntvlMs: 1000 }
  if (scenario.history) {
    const minerKey = config.aggrData?.aggrTailLogKeys?.find((entry) => entry.type === 'miner')
    config.aggrData = {
      agrrTailLogIntvlMs: 10_000,
      aggrTailLogStoreDays: 3,
      aggrTailLogApiDelay: 1,
      aggrTailLogKeys: [{ key: 'stat-5m', type: 'sensor', tag: 't-sensor' }, minerKey as NonNullable<typeof minerKey>],
    }
  } else config.aggrData = undefined
  if (scenario.automation) {
    const automation = config.crossAggrAction as NonNullable<typeof config.crossAggrAction>
    config.crossAggrAction = { ...automation, agrrListThingsIntvlMs: 1000 }
    config.globalConfig = { ...config.globalConfig, isAutoSleepAllowed: true }
  } else config.crossAggrAction = undefined
  if (scenario.firewall) config.net = { ...config.net, allow: [randomBytes(32).toString('hex')] }
  const harness = await startHarness({
    racks: SMALL_SITE,
    register: !scenario.firewall,
    orkOptions: { logger, config },
  })
  const extra = await scenario.setUp(harness)
  const startLines = lines.length
  const started = Date.now()
  let cycles = 0
  while (Date.now() - started < SECONDS * 1000) {
    const cycleStart = Date.now()
    if (scenario.dashboard) await dashboardCycle(harness)
    if (extra) await extra()
    cycles++
    const wait = CYCLE_MS - (Date.now() - cycleStart)
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
  const elapsed = (Date.now() - started) / 1000
  const duringRun = lines.length - startLines
  // Closing writes the summaries still pending: their counts are occurrences of the run too.
  await harness.close()
  const parsed = lines
    .slice(startLines)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg !== 'ork stopped')
  const occurrences = parsed.reduce((sum, line) => sum + (typeof line.repeated === 'number' ? line.repeated : 1), 0)
  const repeating = parsed.filter((line) => typeof line.repeated === 'number').length
  const perHour = (count: number) => Math.round((count * 3600) / elapsed)
  console.log(`\n## ${scenario.name} (${cycles} cycles in ${elapsed.toFixed(0)} s)`)
  console.log(`  one line per occurrence: ${perHour(occurrences)} lines/h`)
  console.log(
    `  written: ${duringRun} lines in the run; ${repeating} repeating lines, each then summarised every 10 min (6 lines/h)`,
  )
  const shown = new Set<string>()
  for (const line of parsed) {
    const message = `${line.level} ${line.msg}${typeof line.repeated === 'number' ? ' (summary)' : ''}`
    if (shown.has(message)) continue
    shown.add(message)
    const { time: _time, ...rest } = line
    console.log(`    ${JSON.stringify(rest).slice(0, 400)}`)
  }
}
