import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SimulatedRack } from '@ork/rack-simulator'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TailLogAggregationJob } from '../src/tail-log/aggregate-job.ts'
import { untilActionDone, waitFor } from './support/actions-helpers.ts'
import { type Harness, startHarness } from './support/harness.ts'
import { historyConfig } from './support/history-config.ts'
import { killWorkers, startWorker, workerArgs } from './support/worker-process.ts'

/**
 * Going back to the reference worker (apps/ork-worker/README.md, "Going back to the reference
 * worker"): the ork runs on a root through registrations, actions in every state it can leave
 * them in, and a history run; then the store is opened the way the reference opens it (plain
 * corestore and hyperbee, by core name, with its encodings and sub prefixes) and every item is
 * read as the reference reads it.
 *
 * Two phases share the root. The embedded ork (a fixed clock for the history) leaves voting,
 * completed, cancelled and shutdown-interrupted actions and closes. Then the worker process runs
 * on the same root and is killed with SIGKILL while an action is executing and another waits in
 * `ready`: the state a crash leaves, which only a process can show.
 */

const CLUSTER = 'test-cluster'
const DAY_MS = 86_400_000
const HISTORY_DAYS = 3
const clock = Date.parse('2024-03-05T12:00:00Z')

/** Fields of an action record in the reference's approver (libraries.md 1.3). */
const RECORD_FIELDS = [
  'id',
  'batchActionUID',
  'action',
  'payload',
  'votesPos',
  'votesNeg',
  'reqVotesPos',
  'reqVotesNeg',
  'status',
  'result',
  'error',
]

interface StoredCall {
  id: unknown
  tags?: unknown
  result?: unknown
  error?: string
}
interface StoredAction {
  id: number
  action: string
  status: string
  error?: string
  votesPos: unknown[]
  reqVotesPos: number
  payload: [unknown[], Record<string, { calls: StoredCall[]; error?: string }>, string[]]
}

let harness: Harness
let rackOne: SimulatedRack
let rackTwo: SimulatedRack
/** Device ids per rack id. */
const devices: Record<string, string[]> = {}
const pushed = { voting: 0, completed: 0, cancelled: 0, interrupted: 0, crashed: 0, ready: 0 }

/** The ed25519 public key (hex) of a 32-byte seed: HyperDHT's `keyPair(seed)`, as the reference derives its keys. */
function publicKeyOfSeed(seed: Buffer): string {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed])
  const jwk = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' })
  return Buffer.from(jwk.x as string, 'base64url').toString('hex')
}

/** Device calls that reached a rack for one action (executed, or received and never answered). */
const callsOf = (actionId: number) =>
  harness.site.executedCalls().filter((call) => call.actionId === actionId && call.method === 'queryThing')

const pushReboot = async (call: (method: string, data: unknown) => Promise<unknown>, ids: string[]) =>
  (
    (await call('pushAction', {
      query: { id: { $in: ids } },
      action: 'reboot',
      params: [],
      voter: 'joe',
      authPerms: ['miner:rw'],
    })) as { id: number }
  ).id

