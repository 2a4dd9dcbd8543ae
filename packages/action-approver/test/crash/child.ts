/**
 * Crash-test workload: pushes, votes and executes actions on a disk store until
 * it is killed. Every fact the parent checks afterwards is appended to a journal
 * with fsync: `accepted <id>` once pushAction resolved, `voted <id> <voter>` once
 * voteAction resolved, and `send <id> <call>` BEFORE a call is "sent" (so a call
 * sent twice shows up as two send lines, whatever moment the kill hits).
 *
 * Usage: node --import tsx child.ts <storeDir> <journalFile>
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import { ActionApprover, type ActionExecutor } from '../../src/index.ts'

const [storeDir, journalFile] = process.argv.slice(2)
if (!storeDir || !journalFile) throw new Error('usage: child.ts <storeDir> <journalFile>')

const journal = openSync(journalFile, 'a')
function record(line: string): void {
  writeSync(journal, `${line}\n`)
  fsyncSync(journal)
}

type Targets = Record<string, { reqVotes: number; calls: Array<{ id: string; result?: unknown; error?: unknown }> }>

const executor: ActionExecutor = {
  hasAction: () => true,
  async execute(_action, args, context) {
    const targets = args[1] as Targets
    for (const target of Object.values(targets)) {
      for (const call of target.calls) {
        if (context.signal.aborted) return 'aborted'
        record(`send ${context.actionId} ${call.id}`)
        await new Promise((resolve) => setImmediate(resolve))
        call.result = 'ok'
        await context.checkpoint()
      }
    }
    return 'done'
  },
}

const store = new Corestore(storeDir)
const bee = new Hyperbee(store.get({ name: 'action-approver' }))
const approver = new ActionApprover({ executor })
await approver.initDb(bee)
process.stdout.write('ready\n')

let round = 0
for (;;) {
  round++
  const pushes = Array.from({ length: 4 }, (_, index) => {
    const calls = Array.from({ length: 1 + ((round + index) % 4) }, (_unused, call) => ({ id: `c${call}`, tags: [] }))
    return approver
      .pushAction({
        action: 'reboot',
        payload: [[{ round }], { rack: { reqVotes: 2, calls } }, ['miner']],
        voter: 'creator',
        reqVotesPos: index === 0 ? 1 : 2,
        reqVotesNeg: 1,
      })
      .then((pushed) => record(`accepted ${pushed.id}`))
  })
  const votes: Array<Promise<void>> = []
  for await (const action of approver.query('voting', {}, { limit: 6 })) {
    const voter = `voter-${round % 3}`
    const approve = action.id % 5 !== 0
    votes.push(
      approver.voteAction({ id: action.id, voter, approve }).then(
        () => record(`voted ${action.id} ${voter}`),
        () => {},
      ),
    )
  }
  await Promise.all([...pushes, ...votes, approver.execActions()])
  if (round > 10_000) break
}
await approver.close()
await bee.close()
await store.close()
closeSync(journal)
