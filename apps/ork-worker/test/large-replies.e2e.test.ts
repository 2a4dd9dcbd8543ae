import type { RpcNode } from '@ork/rpc-transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { remoteError } from './support/actions-helpers.ts'
import { ProcessTestSite } from './support/process-site.ts'
import { logLines, type RunningWorker, startWorker, workerArgs } from './support/worker-process.ts'

/**
 * Racks answering replies that add up to more than one message carries, with the worker as a
 * process. Three "large" racks answer 6 MiB each (18 MiB, over the transport's ~16 MiB); 25
 * "holding" racks never answer while the test runs. 28 racks at 25 a time: three racks wait in
 * the queue until a slot frees. The ork must refuse each concatenating method with the error its
 * reply would get as soon as the large replies arrive, asking no more racks (without the early
 * stop it waits for the holding racks' 10 s deadlines, then asks the queued ones), and keep serving.
 */

const LARGE_RACKS = 3
const HOLDING_RACKS = 25
const RACKS = LARGE_RACKS + HOLDING_RACKS
const LARGE_REPLY_BYTES = 6 * 1024 * 1024
/** The methods whose reply holds every rack's reply, with their payloads. */
const CONCATENATING: [string, Record<string, unknown>][] = [
  ['listThings', { status: 1 }],
  ['getHistoricalLogs', { logType: 'alerts' }],
  ['getWrkConf', { type: 'miner' }],
]

/** About `bytes` of a rack's listThings reply: things with a few fields. */
function largeReply(bytes: number): Buffer {
  const thing = (index: number) =>
    JSON.stringify({ id: `thing-${index}`, code: `M-${index}`, info: { pos: 'x'.repeat(64) } })
  const items: string[] = []
  let size = 2
  for (let index = 0; size < bytes; index++) {
    const item = thing(index)
    items.push(item)
    size += item.length + 1
  }
  return Buffer.from(`[${items.join(',')}]`)
}

let fixture: ProcessTestSite
let worker: RunningWorker
let client: RpcNode
/** Requests each method's holding racks received. */
const held = new Map<string, number>()
/** Answers the holding racks' requests (`[]`) when the test is over. */
const releases: (() => void)[] = []

const call = (method: string, payload: unknown) =>
  client.request(worker.keys.rpcPublicKey, method, payload, { timeout: 60_000 })

beforeAll(async () => {
  fixture = await ProcessTestSite.start({ name: 'large-replies', racks: [], seed: 1 })
  worker = await startWorker(workerArgs('large-replies', fixture.serviceRoot()), fixture.scratch)
  const reply = largeReply(LARGE_REPLY_BYTES)
  const large = await fixture.newClient()
  const holding = await fixture.newClient()
  for (const [method] of CONCATENATING) {
    large.respondRaw(method, () => reply)
    holding.respondRaw(method, () => {
      held.set(method, (held.get(method) ?? 0) + 1)
      return new Promise<Buffer>((resolve) => releases.push(() => resolve(Buffer.from('[]'))))
    })
  }
  large.respondRaw('getThingsCount', () => Buffer.from('1'))
  holding.respondRaw('getThingsCount', () => Buffer.from('0'))
  await large.listen()
  await holding.listen()
  client = await fixture.newClient()
  // The large racks first: they take the first slots, the queued ones are holding racks.
  for (let index = 0; index < RACKS; index++) {
    const node = index < LARGE_RACKS ? large : holding
    await call('registerRack', {
      id: `miner-${String(index).padStart(2, '0')}`,
      type: 'miner-test',
      info: { rpcPublicKey: node.rpcPublicKey.toString('hex') },
    })
  }
}, 60_000)

afterAll(async () => {
  for (const release of releases) release()
  await fixture?.close()
})

describe('racks whose replies add up to more than one message', () => {
  it('are refused with ERR_FACS_NET_PAYLOAD_TOO_LARGE as soon as they do, the racks still queued not asked', async () => {
    const outcomes = await Promise.all(
      CONCATENATING.map(([method, payload]) =>
        call(method, payload).then(
          () => 'answered',
          (error: Error) => error,
        ),
      ),
    )
    for (const outcome of outcomes) expect(outcome).toEqual(remoteError('ERR_FACS_NET_PAYLOAD_TOO_LARGE'))
    // Each large reply taken frees a slot for a queued rack until the one that stops the fan-out.
    // Without the early stop, every queued rack is asked once the holding racks time out.
    for (const [method] of CONCATENATING) expect(held.get(method)).toBeLessThan(HOLDING_RACKS)
    const refusals = logLines(worker.stderr()).filter((line) => line.msg.startsWith('rack replies exceed'))
    expect(refusals.map((line) => line.method).sort()).toEqual(CONCATENATING.map(([method]) => method).sort())
    expect(refusals[0]).toMatchObject({ level: 'warn', racks: RACKS, max: expect.any(Number) })
  }, 60_000)

  it('leave the worker serving', async () => {
    expect(await call('getThingsCount', {})).toBe(LARGE_RACKS)
    expect(worker.child.exitCode).toBeNull()
  })
})
