import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SimulatedRack } from '@ork/rack-simulator'
import { describe, expect, it } from 'vitest'
import { type ActionLookup, remoteError, waitFor } from './support/actions-helpers.ts'
import { offsetWhereItIs, useProcessTestSite } from './support/process-site.ts'
import {
  type LogLine,
  logLines,
  type RunningWorker,
  spawnWorker,
  startWorker,
  workerArgs,
} from './support/worker-process.ts'

/**
 * The worker as a real process on a full disk. `ulimit -f` (RLIMIT_FSIZE) stands for the full
 * disk, without root or a small file system: a write that would grow a file past the limit
 * fails with EFBIG, as it fails with ENOSPC on a full disk. RocksDB (under corestore) reports
 * either the same way, and from its first failed write refuses every later one until the store
 * is opened again. The limit is per file, and RocksDB starts a new log at each open: the write
 * that meets the "full disk" is one that makes the log outgrow the limit (an action record or a
 * registration of more than a MiB), and a restart with no room at all runs with a limit of 0.
 */
const LIMIT_KIB = 2_048
/** A zone where it is about noon: its yesterday is over, whatever the time the test runs. */
const NOON_ZONE = { code: 'NOON', offset: offsetWhereItIs(12) }

const suite = useProcessTestSite({
  name: 'ork-disk-full',
  racks: [{ type: 'miner-am-s19xp', count: 2, racks: 3 }],
  seed: 5,
})
const newClient = () => suite.newClient()

/**
 * A service root on the testnet (its real path: the worker names its store by it): a fast
 * execution tick, the daily history of two days in one zone every second, and no automation
 * job (it would add writes of its own).
 */
function serviceRoot(): string {
  const root = suite.serviceRoot()
  writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 100 }))
  const aggrData = JSON.parse(readFileSync(join(root, 'config/aggr.data.json'), 'utf8')) as {
    aggrTailLogKeys: { type: string }[]
  }
  writeFileSync(
    join(root, 'config/aggr.data.json'),
    JSON.stringify({
      agrrTailLogIntvlMs: 1_000,
      aggrTailLogStoreDays: 2,
      aggrTailLogApiDelay: 1,
      aggrTailLogKeys: aggrData.aggrTailLogKeys.filter((entry) => entry.type === 'miner'),
    }),
  )
  const globalConfigPath = join(root, 'config/global.config.json')
  writeFileSync(
    globalConfigPath,
    JSON.stringify({ ...JSON.parse(readFileSync(globalConfigPath, 'utf8')), aggrTailLogTimezones: [NOON_ZONE] }),
  )
  return root
}

const REFUSAL_LINE = 'the data store refuses writes (disk full?)'

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) expect.fail(`${what}: not within ${timeoutMs} ms`)
    await sleep(10)
  }
}

/** Stops a worker as an operator does (SIGTERM) and returns its log. */
async function stop(worker: RunningWorker): Promise<string> {
  worker.child.kill('SIGTERM')
  const { code, stderr } = await worker.exited
  expect(code).toBe(0)
  return stderr
}

const deviceIds = async (rack: SimulatedRack) =>
  ((await rack.model.handle('listThings', { fields: { id: 1 } })) as { id: string }[]).map((thing) => thing.id)

/** A client of a worker, and the reads and writes the tests make through it. */
async function connect(worker: RunningWorker) {
  const client = await newClient()
  const call = (method: string, data: unknown) =>
    client.request(worker.keys.rpcPublicKey, method, data, { timeout: 10_000 })
  return {
    call,
    /** Actions by id, whatever their state. */
    actions: async (ids: number[]) =>
      new Map(((await call('getActionsBatch', { ids })) as ActionLookup[]).map((entry) => [entry.action.id, entry])),
    /** pushAction by joe (who may write to miners); the new action's id. */
    push: async (request: Record<string, unknown>) =>
      ((await call('pushAction', { voter: 'joe', authPerms: ['miner:rw'], ...request })) as { id: number }).id,
  }
}

/** A worker on a fresh root under the file size limit, connected, and one rack of the site with its devices. */
async function startOnSmallDisk(cluster: string, rackIndex: number) {
  const root = serviceRoot()
  const args = workerArgs(cluster, root)
  const rack = suite.site.racks[rackIndex] as SimulatedRack
  const devices = await deviceIds(rack)
  const worker = await startWorker(args, root, { fileSizeLimitKiB: LIMIT_KIB })
  return { root, args, rack, devices, worker, ...(await connect(worker)) }
}

/** The log lines written after the store's refusal, which must be there once. */
function afterRefusal(stderr: string): LogLine[] {
  expect(stderr).not.toMatch(/\n\s+at /)
  const log = logLines(stderr)
  expect(log.filter((line) => line.msg.startsWith(REFUSAL_LINE))).toEqual([
    expect.objectContaining({ level: 'error', code: 'EIO', reason: expect.stringMatching(/: File too large$/) }),
  ])
  return log.slice(log.findIndex((line) => line.msg.startsWith(REFUSAL_LINE)) + 1)
}

