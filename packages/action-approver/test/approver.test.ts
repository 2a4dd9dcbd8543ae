import { isOrkError } from '@ork/errors'
import { createLogger } from '@ork/logger'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ACTION_STATUS,
  ActionApprover,
  type ActionApproverOptions,
  type ActionExecutor,
  type ActionRecord,
  type ActionState,
  MAX_ACTION_RECORD_BYTES,
  markUnfinishedTargetCalls,
  type PushActionOptions,
} from '../src/index.ts'
import { collect, openStore, type TestStore } from './store.ts'

const opened: Array<{ approver: ActionApprover; store: TestStore }> = []

afterEach(async () => {
  for (const { approver, store } of opened.splice(0)) {
    await approver.close()
    await store.destroy()
  }
})

async function setup(options: ActionApproverOptions = {}, worker: object = { ping: (...args: unknown[]) => args }) {
  const store = await openStore()
  const approver = new ActionApprover(options)
  await approver.initDb(store.bee)
  if (!options.executor) approver.initWrk(worker)
  opened.push({ approver, store })
  return { approver, store }
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    expect(isOrkError(error)).toBe(true)
    return (error as Error).message
  }
  throw new Error('expected a rejection')
}

const push = (approver: ActionApprover, overrides: Partial<PushActionOptions> & Record<string, unknown> = {}) =>
  approver.pushAction({
    action: 'ping',
    payload: [[1, 2], { rack: 'x' }, ['perm']],
    voter: 'joe',
    reqVotesPos: 2,
    reqVotesNeg: 1,
    ...overrides,
  } as PushActionOptions)

describe('pushAction', () => {
  it('rejects bad input in the reference order with the reference codes', async () => {
    const { approver } = await setup()
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ action: undefined }, 'ERR_ACTION_INVALID'],
      [{ action: '   ' }, 'ERR_ACTION_INVALID'],
      [{ action: 42 }, 'ERR_ACTION_INVALID'],
      [{ action: 'nope', payload: 'garbage' }, 'ERR_ACTION_UNKOWN'],
      [{ payload: 'garbage', voter: 0 }, 'ERR_PAYLOAD_INVALID'],
      [{ payload: [] }, 'ERR_PAYLOAD_INVALID'],
      [{ payload: [5] }, 'ERR_PAYLOAD_INVALID'],
      [{ payload: [[1n]] }, 'ERR_PAYLOAD_INVALID'],
      [{ voter: 0 }, 'ERR_VOTER_INVALID'],
      [{ voter: 1.5 }, 'ERR_VOTER_INVALID'],
      [{ voter: '  ' }, 'ERR_VOTER_INVALID'],
      [{ voter: { name: 'joe' } }, 'ERR_VOTER_INVALID'],
      [{ voter: undefined }, 'ERR_VOTER_INVALID'],
      [{ reqVotes: 2 }, 'ERR_REQ_VOTES_CONFLICT'],
      [{ reqVotesPos: undefined, reqVotesNeg: undefined }, 'ERR_REQ_VOTES_POS_INVALID'],
      [{ reqVotesPos: '2' }, 'ERR_REQ_VOTES_POS_INVALID'],
      [{ reqVotesPos: 1.5 }, 'ERR_REQ_VOTES_POS_INVALID'],
      [{ reqVotesPos: -1 }, 'ERR_REQ_VOTES_POS_INVALID'],
      [{ reqVotesNeg: undefined }, 'ERR_REQ_VOTES_NEG_INVALID'],
      [{ reqVotesNeg: -1 }, 'ERR_REQ_VOTES_NEG_INVALID'],
    ]
    for (const [overrides, code] of cases) {
      expect(
        await rejection(push(approver, overrides)),
        JSON.stringify(overrides, (_k, v) => String(v)),
      ).toBe(code)
    }
    expect(await rejection(approver.pushAction(undefined as unknown as PushActionOptions))).toBe('ERR_ACTION_INVALID')
    expect(await collect(approver.query('voting'))).toEqual([])
    expect(await collect(approver.query('ready'))).toEqual([])
  })

  it('accepts reqVotes alone and reqVotes 0 next to explicit thresholds', async () => {
    const { approver } = await setup()
    const both = await push(approver, { reqVotesPos: undefined, reqVotesNeg: undefined, reqVotes: 3 })
    expect([both.reqVotesPos, both.reqVotesNeg]).toEqual([3, 3])
    const zero = await push(approver, { reqVotes: 0 })
    expect([zero.reqVotesPos, zero.reqVotesNeg]).toEqual([2, 1])
    // 0 is falsy: reqVotes stands in for it, as in the reference
    const zeroThresholds = await push(approver, { reqVotesPos: 0, reqVotesNeg: 0, reqVotes: 3 })
    expect([zeroThresholds.reqVotesPos, zeroThresholds.reqVotesNeg]).toEqual([3, 3])
  })

  it('counts inherited worker methods as known, like the reference', async () => {
    const { approver } = await setup()
    await expect(push(approver, { action: 'toString' })).resolves.toMatchObject({ action: 'toString' })
  })

  it('stores the record with the reference field order, batchActionUID absent when not given', async () => {
    const { approver, store } = await setup()
    const record = await push(approver)
    expect(Object.keys(record)).toEqual([
      'id',
      'batchActionUID',
      'action',
      'payload',
      'votesPos',
      'votesNeg',
      'reqVotesPos',
      'reqVotesNeg',
      'status',
    ])
    expect(record.batchActionUID).toBeUndefined()
    const raw = await store.bee.sub('actions:voting').get(record.id === 0 ? Buffer.alloc(6) : idKey(record.id))
    expect(JSON.parse(raw!.value.toString())).toEqual({
      id: record.id,
      action: 'ping',
      payload: [[1, 2], { rack: 'x' }, ['perm']],
      votesPos: ['joe'],
      votesNeg: [],
      reqVotesPos: 2,
      reqVotesNeg: 1,
      status: 'VOTING',
    })
    const batched = await push(approver, { batchActionUID: '1700000000000-abc' })
    expect((await approver.getAction('voting', batched.id)).data.batchActionUID).toBe('1700000000000-abc')
  })

  it('puts an action whose creator vote suffices straight into ready as APPROVED', async () => {
    const { approver } = await setup()
    const record = await push(approver, { reqVotesPos: 1 })
    expect(record.status).toBe('APPROVED')
    expect((await approver.getAction('ready', record.id)).data.status).toBe('APPROVED')
    expect(await rejection(approver.getAction('voting', record.id))).toBe('ERR_ACTION_ID_NOT_FOUND')
  })

  it('refuses a record the store could not take with ERR_ACTION_TOO_LARGE, to the byte, storing nothing', async () => {
    const { approver } = await setup()
    const sized = (fill: number) => push(approver, { payload: [[1, 2], { rack: 'x'.repeat(fill) }, ['perm']] })
    // The stored record is the JSON of the returned one: its size without the fill.
    const overhead = JSON.stringify(await sized(0)).length
    const largest = await sized(MAX_ACTION_RECORD_BYTES - overhead)
    expect(await rejection(sized(MAX_ACTION_RECORD_BYTES - overhead + 1))).toBe('ERR_ACTION_TOO_LARGE')
    expect(await collect(approver.query('voting'))).toHaveLength(2)
    const stored = (await approver.getAction('voting', largest.id)).data
    expect(Buffer.byteLength(JSON.stringify(stored))).toBe(MAX_ACTION_RECORD_BYTES)
  })

  it('gives unique increasing ids without sleeping, even when pushed concurrently', async () => {
    const { approver } = await setup()
    const started = Date.now()
    const records = await Promise.all(Array.from({ length: 200 }, () => push(approver)))
    expect(Date.now() - started).toBeLessThan(5_000)
    const ids = records.map((record) => record.id)
    expect(new Set(ids).size).toBe(200)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(Math.abs(ids[0]! - started)).toBeLessThan(1_000)
    expect(await collect(approver.query('voting'))).toHaveLength(200)
  })

  it('never reuses an id found in the store when the clock went backwards', async () => {
    const store = await openStore()
    const future = Date.now() + 3_600_000
    await store.bee.sub('actions:done').put(idKey(future), Buffer.from(JSON.stringify({ id: future })))
    const approver = new ActionApprover()
    opened.push({ approver, store })
    approver.initWrk({ ping() {} })
    await approver.initDb(store.bee)
    const record = await push(approver)
    expect(record.id).toBe(future + 1)
  })
})

