import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isOrkError } from '@ork/errors'
import { silentLogger } from '@ork/logger'
import { RackFanOut, type RackRecord } from '@ork/rack-registry'
import { TRANSPORT_MAX_PAYLOAD_BYTES } from '@ork/rpc-transport'
import type { AggrStatsConfig, TailLogRequest } from '@ork/stats'
import { afterAll, describe, expect, it } from 'vitest'
import { OffThreadAggregation } from '../src/tail-log/off-thread-aggregation.ts'
import { runTailLog, type TailLogDependencies } from '../src/tail-log/run-tail-log.ts'
import { type FakeRequestOptions, replyAsTransport } from './support/fake-transport.ts'

/** Racks answering these reply texts through a transport that hands the bytes to the fan-out's decoder. */
function siteAnswering(replies: Record<string, string>, aggregation: OffThreadAggregation) {
  const racks = Object.keys(replies).map((id) => ({ id, type: 'miner-x', info: { rpcPublicKey: id } }) as RackRecord)
  const transport = {
    request: async (key: string | Buffer, _method: string, _data: unknown, options?: FakeRequestOptions) =>
      replyAsTransport(Buffer.from(replies[String(key)] as string), options),
  }
  const fanOut = new RackFanOut({ transport, logger: silentLogger })
  const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = []
  const logger = {
    ...silentLogger,
    warn: (message: string, fields?: Record<string, unknown>) => warnings.push({ message, fields }),
    child: () => logger,
  }
  const dependencies: TailLogDependencies = {
    aggrStats: () => ({ miner: { ops: { x: { op: 'sum', src: 'x' } } } }) as unknown as AggrStatsConfig,
    aggrCrossthg: () => undefined,
    selectRacks: () => racks,
    allRacks: () => racks,
    maxReplyBytes: TRANSPORT_MAX_PAYLOAD_BYTES,
    fanOut: (selected, method, payload, options) => fanOut.fanOut(selected, method, payload, options),
    aggregation,
    logger,
  }
  return { dependencies, warnings }
}

const request = { type: 'miner', key: 'stat-5m', tag: 't-miner' } as TailLogRequest

describe('tailLog on the aggregation thread', () => {
  const aggregation = new OffThreadAggregation({ logger: silentLogger })
  afterAll(() => aggregation.close())

  it('fails only the racks whose reply the thread cannot decode, and logs each with its code', async () => {
    const { dependencies, warnings } = siteAnswering(
      {
        good: '[{"ts":1,"x":2},{"ts":2,"x":1}]',
        ownToString: '[{"ts":1,"x":100,"toString":1}]',
        truncated: '[{"ts":1,"x":100}',
        alsoGood: ' \n[{"ts":1,"x":3}]',
        empty: '"[HRPC_ERR]=ERR_LOG_NOTFOUND"',
        failing: '"[HRPC_ERR]=ERR_LOG_KEY_NOTFOUND"',
      },
      aggregation,
    )
    const outcome = await runTailLog(dependencies, request)
    expect(outcome.rows).toEqual([
      { ts: 1, aggrTsRange: '', aggrCount: 2, x: 5, aggrIntervals: 1 },
      { ts: 2, aggrTsRange: '', aggrCount: 1, x: 1, aggrIntervals: 1 },
    ])
    expect(outcome).toMatchObject({ answeredRacks: 3, failedRacks: 3 })
    const failures = warnings
      .filter((warning) => warning.message === 'rack request failed')
      .map(({ fields }) => [fields?.rackId, (fields?.error as { code?: string } | undefined)?.code])
    expect(failures).toHaveLength(3)
    expect(failures).toEqual(
      expect.arrayContaining([
        ['ownToString', 'ERR_FACS_NET_DATA_FORMAT'],
        ['truncated', 'ERR_FACS_NET_DATA_FORMAT'],
        ['failing', undefined],
      ]),
    )
  })

  it('aggregates a bare value a rack answers as the one item it is, as the reference', async () => {
    const { dependencies } = siteAnswering(
      { object: '{"ts":7,"x":1}', number: '5', list: '[{"ts":7,"x":2}]' },
      aggregation,
    )
    const { rows } = await runTailLog(dependencies, request)
    expect(rows).toEqual([
      { ts: 7, aggrTsRange: '', aggrCount: 2, x: 3, aggrIntervals: 1 },
      { ts: undefined, aggrTsRange: '', aggrCount: 1, x: 0, aggrIntervals: 0 },
    ])
  })

  it('carries a coded error the aggregation throws back to the caller', async () => {
    // Every item in all 5,000 overlapping ranges: more copies than MAX_AGGR_TIMES_COPIES.
    const ranges = Array.from({ length: 5_000 }, () => ({ start: 0, end: 100 }))
    const many = Array.from({ length: 50 }, (_, index) => `{"ts":${index},"x":1}`).join(',')
    const { dependencies: busy } = siteAnswering({ rack: `[${many}]` }, aggregation)
    const error = await runTailLog(busy, { ...request, aggrTimes: ranges } as TailLogRequest).catch((caught) => caught)
    expect(isOrkError(error, 'ERR_AGGR_TIMES_INVALID')).toBe(true)
  })
})

describe('an aggregation thread that stops', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ork-thread-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('fails the tailLog waiting on it with ERR_TAIL_LOG_AGGREGATION_FAILED; the next tailLog gets a new thread', async () => {
    process.env.ORK_TEST_STOP_MARKER = join(scratch, 'stopped-once')
    const errors: string[] = []
    const logger = { ...silentLogger, error: (message: string) => errors.push(message), child: () => logger }
    const aggregation = new OffThreadAggregation({
      logger,
      script: new URL('./support/thread-stopping-once.mjs', import.meta.url),
    })
    try {
      const { dependencies } = siteAnswering({ rack: '[{"ts":1,"x":4}]' }, aggregation)
      const error = await runTailLog(dependencies, request).catch((caught) => caught)
      expect(isOrkError(error, 'ERR_TAIL_LOG_AGGREGATION_FAILED')).toBe(true)
      expect(errors).toEqual(['tailLog aggregation thread stopped; the next tailLog starts another'])
      const { rows } = await runTailLog(dependencies, request)
      expect(rows).toEqual([{ ts: 1, aggrTsRange: '', aggrCount: 1, x: 4, aggrIntervals: 1 }])
    } finally {
      delete process.env.ORK_TEST_STOP_MARKER
      await aggregation.close()
    }
  })

  it('refuses to start a run once closed', async () => {
    const aggregation = new OffThreadAggregation({ logger: silentLogger })
    await aggregation.close()
    expect(() => aggregation.begin()).toThrow('ERR_ORK_CLOSING')
  })
})