describe('a full disk', () => {
  it('stops a first start in one line, and the next start with room creates the stores', async () => {
    const root = serviceRoot()
    const args = workerArgs('first', root)
    const { exited } = spawnWorker(args, root, { fileSizeLimitKiB: 0 })
    const { code, stderr } = await exited
    expect(code).toBe(1)
    expect(stderr).toBe(
      `ork: failed to start: no room to write ${root}/store (disk full?): EFBIG: file too large, write\n`,
    )
    expect(existsSync(join(root, 'status/wrk-ork-proc-aggr-first.json'))).toBe(false)

    const worker = await startWorker(args, root)
    const { call } = await connect(worker)
    expect(await call('listRacks', {})).toEqual([])
    await stop(worker)
  })

  it('refuses the writes it cannot store, keeps serving reads, sends no action it could not start, loses nothing acknowledged', async () => {
    const started = await startOnSmallDisk('full', 1)
    const { root, args, rack, devices } = started
    let { worker, call, actions, push } = started

    // Before the disk fills: racks, a comment, the daily history, an action waiting for a vote.
    const spare = { id: 'spare-rack', type: 'sensor-spare', info: { rpcPublicKey: 'a'.repeat(64) } }
    for (const registration of [...suite.site.registrations, spare])
      expect(await call('registerRack', registration)).toBe(1)
    const comment = { rackId: rack.id, thingId: devices[0], comment: 'fan noisy', user: 'joe' }
    expect(await call('saveThingComment', comment)).toBe(1)
    await until(
      () => logLines(worker.stderr()).some((line) => line.msg === 'tail-log aggregation done' && line.done === 2),
      'the daily history stores both days',
    )
    const voting = await push({ query: {}, action: 'rackReboot', params: [] })

    // An approved action of 1.3 MB (its batch UID): stored, but its move to executing, as large,
    // is the write that fills the disk. It is not sent.
    const ready = await push({
      query: { id: devices[1] },
      action: 'setLED',
      params: [true],
      batchActionUID: 'u'.repeat(1_300_000),
    })
    await until(() => worker.stderr().includes(REFUSAL_LINE), 'the store refuses the move to executing')
    const refusedAt = Date.now()
    const before = await actions([voting, ready])
    expect([before.get(voting)?.type, before.get(ready)?.type]).toEqual(['voting', 'ready'])
    const audited = (await call('getAuditLog', { limit: 1000 })) as unknown[]

    // Every write is refused from then on, before any rack is asked.
    const received = (method: string) => rack.received.get(method) ?? 0
    const [comments, writeCalls] = [received('saveThingComment'), received('getWriteCalls')]
    const refused: [string, unknown][] = [
      ['registerRack', { id: 'late-rack', type: 'miner-late', info: { rpcPublicKey: 'c'.repeat(64) } }],
      ['forgetRacks', { ids: [spare.id] }],
      ['saveThingComment', { ...comment, comment: 'still noisy' }],
      [
        'pushAction',
        { query: { id: devices[0] }, action: 'reboot', params: [], voter: 'joe', authPerms: ['miner:rw'] },
      ],
      ['voteAction', { id: voting, voter: 'ann', approve: true, authPerms: ['miner'] }],
      ['cancelActionsBatch', { ids: [voting], voter: 'joe' }],
    ]
    for (const [method, request] of refused) {
      await expect(call(method, request), method).rejects.toEqual(remoteError('ERR_STORE_WRITE_FAILED'))
    }
    expect([received('saveThingComment'), received('getWriteCalls')]).toEqual([comments, writeCalls])

    // Reads go on.
    const racks = ((await call('listRacks', {})) as { id: string }[]).map((entry) => entry.id)
    expect(racks).toEqual([...suite.site.registrations.map((registration) => registration.id), spare.id].sort())
    expect(((await call('listThings', { fields: { id: 1 } })) as unknown[]).length).toBe(3 * devices.length)
    expect(await call('getAuditLog', { limit: 1000 })).toEqual(audited)

    // Several execution ticks and history periods later: neither job has tried to write again.
    await sleep(Math.max(0, refusedAt + 2_500 - Date.now()))
    expect(suite.site.executedCalls().filter((entry) => entry.actionId === ready)).toEqual([])
    const during = await actions([voting, ready])
    expect([during.get(voting)?.type, during.get(ready)?.type]).toEqual(['voting', 'ready'])
    const after = afterRefusal(await stop(worker))
    expect(after.filter((line) => line.msg === 'tail-log aggregation started')).toEqual([])
    expect(after.filter((line) => line.msg === 'could not start an action')).toEqual([
      expect.objectContaining({ id: ready, error: expect.objectContaining({ code: 'ERR_STORE_WRITE_FAILED' }) }),
    ])

    // A restart with no room at all: one line, and the status file is left as it was.
    const statusFile = join(root, 'status/wrk-ork-proc-aggr-full.json')
    const status = readFileSync(statusFile, 'utf8')
    const full = await spawnWorker(args, root, { fileSizeLimitKiB: 0 }).exited
    expect(full.code).toBe(1)
    expect(full.stderr).toMatch(
      new RegExp(`^ork: failed to start: no room to write ${root}/store \\(disk full\\?\\): [^\\n]*File too large\\n$`),
    )
    expect(readFileSync(statusFile, 'utf8')).toBe(status)

    // Space is back: a restart recovers everything acknowledged, and nothing refused.
    worker = await startWorker(args, root)
    ;({ call, actions } = await connect(worker))
    expect(((await call('listRacks', {})) as { id: string }[]).map((entry) => entry.id)).toEqual(racks)
    const settled = await waitFor(
      () => actions([voting, ready]),
      (found) => found.get(ready)?.type === 'done',
    )
    expect(settled.get(voting)).toMatchObject({ type: 'voting', action: { votesPos: ['joe'], votesNeg: [] } })
    // the action that could not start runs now, once
    expect(settled.get(ready)?.action.status).toBe('COMPLETED')
    expect(suite.site.executedCalls().filter((entry) => entry.actionId === ready)).toHaveLength(1)
    // every acknowledged write is audited, no refused one is; then the execution of the one that waited
    expect(await call('getAuditLog', { limit: 1000 })).toEqual([
      expect.objectContaining({ kind: 'execution', method: 'execute:setLED', actionIds: [ready], outcome: 'ok' }),
      ...audited,
    ])
    // the days stored before the disk filled are not fetched again: only today is
    await until(
      () => logLines(worker.stderr()).some((line) => line.msg === 'tail-log aggregation started'),
      'the daily history runs again',
    )
    expect(logLines(worker.stderr()).find((line) => line.msg === 'tail-log aggregation started')?.todo).toBe(1)
    const restarted = logLines(await stop(worker))
    expect(restarted.filter((line) => line.level === 'error')).toEqual([])
  }, 60_000)

  it('refuses a request that meets the full disk, and ends an action executing then as interrupted at the next start', async () => {
    const started = await startOnSmallDisk('busy', 2)
    const { root, args, rack, devices } = started
    let { worker, call, actions, push } = started
    expect(await call('registerRack', rack.registration())).toBe(1)
    // its calls are held by the rack until the rack closes: it is executing when the disk fills
    rack.setFaults({ neverAnswer: ['queryThing'] })
    const executing = await push({ query: { id: { $in: devices } }, action: 'reboot', params: [] })
    await until(() => (rack.received.get('queryThing') ?? 0) === devices.length, 'the calls of the action')

    const filler = {
      id: 'filler',
      type: 'miner-filler',
      info: { rpcPublicKey: 'b'.repeat(64), blob: 'x'.repeat(1_300_000) },
    }
    await expect(call('registerRack', { ...filler, id: 'fits' })).resolves.toBe(1)
    await expect(call('registerRack', filler)).rejects.toEqual(remoteError('ERR_STORE_WRITE_FAILED'))
    await expect(call('forgetRacks', { ids: ['fits'] })).rejects.toEqual(remoteError('ERR_STORE_WRITE_FAILED'))
    expect(((await call('listRacks', {})) as { id: string }[]).map((entry) => entry.id)).toEqual(['fits', rack.id])

    // The calls end (with the rack); the outcomes, the audit entry and the move to done are refused.
    await rack.close()
    await until(
      () => logLines(worker.stderr()).some((line) => line.msg.startsWith('could not finish an action')),
      'the executing action ends',
    )
    expect((await actions([executing])).get(executing)?.type).toBe('executing')
    const after = afterRefusal(await stop(worker))
    expect(after.filter((line) => line.msg === 'checkpoint failed')).toEqual([
      expect.objectContaining({ id: executing, error: expect.objectContaining({ code: 'ERR_STORE_WRITE_FAILED' }) }),
    ])

    worker = await startWorker(args, root)
    ;({ call, actions } = await connect(worker))
    expect(((await call('listRacks', {})) as { id: string }[]).map((entry) => entry.id)).toEqual(['fits', rack.id])
    const ended = (await actions([executing])).get(executing)
    expect(ended).toMatchObject({ type: 'done', action: { status: 'FAILED', error: 'ERR_ACTION_INTERRUPTED' } })
    expect(ended?.action.targets[rack.id]?.calls.map((deviceCall) => deviceCall.error)).toEqual(
      devices.map(() => 'ERR_ACTION_INTERRUPTED'),
    )
    expect(suite.site.executedCalls().filter((entry) => entry.actionId === executing)).toEqual([])
    // the closed rack would only cost the history job its deadlines
    expect(await call('forgetRacks', { ids: [rack.id] })).toBe(1)
    await stop(worker)
  }, 60_000)
})