describe('voteAction', () => {
  it('follows the worked example of the spec (approvals)', async () => {
    const calls: unknown[][] = []
    const ping = (...args: unknown[]) => {
      calls.push(args)
      return 2
    }
    const { approver } = await setup({}, { ping })
    const record = await push(approver, { reqVotesPos: 3, reqVotesNeg: 3 })
    await approver.voteAction({ id: record.id, voter: 'john', approve: true })
    await approver.voteAction({ id: record.id, voter: 'jane', approve: false })
    let voting = (await approver.getAction('voting', record.id)).data
    expect([voting.votesPos, voting.votesNeg, voting.status]).toEqual([['joe', 'john'], ['jane'], 'VOTING'])
    await approver.voteAction({ id: record.id, voter: 'mike', approve: true })
    expect(await rejection(approver.getAction('voting', record.id))).toBe('ERR_ACTION_ID_NOT_FOUND')
    voting = (await approver.getAction('ready', record.id)).data
    expect(voting.status).toBe('APPROVED')
    expect(voting.votesPos).toEqual(['joe', 'john', 'mike'])
    expect(await approver.execActions()).toBe(true)
    expect(calls).toEqual([[[1, 2, { actionId: record.id, user: 'joe' }], { rack: 'x' }, ['perm']]])
    const done = (await approver.getAction('done', record.id)).data
    expect(done).toMatchObject({ status: 'COMPLETED', result: 2, payload: [[1, 2], { rack: 'x' }, ['perm']] })
  })

  it('follows the worked example of the spec (denials)', async () => {
    const { approver } = await setup()
    const record = await push(approver, { reqVotesPos: 3, reqVotesNeg: 3 })
    for (const voter of ['john', 'jane', 'mike']) await approver.voteAction({ id: record.id, voter, approve: false })
    const done = (await approver.getAction('done', record.id)).data
    expect(done).toMatchObject({ status: 'DENIED', votesPos: ['joe'], votesNeg: ['john', 'jane', 'mike'] })
  })

  it('lets one denial kill the action when reqVotesNeg is 1', async () => {
    const { approver } = await setup()
    const record = await push(approver)
    await approver.voteAction({ id: record.id, voter: 'jane', approve: false })
    expect((await approver.getAction('done', record.id)).data.status).toBe('DENIED')
  })

  it('refuses double votes, the creator, bad voters, bad approve values and unknown ids', async () => {
    const { approver } = await setup()
    const record = await push(approver, { reqVotesPos: 3, reqVotesNeg: 3 })
    expect(await rejection(approver.voteAction({ id: record.id, voter: 'joe', approve: false }))).toBe(
      'ERR_VOTER_EXISTS',
    )
    await approver.voteAction({ id: record.id, voter: 1, approve: 1 as unknown as boolean })
    expect(await rejection(approver.voteAction({ id: record.id, voter: 1, approve: true }))).toBe('ERR_VOTER_EXISTS')
    await approver.voteAction({ id: record.id, voter: '1', approve: 0 as unknown as boolean })
    // a voter who denied cannot approve too (nor a creator deny, above)
    expect(await rejection(approver.voteAction({ id: record.id, voter: '1', approve: true }))).toBe('ERR_VOTER_EXISTS')
    const bad = (voter: unknown, approve: unknown = true, id: unknown = record.id) =>
      rejection(approver.voteAction({ id, voter, approve } as never))
    expect(await bad(undefined)).toBe('ERR_VOTER_INVALID')
    expect(await bad(0)).toBe('ERR_VOTER_INVALID')
    expect(await bad(' ')).toBe('ERR_VOTER_INVALID')
    expect(await bad('amy', 'false')).toBe('ERR_APPROVE_INVALID')
    expect(await bad('amy', null)).toBe('ERR_APPROVE_INVALID')
    expect(await bad('amy', true, record.id + 1)).toBe('ERR_ACTION_ID_NOT_FOUND')
    expect(await bad('amy', true, -1)).toBe('ERR_ACTION_ID_NOT_FOUND')
    expect(await bad('amy', true, 2 ** 48)).toBe('ERR_ACTION_ID_NOT_FOUND')
    expect(await bad('amy', true, 'abc')).toBe('ERR_ACTION_ID_NOT_FOUND')
    expect(await rejection(approver.voteAction(null as never))).toBe('ERR_VOTER_INVALID')
    await expect(approver.voteAction({ id: String(record.id) as never, voter: 'amy', approve: true })).resolves.toBe(
      undefined,
    )
    expect((await approver.getAction('ready', record.id)).data.votesPos).toEqual(['joe', 1, 'amy'])
    expect(await bad('bob')).toBe('ERR_ACTION_ID_NOT_FOUND')
  })

  it('counts every one of many concurrent votes (the reference lost all but one)', async () => {
    const { approver } = await setup()
    const record = await push(approver, { reqVotesPos: 100, reqVotesNeg: 100 })
    const voters = Array.from({ length: 60 }, (_, index) => `voter-${index}`)
    await Promise.all(
      voters.map((voter, index) => approver.voteAction({ id: record.id, voter, approve: index % 2 === 0 })),
    )
    const { data } = await approver.getAction('voting', record.id)
    expect(data.votesPos).toHaveLength(31)
    expect(data.votesNeg).toHaveLength(30)
  })

  it('moves exactly once when concurrent votes cross the threshold together', async () => {
    const { approver } = await setup()
    const record = await push(approver, { reqVotesPos: 3 })
    const outcomes = await Promise.allSettled(
      ['a', 'b', 'c', 'd'].map((voter) => approver.voteAction({ id: record.id, voter, approve: true })),
    )
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected'])
    expect((await approver.getAction('ready', record.id)).data.votesPos).toEqual(['joe', 'a', 'b'])
  })
})

