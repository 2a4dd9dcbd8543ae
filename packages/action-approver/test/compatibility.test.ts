import type Hyperbee from 'hyperbee'
import { afterEach, describe, expect, it } from 'vitest'
import { ActionApprover, type ActionRecord, encodeActionId, MAX_ACTION_ID, normalizeActionId } from '../src/index.ts'
import { collect, openStore, type TestStore } from './store.ts'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Writes a record exactly as the reference did: `bee.sub('actions:<state>')`, writeUIntBE key, JSON string value. */
async function referenceWrite(bee: Hyperbee, state: string, record: Record<string, unknown>): Promise<void> {
  const key = Buffer.alloc(6)
  key.writeUIntBE(record.id as number, 0, 6)
  await bee.sub(`actions:${state}`).put(key, Buffer.from(JSON.stringify(record)))
}

async function referenceRead(bee: Hyperbee, state: string, id: number): Promise<ActionRecord | null> {
  const key = Buffer.alloc(6)
  key.writeUIntBE(id, 0, 6)
  const entry = await bee.sub(`actions:${state}`).get(key)
  return entry ? (JSON.parse(entry.value.toString()) as ActionRecord) : null
}

async function openApprover(store: TestStore, worker: object) {
  const approver = new ActionApprover()
  approver.initWrk(worker)
  await approver.initDb(store.bee)
  cleanups.push(() => approver.close())
  return approver
}

const base = {
  action: 'ping',
  votesNeg: [],
  reqVotesNeg: 1,
}

describe('key encoding', () => {
  it('matches writeUIntBE and the verified example', () => {
    expect(encodeActionId(1795836477651).toString('hex')).toBe('01a2203200d3')
    expect(normalizeActionId('1795836477651')).toBe(1795836477651)
    expect(normalizeActionId(1795836477651.7)).toBe(1795836477651)
    expect(normalizeActionId('abc')).toBe(0)
    expect(normalizeActionId(-1)).toBeNull()
    expect(normalizeActionId(2 ** 48)).toBeNull()
    expect(normalizeActionId(MAX_ACTION_ID)).toBe(MAX_ACTION_ID)
  })

  it('writes under the raw keys actions:<state> 0x00 id of the root bee', async () => {
    const store = await openStore()
    cleanups.push(() => store.destroy())
    const approver = await openApprover(store, { ping: () => 2 })
    const record = await approver.pushAction({ action: 'ping', payload: [[]], voter: 'joe', reqVotes: 1 })
    const raw = await collect(store.bee.createReadStream())
    expect(raw.map((entry) => entry.key.toString('hex'))).toEqual([
      `${Buffer.from('actions:ready').toString('hex')}00${encodeActionId(record.id).toString('hex')}`,
    ])
    await approver.execActions()
    const after = await collect(store.bee.createReadStream())
    expect(after.map((entry) => entry.key.toString('hex'))).toEqual([
      `${Buffer.from('actions:done').toString('hex')}00${encodeActionId(record.id).toString('hex')}`,
    ])
    expect(JSON.parse(after[0]!.value.toString())).toEqual({
      id: record.id,
      action: 'ping',
      payload: [[]],
      votesPos: ['joe'],
      votesNeg: [],
      reqVotesPos: 1,
      reqVotesNeg: 1,
      status: 'COMPLETED',
      result: 2,
    })
  })

  it('works under a sub-bee the way the reference nests subs', async () => {
    const store = await openStore()
    cleanups.push(() => store.destroy())
    const nested = store.bee.sub('tenant')
    const approver = new ActionApprover({ bee: nested })
    approver.initWrk({ ping: () => 1 })
    cleanups.push(() => approver.close())
    const record = await approver.pushAction({ action: 'ping', payload: [[]], voter: 'joe', reqVotes: 2 })
    expect(await referenceRead(nested, 'voting', record.id)).toMatchObject({ id: record.id, status: 'VOTING' })
  })
})