beforeAll(async () => {
  const config = historyConfig({ days: HISTORY_DAYS, timezones: [{ code: 'UTC', offset: 0 }] })
  config.ork = { ...config.ork, actionIntvlMs: 100, callTargetsLimit: 4 }
  harness = await startHarness({
    racks: [{ type: 'miner-am-s19xp', count: 4, racks: 2 }],
    now: () => clock,
    orkOptions: { now: () => clock, config },
  })
  ;[rackOne, rackTwo] = harness.site.racks as [SimulatedRack, SimulatedRack]
  const things = (await harness.call('listThings', { fields: { id: 1, rack: 1 }, limit: 100 })) as {
    id: string
    rack: string
  }[]
  for (const rack of harness.site.racks) devices[rack.id] = things.filter((t) => t.rack === rack.id).map((t) => t.id)

  // Phase 1, the embedded ork.
  const job = harness.ork.context.tailLogAggregation as TailLogAggregationJob
  expect(await job.run()).toBe(true)
  const call = (method: string, data: unknown) => harness.call(method, data)
  const rackReboot = { query: {}, action: 'rackReboot', params: [], voter: 'joe', authPerms: ['miner:rw'] }
  pushed.voting = ((await call('pushAction', rackReboot)) as { id: number }).id
  pushed.cancelled = ((await call('pushAction', rackReboot)) as { id: number }).id
  await call('cancelActionsBatch', { ids: [pushed.cancelled], voter: 'joe' })
  pushed.completed = await pushReboot(call, [devices[rackOne.id]![0]!])
  await untilActionDone(harness, pushed.completed)
  // Shut down while rack two holds a call: the action ends interrupted.
  rackTwo.setFaults({ neverAnswer: ['queryThing'] })
  const receivedBefore = rackTwo.received.get('queryThing') ?? 0
  pushed.interrupted = await pushReboot(call, [devices[rackOne.id]![1]!, devices[rackTwo.id]![0]!])
  await waitFor(
    async () => ({ one: callsOf(pushed.interrupted).length, two: rackTwo.received.get('queryThing') ?? 0 }),
    (sent) => sent.one === 1 && sent.two > receivedBefore,
  )
  await harness.ork.close()

  // Phase 2, the worker process on the same root (its store/ under its working directory).
  writeFileSync(
    join(harness.root, 'config/facs/net.config.json'),
    JSON.stringify({ r0: { dhtOpts: harness.testnet.dhtOpts } }),
  )
  writeFileSync(join(harness.root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 100, callTargetsLimit: 4 }))
  const worker = await startWorker(workerArgs(CLUSTER, harness.root), harness.root)
  const client = await harness.newClient()
  const workerCall = (method: string, data: unknown) =>
    client.request(worker.keys.rpcPublicKey, method, data, { timeout: 20_000 })
  const receivedBeforeCrash = rackTwo.received.get('queryThing') ?? 0
  pushed.crashed = await pushReboot(workerCall, [devices[rackOne.id]![0]!, devices[rackTwo.id]![1]!])
  await waitFor(
    async () => ({ one: callsOf(pushed.crashed).length, two: rackTwo.received.get('queryThing') ?? 0 }),
    (sent) => sent.one === 1 && sent.two > receivedBeforeCrash,
    20_000,
  )
  // Approved while the pass waits on rack two: it stays in `ready`, never sent.
  pushed.ready = await pushReboot(workerCall, [devices[rackOne.id]![1]!])
  worker.child.kill('SIGKILL')
  await worker.exited
}, 60_000)

afterAll(async () => {
  killWorkers()
  await harness?.close()
})