describe('cancel', () => {
  it('lets only the creator cancel, only in voting, and keeps the votes', async () => {
    const { approver } = await setup()
    const record = await push(approver, { reqVotesPos: 3 })
    await approver.voteAction({ id: record.id, voter: 'john', approve: true })
    expect(await rejection(approver.cancelAction({ id: record.id, voter: 'john' }))).toBe('ERR_CALLER_NOT_CREATOR')
    await approver.cancelAction({ id: record.id, voter: 'joe' })
    expect((await approver.getAction('done', record.id)).data).toMatchObject({
      status: 'DENIED',
      votesPos: ['joe', 'john'],
    })
    expect(await rejection(approver.cancelAction({ id: record.id, voter: 'joe' }))).toBe('ERR_ACTION_ID_NOT_FOUND')
    const ready = await push(approver, { reqVotesPos: 1 })
    expect(await rejection(approver.cancelAction({ id: ready.id, voter: 'joe' }))).toBe('ERR_ACTION_ID_NOT_FOUND')
  })

  it('cancels a batch, one result per id in input order', async () => {
    const { approver } = await setup()
    const ids: number[] = []
    for (let index = 0; index < 30; index++) ids.push((await push(approver)).id)
    const other = await push(approver, { voter: 'ann' })
    const results = await approver.cancelActionsBatch({ ids: [...ids, other.id, 123], voter: 'joe' })
    expect(results.slice(0, 30)).toEqual(ids.map((id) => ({ id, success: true })))
    expect(results[30]).toEqual({
      id: other.id,
      success: false,
      error: `ERR_CANCEL_BATCH_ACTION-ID-${other.id} ERR_CALLER_NOT_CREATOR`,
    })
    expect(results[31]).toEqual({
      id: 123,
      success: false,
      error: 'ERR_CANCEL_BATCH_ACTION-ID-123 ERR_ACTION_ID_NOT_FOUND',
    })
    expect(await collect(approver.query('done'))).toHaveLength(30)
    expect(await rejection(approver.cancelActionsBatch({ ids: 'x' as never, voter: 'joe' }))).toBe('ERR_IDS_INVALID')
  })
})

describe('reading', () => {
  it('getAction echoes the id, returns the 6-byte key, and rejects unknown states', async () => {
    const { approver } = await setup()
    const record = await push(approver)
    const found = await approver.getAction('voting', String(record.id) as never)
    expect(found.id).toBe(String(record.id))
    expect(found.key).toEqual(idKey(record.id))
    expect(found.data.id).toBe(record.id)
    expect(await rejection(approver.getAction('nope' as never, record.id))).toBe('ERR_SUBDB_UNKOWN')
    expect(await rejection(approver.getAction('done', record.id))).toBe('ERR_ACTION_ID_NOT_FOUND')
  })

  it('queries ranges, limits and reverse order without touching the caller objects', async () => {
    const { approver } = await setup()
    const ids: number[] = []
    for (let index = 0; index < 10; index++) ids.push((await push(approver)).id)
    const idsOf = (records: ActionRecord[]) => records.map((record) => record.id)
    expect(idsOf(await collect(approver.query('voting')))).toEqual(ids)
    const range = { gte: ids[2]!, lt: ids[6]! }
    expect(idsOf(await collect(approver.query('voting', range)))).toEqual(ids.slice(2, 6))
    expect(range).toEqual({ gte: ids[2], lt: ids[6] })
    expect(idsOf(await collect(approver.query('voting', { gt: ids[2]!, lte: ids[6]! })))).toEqual(ids.slice(3, 7))
    expect(idsOf(await collect(approver.query('voting', {}, { limit: 3, reverse: true })))).toEqual(
      ids.slice(-3).reverse(),
    )
    expect(idsOf(await collect(approver.query('voting', { limit: 2 })))).toEqual(ids.slice(0, 2))
    expect(await collect(approver.query('voting', { limit: 0 }))).toEqual([])
    expect(idsOf(await collect(approver.query('voting', { gt: 0 })))).toEqual(ids)
    expect(idsOf(await collect(approver.query('voting', { gte: -5, lt: 2 ** 50 })))).toEqual(ids)
    expect(await collect(approver.query('voting', { lt: 0 }))).toEqual([])
    // as the reference's key encoder and hyperbee: numeric strings, `gt` over `gte`, `lt` over
    // `lte`, `reverse` by truthiness
    expect(idsOf(await collect(approver.query('voting', { gte: String(ids[8]) })))).toEqual(ids.slice(8))
    expect(idsOf(await collect(approver.query('voting', { lt: String(ids[1]) })))).toEqual(ids.slice(0, 1))
    expect(idsOf(await collect(approver.query('voting', { gt: ids[7]!, gte: ids[1]! })))).toEqual(ids.slice(8))
    expect(idsOf(await collect(approver.query('voting', { lt: ids[1]!, lte: ids[8]! })))).toEqual(ids.slice(0, 1))
    expect(idsOf(await collect(approver.query('voting', {}, { limit: 1, reverse: 1 as never })))).toEqual(ids.slice(-1))
    expect(await collect(approver.query('ready'))).toEqual([])
    const generator = approver.query('bogus' as never)
    expect(await rejection(generator.next())).toBe('ERR_SUBDB_UNKOWN')
  })
})

