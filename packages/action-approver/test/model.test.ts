import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ACTION_STATES, ActionApprover, type ActionRecord, type ActionState, type Voter } from '../src/index.ts'
import { collect, openStore } from './store.ts'

/** The rules of the approver, written as plainly as possible. */
class Model {
  readonly actions = new Map<number, { state: ActionState; record: ActionRecord }>()
  readonly executed: number[] = []

  push(record: ActionRecord): void {
    this.actions.set(record.id, { state: record.reqVotesPos > 1 ? 'voting' : 'ready', record: structuredClone(record) })
  }

  vote(id: number, voter: Voter, approve: boolean): string | null {
    const entry = this.actions.get(id)
    if (entry?.state !== 'voting') return 'ERR_ACTION_ID_NOT_FOUND'
    const { record } = entry
    if (record.votesPos.includes(voter) || record.votesNeg.includes(voter)) return 'ERR_VOTER_EXISTS'
    if (approve) record.votesPos.push(voter)
    else record.votesNeg.push(voter)
    if (record.votesPos.length >= record.reqVotesPos) {
      record.status = 'APPROVED'
      entry.state = 'ready'
    } else if (record.votesNeg.length >= record.reqVotesNeg) {
      record.status = 'DENIED'
      entry.state = 'done'
    }
    return null
  }

  cancel(id: number, voter: Voter): string | null {
    const entry = this.actions.get(id)
    if (entry?.state !== 'voting') return 'ERR_ACTION_ID_NOT_FOUND'
    if (entry.record.votesPos[0] !== voter) return 'ERR_CALLER_NOT_CREATOR'
    entry.record.status = 'DENIED'
    entry.state = 'done'
    return null
  }

  execute(): void {
    const ready = [...this.actions.entries()].filter(([, entry]) => entry.state === 'ready').sort(([a], [b]) => a - b)
    for (const [id, entry] of ready) {
      this.executed.push(id)
      const params = (entry.record.payload[0] as Array<{ fail: boolean; value: number }>)[0]!
      entry.state = 'done'
      if (params.fail) {
        entry.record.status = 'FAILED'
        entry.record.error = 'Error: ERR_WORKER_FAILED'
      } else {
        entry.record.status = 'COMPLETED'
        entry.record.result = params.value * 2
      }
    }
  }

  view(state: ActionState): ActionRecord[] {
    return [...this.actions.entries()]
      .filter(([, entry]) => entry.state === state)
      .sort(([a], [b]) => a - b)
      .map(([, entry]) => entry.record)
  }
}

const voter = fc.constantFrom<Voter>('ann', 'bob', 'cid', 'dee', 1, 2, '1')
const actionRef = fc.nat({ max: 12 })
const operation = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      voter,
      reqVotesPos: fc.integer({ min: 1, max: 4 }),
      reqVotesNeg: fc.integer({ min: 1, max: 3 }),
      fail: fc.boolean(),
      value: fc.integer({ min: -100, max: 100 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('vote' as const), ref: actionRef, voter, approve: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('concurrentVotes' as const),
      ref: actionRef,
      votes: fc.array(fc.record({ voter, approve: fc.boolean() }), { minLength: 2, maxLength: 6 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), ref: actionRef, voter }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('execute' as const) }) },
)

function normalise(record: ActionRecord): ActionRecord {
  const copy = structuredClone(record)
  if (copy.error) copy.error = copy.error.split('\n')[0]!
  return copy
}

async function outcomeOf(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise
    return null
  } catch (error) {
    return (error as Error).message
  }
}

describe('model-based', () => {
  it('matches a plain model of the rules over random push / vote / cancel / execute sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 30 }), async (operations) => {
        const store = await openStore()
        const executed: number[] = []
        const approver = new ActionApprover()
        approver.initWrk({
          run(params: Array<{ fail: boolean; value: number; actionId?: number }>) {
            executed.push(params[1]!.actionId!)
            if (params[0]!.fail) throw new Error('ERR_WORKER_FAILED')
            return params[0]!.value * 2
          },
        })
        try {
          await approver.initDb(store.bee)
          const model = new Model()
          const ids: number[] = []
          const idOf = (ref: number) => ids[ref] ?? 1_000 + ref
          for (const op of operations) {
            if (op.kind === 'push') {
              const record = await approver.pushAction({
                action: 'run',
                payload: [[{ fail: op.fail, value: op.value }], {}, []],
                voter: op.voter,
                reqVotesPos: op.reqVotesPos,
                reqVotesNeg: op.reqVotesNeg,
              })
              ids.push(record.id)
              model.push(record)
            } else if (op.kind === 'vote') {
              const id = idOf(op.ref)
              const actual = await outcomeOf(approver.voteAction({ id, voter: op.voter, approve: op.approve }))
              expect(actual).toBe(model.vote(id, op.voter, op.approve))
            } else if (op.kind === 'concurrentVotes') {
              const id = idOf(op.ref)
              const actual = await Promise.all(
                op.votes.map((vote) =>
                  outcomeOf(approver.voteAction({ id, voter: vote.voter, approve: vote.approve })),
                ),
              )
              expect(actual).toEqual(op.votes.map((vote) => model.vote(id, vote.voter, vote.approve)))
            } else if (op.kind === 'cancel') {
              const id = idOf(op.ref)
              expect(await outcomeOf(approver.cancelAction({ id, voter: op.voter }))).toBe(model.cancel(id, op.voter))
            } else {
              expect(await approver.execActions()).toBe(true)
              model.execute()
            }
          }
          for (const state of ACTION_STATES) {
            const actual = (await collect(approver.query(state))).map(normalise)
            expect(actual, state).toEqual(model.view(state))
          }
          expect(executed).toEqual(model.executed)
        } finally {
          await approver.close()
          await store.destroy()
        }
      }),
      { numRuns: 40 },
    )
  })
})