describe('a store written by the reference', () => {
  it('opens and its actions carry on', async () => {
    const first = await openStore()
    const now = Date.now() - 10_000
    await referenceWrite(first.bee, 'voting', {
      id: now,
      batchActionUID: `${now}-u1`,
      ...base,
      payload: [[1], { rack1: { reqVotes: 2, calls: [{ id: 't1', tags: [] }] } }, ['miner']],
      votesPos: ['joe'],
      reqVotesPos: 2,
      status: 'VOTING',
    })
    await referenceWrite(first.bee, 'ready', {
      id: now + 1,
      ...base,
      payload: [[2], {}, []],
      votesPos: [7],
      reqVotesPos: 1,
      status: 'APPROVED',
    })
    await referenceWrite(first.bee, 'done', {
      id: now + 2,
      ...base,
      payload: [[3]],
      votesPos: ['joe'],
      reqVotesPos: 1,
      status: 'COMPLETED',
      result: 6,
    })
    await referenceWrite(first.bee, 'executing', {
      id: now + 3,
      ...base,
      payload: [
        [],
        { rack1: { reqVotes: 1, calls: [{ id: 'a', result: 'ok' }, { id: 'b' }, { id: 'c', error: 'x' }] } },
      ],
      votesPos: ['joe'],
      reqVotesPos: 1,
      status: 'EXECUTING',
    })
    await first.close()

    const store = await openStore(first.dir)
    cleanups.push(() => store.destroy())
    const calls: unknown[][] = []
    const approver = await openApprover(store, {
      ping: (...args: unknown[]) => {
        calls.push(args)
        return 'pong'
      },
    })
    expect(await collect(approver.query('executing'))).toEqual([])
    expect(await referenceRead(store.bee, 'done', now + 3)).toMatchObject({
      status: 'FAILED',
      error: 'ERR_ACTION_INTERRUPTED',
      payload: [
        [],
        {
          rack1: {
            reqVotes: 1,
            calls: [
              { id: 'a', result: 'ok' },
              { id: 'b', error: 'ERR_ACTION_INTERRUPTED' },
              { id: 'c', error: 'x' },
            ],
          },
        },
      ],
    })
    expect(await referenceRead(store.bee, 'done', now + 2)).toMatchObject({ status: 'COMPLETED', result: 6 })

    await approver.voteAction({ id: now, voter: 'ann', approve: true })
    await approver.execActions()
    expect(calls).toEqual([
      [[1, { actionId: now, user: 'joe' }], { rack1: { reqVotes: 2, calls: [{ id: 't1', tags: [] }] } }, ['miner']],
      [[2, { actionId: now + 1, user: 7 }], {}, []],
    ])
    expect(await referenceRead(store.bee, 'done', now)).toMatchObject({
      batchActionUID: `${now}-u1`,
      votesPos: ['joe', 'ann'],
      status: 'COMPLETED',
      result: 'pong',
    })
    expect(await referenceRead(store.bee, 'ready', now + 1)).toBeNull()
    const pushed = await approver.pushAction({ action: 'ping', payload: [[]], voter: 'joe', reqVotes: 1 })
    expect(pushed.id).toBeGreaterThan(now + 3)
  })

  it('repairs the reference crash windows without running anything twice', async () => {
    const first = await openStore()
    const now = Date.now() - 10_000
    const record = (id: number, status: string) => ({
      id,
      ...base,
      payload: [[]],
      votesPos: ['joe'],
      reqVotesPos: 1,
      status,
    })
    // Died after "put executing", before "delete ready": the reference would run it again.
    await referenceWrite(first.bee, 'executing', record(now, 'EXECUTING'))
    await referenceWrite(first.bee, 'ready', record(now, 'APPROVED'))
    // Died after "put done", before "delete executing".
    await referenceWrite(first.bee, 'done', { ...record(now + 1, 'COMPLETED'), result: 1 })
    await referenceWrite(first.bee, 'executing', record(now + 1, 'EXECUTING'))
    // A ready copy of an action already done (left by a reference double run).
    await referenceWrite(first.bee, 'done', { ...record(now + 2, 'COMPLETED'), result: 2 })
    await referenceWrite(first.bee, 'ready', record(now + 2, 'APPROVED'))
    await first.close()

    const store = await openStore(first.dir)
    cleanups.push(() => store.destroy())
    let runs = 0
    const approver = await openApprover(store, { ping: () => ++runs })
    await approver.execActions()
    expect(runs).toBe(0)
    expect(await collect(approver.query('ready'))).toEqual([])
    expect(await collect(approver.query('executing'))).toEqual([])
    const done = await collect(approver.query('done'))
    expect(done.map((entry) => [entry.id, entry.status, entry.error ?? entry.result])).toEqual([
      [now, 'FAILED', 'ERR_ACTION_INTERRUPTED'],
      [now + 1, 'COMPLETED', 1],
      [now + 2, 'COMPLETED', 2],
    ])
  })

  it('keeps per-call progress written by checkpoints when the process dies mid-execution', async () => {
    const first = await openStore()
    const approver = new ActionApprover({
      executor: {
        hasAction: () => true,
        async execute(_action, args, context) {
          const targets = args[1] as Record<string, { calls: Array<Record<string, unknown>> }>
          targets.r!.calls[0]!.result = 'sent'
          await context.checkpoint()
          await new Promise(() => {})
        },
      },
    })
    await approver.initDb(first.bee)
    cleanups.push(() => approver.close())
    const targets = { r: { calls: [{ id: 'a' }, { id: 'b' }] } }
    const record = await approver.pushAction({ action: 'x', payload: [[], targets], voter: 'joe', reqVotes: 1 })
    void approver.execActions()
    const deadline = Date.now() + 5_000
    const progressed = async () => {
      const stored = await referenceRead(first.bee, 'executing', record.id)
      return (
        (stored?.payload[1] as typeof targets | undefined)?.r.calls[0] !== undefined &&
        'result' in (stored!.payload[1] as typeof targets).r.calls[0]!
      )
    }
    while (!(await progressed())) {
      if (Date.now() > deadline) throw new Error('no checkpoint')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    // Simulate the process dying: the store is closed under the running approver, which is never closed.
    await first.close()

    const store = await openStore(first.dir)
    cleanups.push(() => store.destroy())
    const reopened = await openApprover(store, {})
    const { data } = await reopened.getAction('done', record.id)
    expect(data).toMatchObject({
      status: 'FAILED',
      error: 'ERR_ACTION_INTERRUPTED',
      payload: [
        [],
        {
          r: {
            calls: [
              { id: 'a', result: 'sent' },
              { id: 'b', error: 'ERR_ACTION_INTERRUPTED' },
            ],
          },
        },
      ],
    })
  })
})