describe('execution', () => {
  it('records util.format of a thrown error, and a thrown string as is', async () => {
    const { approver } = await setup(
      {},
      {
        fail: () => {
          throw new Error('ERR_NAILED')
        },
        reject: async () => {
          throw 'plain text'
        },
      },
    )
    const failed = await approver.pushAction({ action: 'fail', payload: [[]], voter: 'joe', reqVotes: 1 })
    const rejected = await approver.pushAction({ action: 'reject', payload: [[]], voter: 'joe', reqVotes: 1 })
    await approver.execActions()
    const failedRecord = (await approver.getAction('done', failed.id)).data
    expect(failedRecord.status).toBe('FAILED')
    expect(failedRecord.error?.startsWith('Error: ERR_NAILED\n    at ')).toBe(true)
    expect((await approver.getAction('done', rejected.id)).data).toMatchObject({
      status: 'FAILED',
      error: 'plain text',
    })
  })

  it('omits an undefined result and runs ready actions oldest first, one at a time', async () => {
    const order: string[] = []
    let running = 0
    const { approver } = await setup(
      {},
      {
        async step(params: unknown[]) {
          running++
          expect(running).toBe(1)
          await new Promise((resolve) => setTimeout(resolve, 5))
          order.push(String(params[0]))
          running--
        },
      },
    )
    const ids: number[] = []
    for (const name of ['a', 'b', 'c']) {
      ids.push((await approver.pushAction({ action: 'step', payload: [[name]], voter: 'joe', reqVotes: 1 })).id)
    }
    await approver.execActions()
    expect(order).toEqual(['a', 'b', 'c'])
    for (const id of ids) {
      const { data } = await approver.getAction('done', id)
      expect(data.status).toBe('COMPLETED')
      expect('result' in data).toBe(false)
    }
  })

  it('returns false for a pass while another one runs', async () => {
    let release!: () => void
    const { approver } = await setup({}, { wait: () => new Promise<void>((resolve) => (release = resolve)) })
    await approver.pushAction({ action: 'wait', payload: [[]], voter: 'joe', reqVotes: 1 })
    const first = approver.execActions()
    await waitFor(() => release !== undefined)
    expect(await approver.execActions()).toBe(false)
    release()
    expect(await first).toBe(true)
  })

  it('runs every ready action in one pass, past the first page of the ready list', async () => {
    const { approver } = await setup()
    const ids: number[] = []
    // one more than a page (256): the pass must read on after a full page
    for (let index = 0; index < 257; index++) ids.push((await push(approver, { reqVotesPos: 1 })).id)
    expect(await approver.execActions()).toBe(true)
    expect(await collect(approver.query('ready'))).toEqual([])
    expect((await collect(approver.query('done'))).map((record) => record.id)).toEqual(ids)
  })

  it('ignores a checkpoint the worker makes after its action ended', async () => {
    let late: (() => Promise<void>) | undefined
    const executor: ActionExecutor = {
      hasAction: () => true,
      execute: (_action, _args, context) => {
        late = context.checkpoint
        return 'ok'
      },
    }
    const { approver } = await setup({ executor })
    const record = await approver.pushAction({ action: 'x', payload: [[]], voter: 'joe', reqVotes: 1 })
    await approver.execActions()
    await late?.()
    expect(await collect(approver.query('executing'))).toEqual([])
    expect((await approver.getAction('done', record.id)).data.status).toBe('COMPLETED')
  })

  it('ends a hanging worker call at its deadline and marks unfinished calls', async () => {
    let signal: AbortSignal | undefined
    const executor: ActionExecutor = {
      hasAction: () => true,
      async execute(_action, args, context) {
        signal = context.signal
        const targets = args[1] as Record<string, { calls: Array<Record<string, unknown>> }>
        targets.rack1!.calls[0]!.result = 'ok'
        await context.checkpoint()
        return new Promise(() => {})
      },
    }
    const { approver } = await setup({ executor, executionTimeoutMs: 150 })
    const targets = { rack1: { reqVotes: 1, calls: [{ id: 'a' }, { id: 'b' }] } }
    const record = await approver.pushAction({ action: 'x', payload: [[], targets, []], voter: 'joe', reqVotes: 1 })
    await approver.execActions()
    const { data } = await approver.getAction('done', record.id)
    expect(data.status).toBe('FAILED')
    expect(data.error).toBe('ERR_ACTION_TIMEOUT')
    // the worker learns its deadline passed, so it can stop calling racks
    expect(signal?.aborted).toBe(true)
    expect(data.payload[1]).toEqual({
      rack1: {
        reqVotes: 1,
        calls: [
          { id: 'a', result: 'ok' },
          { id: 'b', error: 'ERR_ACTION_TIMEOUT' },
        ],
      },
    })
    expect(await collect(approver.query('executing'))).toEqual([])
  })

  it('moves a stored record by its key, whatever id its JSON holds', async () => {
    const sent: number[] = []
    const executor: ActionExecutor = {
      hasAction: () => true,
      execute: (_action, _args, context) => sent.push(context.actionId),
    }
    const { approver, store } = await setup({ executor })
    const other = await approver.pushAction({ action: 'x', payload: [[]], voter: 'joe', reqVotes: 2 })
    // A ready record with no id, and one claiming the other action's id.
    const record = (id?: number) => Buffer.from(JSON.stringify({ id, action: 'x', payload: [[]], votesPos: ['joe'] }))
    await store.bee.sub('actions:ready').put(idKey(7), record())
    await store.bee.sub('actions:ready').put(idKey(8), record(other.id))
    await approver.execActions()
    expect(sent).toEqual([7, 8])
    const states = async (state: ActionState) => (await collect(approver.query(state))).map((action) => action.id)
    expect(await states('done')).toEqual([7, 8])
    expect(await states('executing')).toEqual([])
    expect(await states('voting')).toEqual([other.id])
  })

  it('takes a per-action deadline from a function, and the default when it gives none', async () => {
    const seen: number[] = []
    const executor: ActionExecutor = {
      hasAction: () => true,
      execute: (action) => {
        if (action === 'slow') return new Promise((resolve) => setTimeout(resolve, 120, 'late'))
        if (action === 'patient') return new Promise((resolve) => setTimeout(resolve, 20, 'waited'))
        return 'fast'
      },
    }
    const executionTimeoutMs = (record: ActionRecord) => {
      seen.push(record.id)
      if (record.action === 'broken') throw new Error('no deadline')
      // more than a timer can hold: capped, not fired at once as Node does with such delays
      if (record.action === 'patient') return 2 ** 31
      return record.action === 'slow' ? 60 : 5_000
    }
    const { approver } = await setup({ executor, executionTimeoutMs })
    const push = (action: string) => approver.pushAction({ action, payload: [[]], voter: 'joe', reqVotes: 1 })
    const slow = await push('slow')
    const fast = await push('fast')
    const broken = await push('broken')
    const patient = await push('patient')
    await approver.execActions()
    expect(seen).toEqual([slow.id, fast.id, broken.id, patient.id])
    expect((await approver.getAction('done', patient.id)).data).toMatchObject({ status: 'COMPLETED', result: 'waited' })
    expect((await approver.getAction('done', slow.id)).data.error).toBe('ERR_ACTION_TIMEOUT')
    expect((await approver.getAction('done', fast.id)).data.status).toBe('COMPLETED')
    expect((await approver.getAction('done', broken.id)).data.status).toBe('COMPLETED')
  })

  it('ends unserialisable results as FAILED with ERR_ACTION_RESULT_INVALID', async () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const { approver } = await setup({}, { big: () => 10n, loop: () => circular })
    const big = await approver.pushAction({ action: 'big', payload: [[]], voter: 'joe', reqVotes: 1 })
    const loop = await approver.pushAction({ action: 'loop', payload: [[]], voter: 'joe', reqVotes: 1 })
    await approver.execActions()
    for (const id of [big.id, loop.id]) {
      const { data } = await approver.getAction('done', id)
      expect(data).toMatchObject({ status: 'FAILED', error: 'ERR_ACTION_RESULT_INVALID' })
      expect('result' in data).toBe(false)
    }
  })

  it('survives a worker that makes its payload unserialisable, keeping the last persisted payload', async () => {
    const executor: ActionExecutor = {
      hasAction: () => true,
      async execute(_action, args, context) {
        ;(args[1] as Record<string, unknown>).bad = 1n
        await context.checkpoint()
        expect(await collect(approver.query('executing'))).toMatchObject([{ payload: [[], { a: 1 }] }])
        return 'ok'
      },
    }
    const { approver } = await setup({ executor })
    const record = await approver.pushAction({ action: 'x', payload: [[], { a: 1 }], voter: 'joe', reqVotes: 1 })
    await approver.execActions()
    const { data } = await approver.getAction('done', record.id)
    expect(data).toMatchObject({ status: 'FAILED', error: 'ERR_ACTION_RESULT_INVALID', payload: [[], { a: 1 }] })
  })

  it('ends a result too large for the store as FAILED with ERR_ACTION_TOO_LARGE, never stuck executing', async () => {
    const huge = 'x'.repeat(MAX_ACTION_RECORD_BYTES)
    const { approver } = await setup({}, { huge: () => huge, fits: () => huge.slice(0, 1_000_000) })
    const tooLarge = await approver.pushAction({ action: 'huge', payload: [[]], voter: 'joe', reqVotes: 1 })
    const fits = await approver.pushAction({ action: 'fits', payload: [[]], voter: 'joe', reqVotes: 1 })
    await approver.execActions()
    const { data } = await approver.getAction('done', tooLarge.id)
    expect(data).toMatchObject({ status: 'FAILED', error: 'ERR_ACTION_TOO_LARGE' })
    expect('result' in data).toBe(false)
    expect((await approver.getAction('done', fits.id)).data).toMatchObject({ status: 'COMPLETED' })
    expect(await collect(approver.query('executing'))).toEqual([])
  })

  it('does not checkpoint a payload grown too large for the store, and ends with the last persisted one', async () => {
    const executor: ActionExecutor = {
      hasAction: () => true,
      async execute(_action, args, context) {
        const target = args[1] as Record<string, unknown>
        target.step = 1
        await context.checkpoint()
        // Past MAX_ACTION_RECORD_BYTES, and past the 15 MiB Hypercore takes.
        target.grown = 'x'.repeat(15 * 1024 * 1024)
        await context.checkpoint()
        const [executing] = await collect(approver.query('executing'))
        expect(executing?.payload).toEqual([[], { a: 1, step: 1 }])
        return 'ok'
      },
    }
    const { approver } = await setup({ executor })
    const record = await approver.pushAction({ action: 'x', payload: [[], { a: 1 }], voter: 'joe', reqVotes: 1 })
    await approver.execActions()
    const { data } = await approver.getAction('done', record.id)
    expect(data).toMatchObject({ status: 'FAILED', error: 'ERR_ACTION_TOO_LARGE' })
    expect(data.payload).toEqual([[], { a: 1, step: 1 }])
    expect('result' in data).toBe(false)
  })

  it('fails actions whose method vanished or whose stored payload is unusable', async () => {
    const store = await openStore()
    const approver = new ActionApprover()
    opened.push({ approver, store })
    const worker: Record<string, unknown> = { gone: () => 1 }
    approver.initWrk(worker)
    await approver.initDb(store.bee)
    const gone = await approver.pushAction({ action: 'gone', payload: [[]], voter: 'joe', reqVotes: 1 })
    delete worker.gone
    const ready = store.bee.sub('actions:ready')
    const base = gone.id + 1000
    const rawPayloads: unknown[] = [[1], [], 'text', undefined]
    for (const [index, payload] of rawPayloads.entries()) {
      const record = { id: base + index, action: 'ping', payload, votesPos: ['joe'], votesNeg: [] }
      await ready.put(
        idKey(base + index),
        Buffer.from(JSON.stringify({ ...record, reqVotesPos: 1, status: 'APPROVED' })),
      )
    }
    await ready.put(idKey(base + 10), Buffer.from('{not json'))
    // JSON, but not a record: an array has no action or payload to read
    await ready.put(idKey(base + 11), Buffer.from(JSON.stringify(['ping', [[]]])))
    approver.initWrk({ ping: () => 1 })
    const goneAgain = await approver.pushAction({ action: 'ping', payload: [[]], voter: 'joe', reqVotes: 1 })
    approver.initWrk({ ...worker, ping: () => 1 })
    await approver.execActions()
    expect((await approver.getAction('done', gone.id)).data).toMatchObject({
      status: 'FAILED',
      error: 'ERR_ACTION_UNKOWN',
    })
    for (const index of rawPayloads.keys()) {
      expect((await approver.getAction('done', base + index)).data).toMatchObject({
        status: 'FAILED',
        error: 'ERR_PAYLOAD_INVALID',
      })
    }
    for (const id of [base + 10, base + 11]) {
      expect((await approver.getAction('done', id)).data).toMatchObject({
        status: 'FAILED',
        error: 'ERR_ACTION_RECORD_INVALID',
      })
    }
    expect((await approver.getAction('done', goneAgain.id)).data.status).toBe('COMPLETED')
    expect(await collect(approver.query('ready'))).toEqual([])
    expect(await collect(approver.query('executing'))).toEqual([])
  })

  it('treats a throwing hasAction as an unknown action', async () => {
    const executor: ActionExecutor = {
      hasAction: () => {
        throw new Error('boom')
      },
      execute: () => 1,
    }
    const { approver } = await setup({ executor })
    expect(await rejection(push(approver))).toBe('ERR_ACTION_UNKOWN')
  })

  it('dispatches every action name through an explicit executor, even names of object members', async () => {
    const seen: string[] = []
    const executor: ActionExecutor = {
      hasAction: () => true,
      execute: (action) => {
        seen.push(action)
        return action
      },
    }
    const { approver } = await setup({ executor })
    for (const action of ['constructor', 'toString', '__proto__', 'rackActions']) {
      await approver.pushAction({ action, payload: [[]], voter: 'joe', reqVotes: 1 })
    }
    await approver.execActions()
    expect(seen).toEqual(['constructor', 'toString', '__proto__', 'rackActions'])
  })

  it('runs on a timer after startInterval and stops on close', async () => {
    let count = 0
    const { approver } = await setup({}, { tick: () => ++count })
    expect(() => approver.startInterval(99)).toThrow('ERR_OPTS_INTERVAL_INVALID')
    expect(() => approver.startInterval(150.5)).toThrow('ERR_OPTS_INTERVAL_INVALID')
    // Longer than Node's timers keep: it would fire every millisecond.
    expect(() => approver.startInterval(2 ** 31)).toThrow('ERR_OPTS_INTERVAL_INVALID')
    approver.startInterval(100)
    approver.startInterval(100)
    await approver.pushAction({ action: 'tick', payload: [[]], voter: 'joe', reqVotes: 1 })
    await waitFor(() => count === 1)
    await approver.close()
    await approver.close()
    expect(await rejection(approver.pushAction({ action: 'tick', payload: [[]], voter: 'joe', reqVotes: 1 }))).toBe(
      'ERR_APPROVER_CLOSED',
    )
    expect(await approver.execActions()).toBe(false)
  })

  it('puts an action back in ready when closed while its start is being written', async () => {
    const sent: unknown[] = []
    const executor: ActionExecutor = { hasAction: () => true, execute: (action) => sent.push(action) }
    const { approver, store } = await setup({ executor })
    const record = await approver.pushAction({ action: 'x', payload: [[]], voter: 'joe', reqVotes: 1 })
    // Hold the next store write (the move to executing) until close() has been called.
    let release = () => {}
    let writing = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const startWritten = new Promise<void>((resolve) => {
      writing = resolve
    })
    const bee = store.bee as unknown as { batch: (...args: unknown[]) => { flush: () => Promise<void> } }
    const openBatch = bee.batch.bind(bee)
    bee.batch = (...args) => {
      const batch = openBatch(...args)
      const flush = batch.flush.bind(batch)
      batch.flush = async () => {
        bee.batch = openBatch
        writing()
        await held
        return flush()
      }
      return batch
    }
    const pass = approver.execActions()
    await startWritten
    const closed = approver.close()
    release()
    await pass
    await closed
    expect(sent).toEqual([])
    const next = new ActionApprover({ executor })
    await next.initDb(store.bee)
    expect((await collect(next.query('ready'))).map((action) => [action.id, action.status])).toEqual([
      [record.id, ACTION_STATUS.APPROVED],
    ])
    expect(await collect(next.query('executing'))).toEqual([])
    await next.execActions()
    await next.close()
    expect(sent).toEqual(['x'])
  })

  it("writes a finished action's move to done even when the next action's start fails to write", async () => {
    const executor: ActionExecutor = { hasAction: () => true, execute: () => undefined }
    const { approver, store } = await setup({ executor })
    const first = await approver.pushAction({ action: 'x', payload: [[]], voter: 'joe', reqVotes: 1 })
    const second = await approver.pushAction({ action: 'y', payload: [[]], voter: 'joe', reqVotes: 1 })
    // The write that carries the first action's move to done with the second's start fails once.
    const bee = store.bee as unknown as {
      batch: (...args: unknown[]) => {
        put: (key: Buffer, ...rest: unknown[]) => Promise<void>
        flush: () => Promise<void>
      }
    }
    const openBatch = bee.batch.bind(bee)
    let failed = false
    bee.batch = (...args) => {
      const batch = openBatch(...args)
      const keys: string[] = []
      const put = batch.put.bind(batch)
      batch.put = (key, ...rest) => {
        keys.push(key.toString('latin1'))
        return put(key, ...rest)
      }
      const flush = batch.flush.bind(batch)
      batch.flush = async () => {
        if (!failed && keys.some((key) => key.includes('done')) && keys.some((key) => key.includes('executing'))) {
          failed = true
          throw new Error('disk full')
        }
        return flush()
      }
      return batch
    }
    await approver.execActions()
    expect(failed).toBe(true)
    expect((await approver.getAction('done', first.id)).data.status).toBe(ACTION_STATUS.COMPLETED)
    expect(await collect(approver.query('executing'))).toEqual([])
    // The second one is still ready, and runs at the next pass.
    expect((await collect(approver.query('ready'))).map((action) => action.id)).toEqual([second.id])
    await approver.execActions()
    expect((await approver.getAction('done', second.id)).data.status).toBe(ACTION_STATUS.COMPLETED)
  })

  it('ends the pass at an action whose start could not be written: the ones after it wait for the next pass', async () => {
    const order: string[] = []
    const { approver, store } = await setup({}, { step: (params: unknown[]) => order.push(String(params[0])) })
    for (const name of ['a', 'b', 'c']) {
      await approver.pushAction({ action: 'step', payload: [[name]], voter: 'joe', reqVotes: 1 })
    }
    const restore = refuseWrites(store, 1)
    await approver.execActions()
    restore()
    expect(order).toEqual([])
    expect((await collect(approver.query('ready'))).length).toBe(3)
    await approver.execActions()
    expect(order).toEqual(['a', 'b', 'c'])
  })

  it('stops its timer on stopInterval', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const { approver } = await setup()
      const passes = vi.spyOn(approver, 'execActions')
      approver.startInterval(100)
      vi.advanceTimersByTime(250)
      expect(passes).toHaveBeenCalledTimes(2)
      approver.stopInterval()
      vi.advanceTimersByTime(1_000)
      expect(passes).toHaveBeenCalledTimes(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('ends a running execution as interrupted when closed', async () => {
    const executor: ActionExecutor = { hasAction: () => true, execute: () => new Promise(() => {}) }
    const { approver, store } = await setup({ executor })
    const targets = { rack: { calls: [{ id: 'a' }] } }
    const record = await approver.pushAction({ action: 'x', payload: [[], targets], voter: 'joe', reqVotes: 1 })
    const pass = approver.execActions()
    await waitFor(async () => (await collect(approver.query('executing'))).length === 1)
    await approver.close()
    await pass
    const raw = await store.bee.sub('actions:done').get(idKey(record.id))
    expect(JSON.parse(raw!.value.toString())).toMatchObject({
      status: 'FAILED',
      error: 'ERR_ACTION_INTERRUPTED',
      payload: [[], { rack: { calls: [{ id: 'a', error: 'ERR_ACTION_INTERRUPTED' }] } }],
    })
  })
})

describe('a store that refuses writes (disk full)', () => {
  it('rejects push, vote and cancel with ERR_STORE_WRITE_FAILED, reports every refusal, and sends nothing', async () => {
    const refusals: unknown[] = []
    const sent: unknown[] = []
    const executor: ActionExecutor = { hasAction: () => true, execute: (action) => sent.push(action) }
    const { approver, store } = await setup({ executor, onWriteFailed: (error) => refusals.push(error) })
    const voting = await approver.pushAction({ action: 'x', payload: [[]], voter: 'joe', reqVotes: 2 })
    const ready = await approver.pushAction({ action: 'y', payload: [[]], voter: 'joe', reqVotes: 1 })
    refuseWrites(store)
    const pushed = approver.pushAction({ action: 'z', payload: [[]], voter: 'joe', reqVotes: 1 })
    await expect(pushed).rejects.toMatchObject({
      message: 'ERR_STORE_WRITE_FAILED',
      details: { code: 'ENOSPC', reason: 'While appending to file: db/000004.log: No space left on device' },
    })
    expect(await rejection(approver.voteAction({ id: voting.id, voter: 'ann', approve: true }))).toBe(
      'ERR_STORE_WRITE_FAILED',
    )
    expect(await approver.cancelActionsBatch({ ids: [voting.id], voter: 'joe' })).toEqual([
      { id: voting.id, success: false, error: `ERR_CANCEL_BATCH_ACTION-ID-${voting.id} ERR_STORE_WRITE_FAILED` },
    ])
    // the approved action's move to executing is refused: it is not sent, and stays ready
    await approver.execActions()
    expect(sent).toEqual([])
    expect((await collect(approver.query('ready'))).map((action) => action.id)).toEqual([ready.id])
    expect((await approver.getAction('voting', voting.id)).data.votesPos).toEqual(['joe'])
    // push, vote, cancel and the start of the execution: each reported as it was thrown
    expect(refusals).toHaveLength(4)
    for (const refusal of refusals) expect(isOrkError(refusal, 'ERR_STORE_WRITE_FAILED')).toBe(true)
  })
})

describe('markUnfinishedTargetCalls', () => {
  it('marks the calls with neither result nor error, and leaves payloads of other shapes alone', () => {
    const payload = [[], { rack1: { calls: [{ id: 'a', result: 'ok' }, { id: 'b', error: 'E' }, { id: 'c' }, null] } }]
    markUnfinishedTargetCalls(payload, 'ERR_ACTION_INTERRUPTED')
    expect(payload[1]).toEqual({
      rack1: {
        calls: [{ id: 'a', result: 'ok' }, { id: 'b', error: 'E' }, { id: 'c', error: 'ERR_ACTION_INTERRUPTED' }, null],
      },
    })
    // targets as a list, or calls that are not a list: not the ork's convention, left as they are
    const others = [
      [[], [{ calls: [{ id: 'x' }] }]],
      [[], { rack1: { calls: { id: 'y' } } }],
      [[], 'targets'],
    ]
    const before = structuredClone(others)
    for (const other of others) markUnfinishedTargetCalls(other, 'ERR_ACTION_INTERRUPTED')
    expect(others).toEqual(before)
  })
})

describe('voting expiry', () => {
  it('is off by default', async () => {
    const { approver, store } = await setup()
    const old = Date.now() - 86_400_000 * 365
    await store.bee.sub('actions:voting').put(idKey(old), Buffer.from(JSON.stringify(votingRecord(old))))
    await approver.execActions()
    expect((await approver.getAction('voting', old)).data.status).toBe('VOTING')
  })

  it('expires an action exactly votingExpiryMs after it was pushed, not a millisecond before', async () => {
    const { approver, store } = await setup({ votingExpiryMs: 60_000 })
    const now = Date.now()
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now })
    try {
      const voting = store.bee.sub('actions:voting')
      for (const id of [now - 60_000, now - 59_999]) {
        await voting.put(idKey(id), Buffer.from(JSON.stringify(votingRecord(id))))
      }
      await approver.execActions()
      expect((await collect(approver.query('done'))).map((record) => record.id)).toEqual([now - 60_000])
      expect((await collect(approver.query('voting'))).map((record) => record.id)).toEqual([now - 59_999])
    } finally {
      vi.useRealTimers()
    }
  })

  it('counts on the monotonic clock: a wall clock stepped forward or back neither expires an action early nor keeps it', async () => {
    const lines: string[] = []
    const logger = createLogger('ork:test', { write: (line) => lines.push(line), debug: '' })
    const { approver } = await setup({ votingExpiryMs: 60_000, logger })
    const now = Date.UTC(2026, 0, 1)
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now })
    try {
      const action = await push(approver)
      // NTP steps the clock a year forward: by the wall clock the action is a year old.
      vi.setSystemTime(now + 365 * 86_400_000)
      vi.advanceTimersByTime(59_999)
      await approver.execActions()
      expect((await collect(approver.query('voting'))).map((record) => record.id)).toEqual([action.id])
      // Then a year back: the clock is now behind the action's id, and ids continue from it.
      vi.setSystemTime(now - 365 * 86_400_000)
      const later = await push(approver)
      expect(later.id).toBe(action.id + 1)
      expect(lines.filter((line) => line.includes('wall clock is behind the last action id'))).toHaveLength(1)
      vi.advanceTimersByTime(1)
      await approver.execActions()
      const done = await collect(approver.query('done'))
      expect(done.map((record) => [record.id, record.status, record.error])).toEqual([
        [action.id, 'DENIED', 'ERR_ACTION_EXPIRED'],
      ])
      expect((await collect(approver.query('voting'))).map((record) => record.id)).toEqual([later.id])
    } finally {
      vi.useRealTimers()
    }
  })

  it('gives an action pushed before a restart at most votingExpiryMs more when the clock is behind its id', async () => {
    const now = Date.UTC(2026, 0, 1)
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now })
    try {
      const { approver, store } = await setup({ votingExpiryMs: 60_000 })
      const action = await push(approver)
      await approver.close()
      // Restarted on a machine whose clock booted a year behind.
      vi.setSystemTime(now - 365 * 86_400_000)
      const restarted = new ActionApprover({ votingExpiryMs: 60_000 })
      await restarted.initDb(store.bee)
      restarted.initWrk({ ping: () => 1 })
      opened.push({ approver: restarted, store })
      await restarted.execActions()
      expect((await collect(restarted.query('voting'))).map((record) => record.id)).toEqual([action.id])
      vi.advanceTimersByTime(60_000)
      await restarted.execActions()
      expect((await collect(restarted.query('done'))).map((record) => record.error)).toEqual(['ERR_ACTION_EXPIRED'])
    } finally {
      vi.useRealTimers()
    }
  })

  it('denies old voting actions in a pass and on vote or cancel', async () => {
    const { approver, store } = await setup({ votingExpiryMs: 60_000 })
    const now = Date.now()
    const voting = store.bee.sub('actions:voting')
    for (const id of [now - 120_000, now - 110_000, now - 100_000]) {
      await voting.put(idKey(id), Buffer.from(JSON.stringify(votingRecord(id))))
    }
    const fresh = await push(approver)
    expect(await rejection(approver.voteAction({ id: now - 120_000, voter: 'amy', approve: true }))).toBe(
      'ERR_ACTION_ID_NOT_FOUND',
    )
    expect(await rejection(approver.cancelAction({ id: now - 110_000, voter: 'joe' }))).toBe('ERR_ACTION_ID_NOT_FOUND')
    await approver.execActions()
    const done = await collect(approver.query('done'))
    expect(done.map((record) => [record.id, record.status, record.error])).toEqual(
      [now - 120_000, now - 110_000, now - 100_000].map((id) => [id, 'DENIED', 'ERR_ACTION_EXPIRED']),
    )
    expect((await collect(approver.query('voting'))).map((record) => record.id)).toEqual([fresh.id])
  })
})