describe('the store the ork leaves, read the way the reference reads it', () => {
  let dataStore: Corestore
  let identityStore: Corestore
  beforeAll(async () => {
    dataStore = new Corestore(join(harness.root, 'store', `${CLUSTER}-db`))
    identityStore = new Corestore(join(harness.root, 'store', CLUSTER))
    await dataStore.ready()
    await identityStore.ready()
  })
  afterAll(async () => {
    await dataStore?.close()
    await identityStore?.close()
  })

  it('status file: only the three fields the reference writes; its seeds give the same keys', async () => {
    const status = JSON.parse(
      readFileSync(join(harness.root, 'status', `wrk-ork-proc-aggr-${CLUSTER}.json`), 'utf8'),
    ) as Record<string, string>
    expect(Object.keys(status).sort()).toEqual(['instanceId', 'rpcClientKey', 'rpcPublicKey'])
    expect(status.instanceId).toMatch(
      new RegExp(`^wrk-ork-proc-aggr-${CLUSTER}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
    )
    // net facility: bee `storeConf` on store/<cluster>, utf-8 keys, raw 32-byte seeds.
    const seeds = new Hyperbee<string, Buffer>(identityStore.get({ name: 'storeConf' }), { keyEncoding: 'utf-8' })
    try {
      const seedRpc = (await seeds.get('seedRpc'))?.value as Buffer
      const seedDht = (await seeds.get('seedDht'))?.value as Buffer
      expect([seedRpc.length, seedDht.length]).toEqual([32, 32])
      expect(publicKeyOfSeed(seedRpc)).toBe(status.rpcPublicKey)
      expect(publicKeyOfSeed(seedDht)).toBe(status.rpcClientKey)
    } finally {
      await seeds.close()
    }
  })

  it('racks: bee `racks`, utf-8 rack id → JSON of the registration', async () => {
    const racks = new Hyperbee<string, Buffer>(dataStore.get({ name: 'racks' }), { keyEncoding: 'utf-8' })
    try {
      const stored: unknown[] = []
      for await (const entry of racks.createReadStream()) {
        const rack = JSON.parse(entry.value.toString()) as { id: string }
        expect(rack.id).toBe(entry.key)
        stored.push(rack)
      }
      const registered = [...harness.site.registrations].sort((a, b) => (a.id < b.id ? -1 : 1))
      expect(stored).toEqual(registered)
    } finally {
      await racks.close()
    }
  })

  describe('actions: bee `action-approver`, subs `actions:<state>`, 6-byte big-endian ids', () => {
    const states = ['voting', 'ready', 'executing', 'done'] as const
    const byState = {} as Record<(typeof states)[number], Map<number, StoredAction>>
    let approver: Hyperbee
    beforeAll(async () => {
      approver = new Hyperbee(dataStore.get({ name: 'action-approver' }))
      await approver.ready()
      for (const state of states) {
        const records = new Map<number, StoredAction>()
        for await (const entry of approver.sub(`actions:${state}`).createReadStream()) {
          expect(entry.key.length).toBe(6)
          records.set(entry.key.readUIntBE(0, 6), JSON.parse(entry.value.toString()) as StoredAction)
        }
        byState[state] = records
      }
    })
    afterAll(async () => {
      await approver?.close()
    })

    it('holds each action in one state, keyed by its id, with only the fields the reference knows', () => {
      const where = (id: number) => states.filter((state) => byState[state].has(id))
      expect(where(pushed.voting)).toEqual(['voting'])
      expect(where(pushed.ready)).toEqual(['ready'])
      expect(where(pushed.crashed)).toEqual(['executing'])
      for (const id of [pushed.completed, pushed.cancelled, pushed.interrupted]) expect(where(id)).toEqual(['done'])
      for (const state of states) {
        for (const [id, record] of byState[state]) {
          expect(record.id).toBe(id)
          expect(RECORD_FIELDS).toEqual(expect.arrayContaining(Object.keys(record)))
          const [params, targets, requiredPerms] = record.payload
          expect([Array.isArray(params), Array.isArray(requiredPerms)]).toEqual([true, true])
          for (const target of Object.values(targets)) {
            for (const call of target.calls) {
              expect(['id', 'tags', 'result', 'error']).toEqual(expect.arrayContaining(Object.keys(call)))
            }
          }
        }
      }
    })

    it('voting and done records carry the reference statuses; done keeps each call outcome', () => {
      const voting = byState.voting.get(pushed.voting)
      expect(voting).toMatchObject({ status: 'VOTING', votesPos: ['joe'], votesNeg: [], reqVotesPos: 2 })
      expect(voting?.payload[2]).toEqual(['miner'])
      const done = byState.done
      expect(done.get(pushed.cancelled)).toMatchObject({ status: 'DENIED' })
      const completed = done.get(pushed.completed)
      expect(completed?.status).toBe('COMPLETED')
      expect(Object.values(completed?.payload[1] ?? {}).flatMap((target) => target.calls)).toEqual([
        expect.objectContaining({ result: expect.anything() }),
      ])
      // Shut down mid-execution: the answered call keeps its result, the one in flight is marked.
      const interrupted = done.get(pushed.interrupted)
      expect(interrupted).toMatchObject({ status: 'FAILED', error: 'ERR_ACTION_INTERRUPTED' })
      expect(interrupted?.payload[1][rackOne.id]?.calls).toEqual([
        expect.objectContaining({ result: expect.anything() }),
      ])
      expect(interrupted?.payload[1][rackTwo.id]?.calls).toEqual([
        expect.objectContaining({ error: 'ERR_ACTION_INTERRUPTED' }),
      ])
    })

    it('the reference executes only `ready`: nothing there ever reached a rack', () => {
      // Its execution pass takes every `ready` record, oldest first; it never leaves `executing`.
      expect([...byState.ready.keys()]).toEqual([pushed.ready])
      const ready = byState.ready.get(pushed.ready)
      expect(ready?.status).toBe('APPROVED')
      for (const target of Object.values(ready?.payload[1] ?? {})) {
        for (const call of target.calls) expect(call).not.toHaveProperty('result')
      }
      const reachedRacks = new Set(harness.site.executedCalls().map((call) => call.actionId))
      expect(reachedRacks.has(pushed.ready)).toBe(false)
      // The action the kill interrupted stays in `executing` (as EXECUTING) for the reference: never re-sent.
      const crashed = byState.executing.get(pushed.crashed)
      expect(crashed?.status).toBe('EXECUTING')
      expect(reachedRacks.has(pushed.crashed)).toBe(true)
      // Outcomes stored so far are those of calls that reached the racks.
      const executedThings = new Set(callsOf(pushed.crashed).map((call) => call.thingId))
      for (const target of Object.values(crashed?.payload[1] ?? {})) {
        for (const call of target.calls) if ('result' in call) expect(executedThings.has(call.id as string)).toBe(true)
      }
    })
  })

  it('history: bee `tail-log-aggr`, `…-day-<i>` keys hold day i before the last run; `…-date-…` keys are extra', async () => {
    const history = new Hyperbee<string, Buffer>(dataStore.get({ name: 'tail-log-aggr' }), { keyEncoding: 'utf-8' })
    try {
      const today = Math.floor(clock / DAY_MS) * DAY_MS
      for (let index = 0; index < HISTORY_DAYS; index++) {
        const entry = await history.get(`tail-log-miner-UTC-day-${index}`)
        const rows = JSON.parse(String(entry?.value)) as { ts: number; aggrTsRange: string; aggrCount: number }[]
        expect(rows).toHaveLength(1)
        const start = today - index * DAY_MS
        const end = index === 0 ? clock : start + DAY_MS
        expect(rows[0]).toMatchObject({ ts: 0, aggrTsRange: `${start}-${end}` })
        expect(rows[0]?.aggrCount).toBeGreaterThan(0)
      }
      expect(await history.get(`tail-log-miner-UTC-day-${HISTORY_DAYS}`)).toBeNull()
      const dateKeys: string[] = []
      for await (const entry of history.createReadStream({
        gte: 'tail-log-miner-UTC-date-',
        lt: 'tail-log-miner-UTC-date.',
      })) {
        dateKeys.push(entry.key)
      }
      expect(dateKeys).toEqual([
        'tail-log-miner-UTC-date-2024-03-03',
        'tail-log-miner-UTC-date-2024-03-04',
        'tail-log-miner-UTC-date-2024-03-05',
      ])
    } finally {
      await history.close()
    }
  })

  it('audit log: its own bee `ork-audit`, which the reference never opens', async () => {
    const audit = new Hyperbee<string, Record<string, unknown>>(dataStore.get({ name: 'ork-audit' }), {
      keyEncoding: 'utf-8',
      valueEncoding: 'json',
    })
    try {
      const methods = new Set<unknown>()
      for await (const entry of audit.createReadStream()) methods.add(entry.value.method)
      expect(methods).toEqual(new Set(['registerRack', 'pushAction', 'cancelActionsBatch', 'execute:reboot']))
    } finally {
      await audit.close()
    }
  })
})
