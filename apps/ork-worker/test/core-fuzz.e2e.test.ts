import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { RemoteError } from '@ork/rpc-transport'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CORE_JSON_METHODS, type CoreJsonMethod } from './support/core-methods.ts'
import { type Harness, startHarness } from './support/harness.ts'

/**
 * Fuzzing of the issue-6 methods over the real transport: random JSON and mutations of
 * valid requests (wrong types, missing fields, deep nesting, huge strings, `__proto__`
 * keys), 2,000 per method. Each must get a reply or a coded error; the ork must keep
 * serving, and hold no more handles or memory afterwards than before.
 */

const RUNS_PER_METHOD = 2_000

const METHODS = CORE_JSON_METHODS

const VALID: Record<CoreJsonMethod, Record<string, unknown>> = {
  registerRack: { id: 'fuzz-rack', type: 'miner-fuzz', info: { rpcPublicKey: 'ef'.repeat(32) } },
  forgetRacks: { ids: ['fuzz-rack'] },
  listRacks: { type: 'miner', keys: 1 },
  listThings: { query: { type: 'miner-am-s19xp' }, fields: { id: 1 }, sort: { id: 1 }, limit: 5, offset: 0 },
  getThingsCount: { query: { type: 'miner-am-s19xp' } },
  getHistoricalLogs: { logType: 'alerts', limit: 5 },
  forgetThings: { query: { id: 'does-not-exist' } },
  saveThingComment: { rackId: 'miner-am-s19xp-rack-1', thingId: 'x', comment: 'c', user: 'u' },
  editThingComment: { rackId: 'miner-am-s19xp-rack-1', thingId: 'x', id: 'c', comment: 'c', user: 'u' },
  deleteThingComment: { rackId: 'miner-am-s19xp-rack-1', thingId: 'x', id: 'c', user: 'u' },
  getGlobalConfig: { fields: { isAutoSleepAllowed: 1 } },
  setGlobalConfig: { isAutoSleepAllowed: false },
  getWrkConf: { type: 'miner' },
  getThingConf: { type: 'miner', requestType: 'nextAvailableCode' },
  getWrkSettings: { rackId: 'miner-am-s19xp-rack-1' },
  saveWrkSettings: { rackId: 'miner-am-s19xp-rack-1', entries: { a: 1 } },
}

const deepNest = (depth: number): unknown => (depth === 0 ? 1 : { a: deepNest(depth - 1), $and: [{}] })
const nastyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, 0, -1, 1e308, '', 'x'.repeat(200_000), [], {}, true),
  fc.constant(deepNest(200)),
  fc.constant(JSON.parse('{"__proto__": {"polluted": 1}}')),
  fc.constant({ $where: 'while(true){}' }),
)

/** A valid request with one field replaced, removed or added. */
const mutatedRequest = (valid: Record<string, unknown>) =>
  fc
    .tuple(fc.constantFrom(...Object.keys(valid), 'extra', '__proto__'), nastyValue, fc.boolean())
    .map(([key, value, remove]) => {
      const copy: Record<string, unknown> = JSON.parse(JSON.stringify(valid))
      if (remove) delete copy[key]
      else Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true })
      return copy
    })

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/** Heap in use after a full collection, in bytes. */
const settledHeap = () => {
  collectGarbage()
  collectGarbage()
  return process.memoryUsage().heapUsed
}

let harness: Harness
let baseline: { handles: number; heap: number }

/** Back to the site's own racks: a fuzzed registerRack may have added racks nobody serves. */
async function restoreRacks() {
  await harness.call('forgetRacks', { all: true })
  for (const registration of harness.site.registrations) await harness.call('registerRack', registration)
}

beforeAll(async () => {
  harness = await startHarness({
    racks: [
      { type: 'miner-am-s19xp', count: 10 },
      { type: 'container-bd-d40', count: 1 },
    ],
  })
  // Warm every method once, so connections and caches exist before the baseline.
  for (const method of METHODS) await harness.call(method, VALID[method]).catch(() => {})
  await restoreRacks()
  baseline = { handles: process.getActiveResourcesInfo().length, heap: settledHeap() }
})
afterAll(async () => {
  await harness?.close()
})