describe('lifecycle and options', () => {
  it('validates the store, worker, executor and options', async () => {
    const approver = new ActionApprover()
    expect(await rejection(approver.initDb({} as never))).toBe('ERR_OPTS_BEE_INSTANCE_INVALID')
    expect(await rejection(approver.ready())).toBe('ERR_OPTS_BEE_INSTANCE_INVALID')
    expect(() => approver.initWrk(null as never)).toThrow('ERR_OPTS_WRK_INVALID_TYPE')
    expect(() => approver.initWrk([] as never)).toThrow('ERR_OPTS_WRK_INVALID_TYPE')
    expect(() => approver.initWrk('x' as never)).toThrow('ERR_OPTS_WRK_INVALID_TYPE')
    expect(() => approver.initWrk(new Proxy({}, {}))).not.toThrow()
    expect(() => approver.setExecutor({ hasAction: () => true } as never)).toThrow('ERR_OPTS_WRK_INVALID_TYPE')
    expect(() => new ActionApprover({ executionTimeoutMs: 0 })).toThrow('ERR_OPTS_EXECUTION_TIMEOUT_INVALID')
    // Node's timers fire at once past 2³¹−1 ms
    expect(() => new ActionApprover({ executionTimeoutMs: 3e9 })).toThrow('ERR_OPTS_EXECUTION_TIMEOUT_INVALID')
    expect(() => new ActionApprover({ votingExpiryMs: -1 })).toThrow('ERR_OPTS_VOTING_EXPIRY_INVALID')
    const withoutWorker = new ActionApprover()
    const store = await openStore()
    opened.push({ approver: withoutWorker, store })
    await withoutWorker.initDb(store.bee)
    await withoutWorker.initDb(store.bee)
    expect(await rejection(push(withoutWorker))).toBe('ERR_OPTS_WRK_INVALID_TYPE')
    expect(await withoutWorker.execActions()).toBe(true)
  })

  it('works on a bee with encodings of its own, writing the same bytes', async () => {
    const store = await openStore()
    const Hyperbee = (await import('hyperbee')).default
    const jsonBee = new Hyperbee(store.store.get({ name: 'action-approver' }), {
      keyEncoding: 'utf-8',
      valueEncoding: 'json',
    })
    const approver = new ActionApprover({ bee: jsonBee })
    opened.push({ approver, store })
    approver.initWrk({ ping: () => 1 })
    const record = await push(approver)
    const raw = await store.bee.sub('actions:voting').get(idKey(record.id))
    expect(JSON.parse(raw!.value.toString()).id).toBe(record.id)
    await jsonBee.close()
  })
})

