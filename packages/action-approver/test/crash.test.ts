import { type ChildProcess, spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ACTION_STATES, ActionApprover, type ActionRecord, type ActionState } from '../src/index.ts'
import { collect, makeTempDir, openStore } from './store.ts'

const here = dirname(fileURLToPath(import.meta.url))
const packageDir = join(here, '..')
const KILLS = 12

type Targets = Record<string, { calls: Array<{ id: string; result?: unknown; error?: unknown }> }>

function startChild(storeDir: string, journal: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'crash', 'child.ts'), storeDir, journal], {
    cwd: packageDir,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(here, 'crash', 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
  })
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve()
    })
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited (${code ?? signal}): ${stderr}`))
      else resolve()
    })
  })
  return { child, ready }
}

async function killChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await exited
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function acceptedCount(journal: string): Promise<number> {
  const text = await readFile(journal, 'utf8').catch(() => '')
  return text.split('\n').filter((line) => line.startsWith('accepted ')).length
}

function parseJournal(text: string) {
  const accepted = new Set<number>()
  const voted: Array<[number, string]> = []
  const sends = new Map<string, number>()
  for (const line of text.split('\n')) {
    const [kind, id, extra] = line.split(' ')
    if (kind === 'accepted') accepted.add(Number(id))
    else if (kind === 'voted') voted.push([Number(id), extra!])
    else if (kind === 'send') sends.set(`${id} ${extra}`, (sends.get(`${id} ${extra}`) ?? 0) + 1)
  }
  return { accepted, voted, sends }
}

describe('crash safety', () => {
  it(`loses, strands and repeats nothing across ${KILLS} SIGKILLs`, async () => {
    const dir = await makeTempDir()
    const storeDir = join(dir, 'store')
    const journal = join(dir, 'journal')
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const { child, ready } = startChild(storeDir, journal)
        // Now and then kill during start-up (recovery of the previous crash), otherwise mid-workload.
        if (kill % 4 === 3) await Promise.race([ready, sleep(200 + Math.random() * 600)])
        else {
          await ready
          // Mid-workload: once this run has accepted a few actions (a slow disk makes rounds slow), then at a random moment.
          const before = await acceptedCount(journal)
          const deadline = Date.now() + 10_000
          while ((await acceptedCount(journal)) < before + 3 && Date.now() < deadline) await sleep(10)
          await sleep(Math.random() * 200)
        }
        await killChild(child)
      }

      const { accepted, voted, sends } = parseJournal(await readFile(journal, 'utf8'))
      expect(accepted.size).toBeGreaterThan(20)
      expect([...sends.values()].filter((count) => count > 1)).toEqual([])

      const store = await openStore(storeDir)
      const sentAfter: string[] = []
      const approver = new ActionApprover({
        executor: {
          hasAction: () => true,
          async execute(_action, args, context) {
            for (const target of Object.values(args[1] as Targets)) {
              for (const call of target.calls) {
                sentAfter.push(`${context.actionId} ${call.id}`)
                call.result = 'ok'
              }
            }
          },
        },
      })
      try {
        await approver.initDb(store.bee)
        const where = new Map<number, ActionState[]>()
        const records = new Map<number, ActionRecord>()
        for (const state of ACTION_STATES) {
          for (const record of await collect(approver.query(state))) {
            where.set(record.id, [...(where.get(record.id) ?? []), state])
            records.set(record.id, record)
          }
        }
        // Nothing stuck in executing, nothing in two states, nothing accepted missing.
        expect([...where.values()].filter((states) => states.length !== 1 || states[0] === 'executing')).toEqual([])
        expect([...accepted].filter((id) => !where.has(id))).toEqual([])
        // No vote lost.
        for (const [id, voter] of voted) {
          const record = records.get(id)!
          expect([...record.votesPos, ...record.votesNeg]).toContain(voter)
        }
        // Every recorded call result was sent exactly once; actions that never ran sent nothing.
        for (const [id, record] of records) {
          const state = where.get(id)![0]
          const calls = Object.values(record.payload[1] as Targets).flatMap((target) => target.calls)
          for (const call of calls) {
            const sent = sends.get(`${id} ${call.id}`) ?? 0
            if ('result' in call) expect(sent, `${id} ${call.id}`).toBe(1)
            if (state !== 'done' || record.status === 'DENIED') expect(sent).toBe(0)
            if (state === 'done' && record.status !== 'DENIED') expect('result' in call || 'error' in call).toBe(true)
          }
          if (state === 'done' && record.status === 'COMPLETED') expect(record.result).toBe('done')
        }
        // Finish the rest: nothing already sent is sent again.
        for (const record of await collect(approver.query('voting'))) {
          await approver.voteAction({ id: record.id, voter: 'final-voter', approve: true })
        }
        await approver.execActions()
        expect(sentAfter.filter((call) => sends.has(call))).toEqual([])
        for (const state of ['voting', 'ready', 'executing'] as const) {
          expect(await collect(approver.query(state))).toEqual([])
        }
      } finally {
        await approver.close()
        await store.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