describe('fuzzing the issue-6 methods', () => {
  it.each(METHODS)('%s answers every random or mutated request with a result or a coded error', async (method) => {
    const seed = 42 + METHODS.indexOf(method)
    const requests = fc.sample(fc.oneof(nastyValue, mutatedRequest(VALID[method])), { numRuns: RUNS_PER_METHOD, seed })
    for (const request of requests) {
      const outcome = await harness.call(method, request, 15_000).then(
        () => null,
        (error: unknown) => error,
      )
      if (outcome === null) continue
      // Only application errors: never a timeout, a closed channel or a crash.
      expect(outcome).toBeInstanceOf(RemoteError)
      // The ork's own errors are codes. forgetThings passes a rack's failure through as the
      // reference does (Q12, Q13): a rack error keeps its own prefix, a transport error its code.
      expect((outcome as RemoteError).message).toMatch(
        method === 'forgetThings'
          ? /^\[HRPC_ERR\]=(ERR_[A-Z0-9_]+$|\[HRPC_ERR\]=|[A-Z_]+: )/
          : /^\[HRPC_ERR\]=ERR_[A-Z0-9_]+$/,
      )
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(await harness.call('getInstanceId')).toBe(harness.ork.instanceId)
    await restoreRacks()
  })

  it('ping, echo and getInstanceId answer any bytes', async () => {
    const payloads = fc.sample(fc.uint8Array({ maxLength: 4096 }), { numRuns: RUNS_PER_METHOD, seed: 7 })
    for (const payload of payloads) {
      const bytes = Buffer.from(payload)
      for (const method of ['ping', 'echo'] as const) {
        const reply = await harness.client.requestRaw(harness.ork.rpcPublicKey, method, bytes, { timeout: 15_000 })
        expect(Buffer.from(reply).equals(bytes)).toBe(true)
      }
    }
    // getInstanceId is a JSON method: any JSON gets the id, other bytes the framing code.
    const instanceId = (payload: Buffer) =>
      harness.client.requestRaw(harness.ork.rpcPublicKey, 'getInstanceId', payload, { timeout: 15_000 }).then(
        (reply) => JSON.parse(Buffer.from(reply).toString()),
        (error: Error) => error.message,
      )
    for (const value of fc.sample(nastyValue, { numRuns: 200, seed: 8 })) {
      expect(await instanceId(Buffer.from(JSON.stringify(value) ?? 'null'))).toBe(harness.ork.instanceId)
    }
    expect(await instanceId(Buffer.from([0xff, 0]))).toBe('[HRPC_ERR]=ERR_FACS_NET_DATA_FORMAT')
  })

  it('refuses payloads nested too deep to encode again, with the method code', async () => {
    // 20,000 levels parse, but stringifying them (to store or forward the request) overflows the stack.
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    const registration = `{"id":"deep","type":"miner-deep","info":{"rpcPublicKey":"${'ab'.repeat(32)}"},"x":${deep}}`
    for (const [method, body] of [
      ['registerRack', registration],
      ['listThings', `{"query":{},"x":${deep}}`],
      ['saveWrkSettings', `{"rackId":"miner-am-s19xp-rack-1","entries":{"a":${deep}}}`],
    ] as const) {
      // requestRaw hands back the reply's bytes: a JSON string carrying the error.
      const reply = await harness.client.requestRaw(harness.ork.rpcPublicKey, method, Buffer.from(body), {
        timeout: 15_000,
      })
      expect(JSON.parse(Buffer.from(reply).toString()), method).toMatch(/^\[HRPC_ERR\]=ERR_[A-Z0-9_]+$/)
    }
    expect(await harness.call('listRacks', { type: 'miner-deep' })).toEqual([])
  })

  it('leaves no handles or memory behind', () => {
    // Timers and sockets come and go with requests; a leak would grow with the 36,000 above.
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(baseline.handles + 10)
    expect(settledHeap() - baseline.heap).toBeLessThan(32 * 1024 * 1024)
  })
})