function votingRecord(id: number): ActionRecord {
  return {
    id,
    action: 'ping',
    payload: [[]],
    votesPos: ['joe'],
    votesNeg: [],
    reqVotesPos: 2,
    reqVotesNeg: 1,
    status: ACTION_STATUS.VOTING,
  }
}

function idKey(id: number): Buffer {
  const key = Buffer.alloc(6)
  key.writeUIntBE(id, 0, 6)
  return key
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * Makes the store refuse the next `times` writes (every write when omitted) with the error
 * RocksDB gives when its log cannot grow, and returns a function that stops refusing.
 */
function refuseWrites(store: TestStore, times = Number.POSITIVE_INFINITY): () => void {
  const bee = store.bee as unknown as { batch: (...args: unknown[]) => { flush: () => Promise<void> } }
  const openBatch = bee.batch.bind(bee)
  let left = times
  bee.batch = (...args) => {
    const batch = openBatch(...args)
    const flush = batch.flush.bind(batch)
    batch.flush = async () => {
      if (left <= 0) return flush()
      left--
      const cause = Object.assign(new Error('While appending to file: db/000004.log: No space left on device'), {
        code: 'ENOSPC',
      })
      throw new Error('Batch was not applied', { cause })
    }
    return batch
  }
  return () => {
    bee.batch = openBatch
  }
}
