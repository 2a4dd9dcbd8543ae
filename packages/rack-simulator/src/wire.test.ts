import { describe, expect, it } from 'vitest'
import { RackModel } from './rack-model.ts'
import { answerRackRequest, GARBAGE_REPLY, type PendingRequests, type RackFaults } from './wire.ts'

const NOW = 1_700_000_000_000
const rack = () => new RackModel({ type: 'container-bd-d40', count: 2, seed: 3, now: () => NOW })
const neverParked: PendingRequests = {
  park: () => Promise.reject(new Error('parked unexpectedly')),
}
const ask = (model: RackModel, method: string, body: unknown, faults: RackFaults = {}, pending = neverParked) =>
  answerRackRequest(model, faults, pending, method, Buffer.from(JSON.stringify(body)))

describe('answerRackRequest', () => {
  it('replies JSON, and errors as the JSON string "[HRPC_ERR]=<code>"', async () => {
    const model = rack()
    const count = await ask(model, 'getThingsCount', {})
    expect(count.toString()).toBe('2')
    const failure = await ask(model, 'queryThing', { id: 'ghost', method: 'switchSocket', params: [] })
    expect(failure.toString()).toBe('"[HRPC_ERR]=ERR_THING_NOTFOUND"')
    const badJson = await answerRackRequest(model, {}, neverParked, 'listThings', Buffer.from('{'))
    expect(JSON.parse(badJson.toString())).toBe('[HRPC_ERR]=ERR_FACS_NET_DATA_FORMAT')
    // A handler returning undefined: the real net facility fails to encode it (libraries.md 4.5).
    const undefinedReply = await ask(model, 'getHistoricalLogs', { logType: 'other' })
    expect(JSON.parse(undefinedReply.toString())).toMatch(/^\[HRPC_ERR\]=The first argument must be of type string/)
  })

  it('echoes echo and ping raw', async () => {
    const reply = await answerRackRequest(rack(), {}, neverParked, 'echo', Buffer.from([1, 2, 3]))
    expect([...reply]).toEqual([1, 2, 3])
    const ping = await answerRackRequest(rack(), {}, neverParked, 'ping', Buffer.from('not json'))
    expect(ping.toString()).toBe('not json')
  })

  it('injects failures, garbage and delays per method', async () => {
    const model = rack()
    const failed = await ask(model, 'listThings', {}, { failMethods: ['listThings'] })
    expect(failed.toString()).toBe('"[HRPC_ERR]=ERR_SIMULATED_FAILURE"')
    expect(await ask(model, 'tailLog', {}, { garbage: ['tailLog'] })).toEqual(GARBAGE_REPLY)
    expect(() => JSON.parse(GARBAGE_REPLY.toString())).toThrow()
    expect((await ask(model, 'getThingsCount', {}, { garbage: ['tailLog'] })).toString()).toBe('2')
    const started = performance.now()
    await ask(model, 'getThingsCount', {}, { delayMs: 30 })
    expect(performance.now() - started).toBeGreaterThanOrEqual(25)
  })

  it('parks requests that never answer until the pending set is released', async () => {
    let release: ((error: Error) => void) | undefined
    const pending: PendingRequests = {
      park: () =>
        new Promise<never>((_resolve, reject) => {
          release = reject
        }),
    }
    let settled = false
    const reply = ask(rack(), 'listThings', {}, { neverAnswer: true }, pending).finally(() => {
      settled = true
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(settled).toBe(false)
    release?.(new Error('ERR_RACK_CLOSED'))
    await expect(reply).rejects.toThrow('ERR_RACK_CLOSED')
  })

  it('reuses encoded read replies until a write changes the rack', async () => {
    const model = rack()
    const request = { status: 1, fields: { id: 1, 'last.snap.stats.status': 1 } }
    const first = await ask(model, 'listThings', request)
    expect(await ask(model, 'listThings', request)).toBe(first)
    const thingId = (JSON.parse(first.toString()) as Array<{ id: string }>)[0]?.id
    await ask(model, 'queryThing', { id: thingId, method: 'switchContainer', params: [false, { actionId: 5 }] })
    const after = await ask(model, 'listThings', request)
    expect(after).not.toBe(first)
    expect(after.toString()).toContain('"stopped"')
  })

  it('reuses getWriteCalls replies until the things change', async () => {
    const model = rack()
    const request = { query: {}, action: 'switchContainer', params: [true] }
    const first = await ask(model, 'getWriteCalls', request)
    expect(await ask(model, 'getWriteCalls', request)).toBe(first)
    const calls = (JSON.parse(first.toString()) as { calls: Array<{ id: string }> }).calls
    expect(calls.length).toBeGreaterThan(0)
    await ask(model, 'forgetThings', { query: { id: calls[0]?.id } })
    const after = JSON.parse((await ask(model, 'getWriteCalls', request)).toString()) as { calls: unknown[] }
    expect(after.calls).toHaveLength(calls.length - 1)
  })
})
