import { OrkError } from '@ork/errors'
import { createLogger } from '@ork/logger'
import type { FanOutResult, RackRecord } from '@ork/rack-registry'
import { describe, expect, it } from 'vitest'
import { concatSwallowingFailures, countReplyCheck, refuseMalformedReplies } from './fan-out-policies.ts'

const rack = (id: string) => ({ id, type: 'miner-am', info: { rpcPublicKey: 'ab'.repeat(32) } }) as RackRecord

describe('concatSwallowingFailures', () => {
  it('merges answers in rack order, and logs each failed rack with its id, code and reason', () => {
    const lines: string[] = []
    const logger = createLogger('ork', { write: (line) => lines.push(line), debug: '' })
    const reason = 'reply nested deeper than 512 levels'
    const results: FanOutResult[] = [
      { rack: rack('r1'), ok: true, value: [{ id: 'a' }, { id: 'b' }] },
      { rack: rack('r2'), ok: false, error: new OrkError('ERR_FACS_NET_DATA_FORMAT', { reason }) },
      { rack: rack('r3'), ok: true, value: { id: 'c' } },
    ]
    expect(concatSwallowingFailures(results, 'listThings', logger)).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }])
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'rack request failed',
        method: 'listThings',
        rackId: 'r2',
        error: { message: 'ERR_FACS_NET_DATA_FORMAT', code: 'ERR_FACS_NET_DATA_FORMAT', details: { reason } },
      }),
    ])
  })
})

describe('refuseMalformedReplies', () => {
  const answered = (value: unknown): FanOutResult => ({ rack: rack('r1'), ok: true, value })
  const refusal = (value: unknown, check: Parameters<typeof refuseMalformedReplies>[1]) => {
    const result = refuseMalformedReplies([answered(value)], check)[0] as FanOutResult
    return result.ok ? null : (result.error as OrkError).code
  }

  it("turns a reply the method cannot use into that rack's ERR_RACK_REPLY_INVALID failure", () => {
    const failed: FanOutResult = { rack: rack('r2'), ok: false, error: new Error('CHANNEL_CLOSED') }
    expect(refuseMalformedReplies([failed], countReplyCheck)).toEqual([failed])
    for (const count of [0, 1, 42]) expect(refusal(count, countReplyCheck)).toBeNull()
    for (const notCount of [-1, 1.5, 1e308, '1', null, {}]) {
      expect(refusal(notCount, countReplyCheck)).toBe('ERR_RACK_REPLY_INVALID')
    }
  })
})
