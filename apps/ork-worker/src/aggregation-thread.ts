/**
 * The tailLog aggregation thread (see tail-log/off-thread-aggregation.ts): decodes the rack replies it
 * is sent, keeps them per run until `finish`, then groups and aggregates them in rack order
 * and answers the rows.
 */
import { parentPort } from 'node:worker_threads'
import { decodeJsonReply } from '@ork/rpc-transport'
import { aggregateTailLogItems, collectRackItems, type TailLogSpec } from '@ork/stats'
import { type CarriedError, carryError, type FromThread, type ToThread } from './tail-log/aggregation-protocol.ts'

interface Run {
  replies: Map<number, unknown>
  failures: { index: number; error: CarriedError }[]
}

const runs = new Map<number, Run>()

/**
 * Specs by their JSON text: each `finish` brings a fresh copy, and @ork/stats compiles an op plan
 * per spec object, so one object per distinct spec keeps its compiled loop (and its warm JIT).
 */
const specs = new Map<string, TailLogSpec>()
const MAX_KEPT_SPECS = 64

function keptSpec(spec: TailLogSpec): TailLogSpec {
  const text = JSON.stringify(spec)
  const kept = specs.get(text)
  if (kept) return kept
  if (specs.size >= MAX_KEPT_SPECS) specs.clear()
  specs.set(text, spec)
  return spec
}

function runOf(id: number): Run {
  let run = runs.get(id)
  if (!run) {
    run = { replies: new Map(), failures: [] }
    runs.set(id, run)
  }
  return run
}

function finish(message: Extract<ToThread, { type: 'finish' }>): FromThread {
  const run = runs.get(message.run) ?? { replies: new Map(), failures: [] }
  runs.delete(message.run)
  const replies: unknown[] = []
  // A failed rack contributes [] (ork-behaviour.md 3.3).
  for (let index = 0; index < message.rackCount; index++) {
    replies.push(run.replies.has(index) ? run.replies.get(index) : [])
  }
  let aggregationError: CarriedError | undefined
  const started = performance.now()
  try {
    const rows = aggregateTailLogItems(collectRackItems(replies), keptSpec(message.spec), {
      aggrTimes: message.aggrTimes,
      onError: (error) => {
        aggregationError = carryError(error)
      },
    })
    const aggregationMs = performance.now() - started
    return { type: 'done', run: message.run, rows, failures: run.failures, aggregationError, aggregationMs }
  } catch (error) {
    return { type: 'failed', run: message.run, error: carryError(error) }
  }
}

const port = parentPort
if (!port) throw new Error('aggregation-thread.js runs as a worker thread')

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'reply': {
      const run = runOf(message.run)
      try {
        run.replies.set(message.index, decodeJsonReply(Buffer.from(message.bytes)))
      } catch (error) {
        run.failures.push({ index: message.index, error: carryError(error) })
      }
      return
    }
    case 'value':
      runOf(message.run).replies.set(message.index, message.value)
      return
    case 'drop':
      runs.delete(message.run)
      return
    case 'finish':
      port.postMessage(finish(message))
      return
  }
})
