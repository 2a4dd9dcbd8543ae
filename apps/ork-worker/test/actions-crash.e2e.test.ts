import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@ork/logger'
import { type SimulatedSite, startSimulatedSite } from '@ork/rack-simulator'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet, type LoopbackTestnet } from '@ork/rpc-transport/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ActionLookup, waitFor } from './support/actions-helpers.ts'
import { createServiceRoot } from './support/harness.ts'
import { killWorkers, startWorker, workerArgs } from './support/worker-process.ts'

/**
 * The worker as a real process, killed with SIGKILL while actions are voting and
 * executing, then restarted on the same root: no accepted action may be lost or stuck,
 * and no device may receive the same call twice.
 */
const DEVICES_PER_ACTION = 10

let testnet: LoopbackTestnet
let root: string
let scratch: string
let site: SimulatedSite
let client: RpcNode

async function startCrashWorker(): Promise<{ child: ChildProcessWithoutNullStreams; key: string }> {
  const { child, keys } = await startWorker(workerArgs('crash', root), root)
  return { child, key: keys.rpcPublicKey }
}

beforeAll(async () => {
  testnet = await createLoopbackTestnet()
  root = createServiceRoot({ dhtOpts: testnet.dhtOpts })
  // slow calls, two at a time: an action on ten devices takes a few hundred ms
  writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 100, callTargetsLimit: 2 }))
  scratch = mkdtempSync(join(tmpdir(), 'ork-crash-'))
  site = await startSimulatedSite({
    dhtOpts: testnet.dhtOpts,
    racks: [{ type: 'miner-am-s19xp', count: 30, racks: 2, faults: { delayMs: 40 } }],
    seed: 3,
    rootDir: join(scratch, 'racks'),
  })
  client = new RpcNode({ storeDir: join(scratch, 'client'), dhtOpts: testnet.dhtOpts, logger: silentLogger })
  await client.ready()
})
afterAll(async () => {
  killWorkers()
  await client?.close()
  await site?.close()
  await testnet?.destroy()
  rmSync(root, { recursive: true, force: true })
  rmSync(scratch, { recursive: true, force: true })
})

describe('SIGKILL while actions vote and execute', () => {
  it('loses no accepted action, leaves none stuck, sends no call twice', async () => {
    let worker = await startCrashWorker()
    let caller = client
    const call = (method: string, data: unknown) => caller.request(worker.key, method, data, { timeout: 20_000 })
    for (const registration of site.registrations) await call('registerRack', registration)
    const things = (await call('listThings', { fields: { id: 1 }, limit: 1000 })) as { id: string }[]
    const ids = things.map((thing) => thing.id)

    const accepted: number[] = []
    // six device actions approved at once (one vote suffices), executed one after the other
    for (let index = 0; index < 6; index++) {
      const devices = ids.slice(index * DEVICES_PER_ACTION, (index + 1) * DEVICES_PER_ACTION)
      const reply = (await call('pushAction', {
        query: { id: { $in: devices } },
        action: index % 2 === 0 ? 'reboot' : 'setLED',
        params: index % 2 === 0 ? [] : [true],
        voter: 'joe',
        authPerms: ['miner:rw'],
      })) as { id: number }
      accepted.push(reply.id)
    }
    // three rack reboots waiting for a second vote
    const voting: number[] = []
    for (let index = 0; index < 3; index++) {
      const reply = (await call('pushAction', {
        query: {},
        action: 'rackReboot',
        params: [],
        voter: 'joe',
        authPerms: ['miner:rw'],
      })) as { id: number }
      voting.push(reply.id)
      accepted.push(reply.id)
    }

    // kill in the middle of the second device action
    await waitFor(
      async () => site.executedCalls().length,
      (count) => count >= DEVICES_PER_ACTION + DEVICES_PER_ACTION / 2,
      20_000,
    )
    worker.child.kill('SIGKILL')
    await new Promise((resolve) => worker.child.once('exit', resolve))
    const executedAtKill = site.executedCalls().length
    expect(executedAtKill).toBeLessThan(6 * DEVICES_PER_ACTION)

    worker = await startCrashWorker()
    // the pooled connection to the killed process is gone: a fresh client
    caller = new RpcNode({ storeDir: join(scratch, 'client-2'), dhtOpts: testnet.dhtOpts, logger: silentLogger })
    await caller.ready()
    // every accepted action is still there; none is left executing
    const all = await waitFor(
      async () => (await call('getActionsBatch', { ids: accepted })) as ActionLookup[],
      (found) =>
        found.length === accepted.length &&
        found.every(
          (entry) => (entry.type !== 'executing' && entry.type !== 'ready') || voting.includes(entry.action.id),
        ),
      20_000,
    )
    expect(all.map((entry) => entry.action.id)).toEqual(accepted)
    expect(all.filter((entry) => entry.type === 'voting').map((entry) => entry.action.id)).toEqual(voting)

    // the votes survived too: approving one now executes it
    expect(await call('voteAction', { id: voting[0], voter: 'ann', approve: true, authPerms: ['miner'] })).toBe(1)
    const rebooted = await waitFor(
      async () => ((await call('getActionsBatch', { ids: [voting[0]] })) as ActionLookup[])[0]!,
      (entry) => entry.type === 'done',
      20_000,
    )
    expect(rebooted.action.status).toBe('COMPLETED')

    const done = ((await call('getActionsBatch', { ids: accepted.slice(0, 6) })) as ActionLookup[]).map(
      (entry) => entry.action,
    )
    const interrupted = done.filter((action) => action.status === 'FAILED')
    expect(interrupted.length).toBeGreaterThanOrEqual(1)
    for (const action of interrupted) expect(action.error).toBe('ERR_ACTION_INTERRUPTED')
    for (const action of done) if (action.status !== 'FAILED') expect(action.status).toBe('COMPLETED')

    // no device got the same call twice, and what the store says happened did happen
    const executed = site.executedCalls()
    const seen = new Map<string, number>()
    for (const entry of executed) {
      const key = `${entry.actionId ?? entry.method}:${entry.rackId}:${entry.thingId ?? ''}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
    expect([...seen].filter(([, times]) => times > 1)).toEqual([])
    for (const action of done) {
      for (const [rackId, target] of Object.entries(action.targets)) {
        for (const deviceCall of target.calls) {
          const times = seen.get(`${action.id}:${rackId}:${deviceCall.id}`) ?? 0
          if ('result' in deviceCall) expect(times).toBe(1)
          else expect(deviceCall.error).toBe('ERR_ACTION_INTERRUPTED')
        }
      }
    }
    await caller.close()
    worker.child.kill('SIGTERM')
    await new Promise((resolve) => worker.child.once('exit', resolve))
  })
})
